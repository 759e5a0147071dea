"""Free energies from a finite-difference Hessian: ideal gas, rigid rotor, quasi-harmonic oscillator.

Approximation (stated in every record): harmonic frequencies from central differences of the
analytical GFN2-xTB forces (ASE Vibrations, 0.01 Å steps); real frequencies below 100 cm-1 raised to
100 cm-1 for ZPE, enthalpy and entropy (Truhlar's quasi-harmonic correction, J. Phys. Chem. B 2011,
115, 14556); imaginary modes (counted, reported as negative frequencies) are treated like the lowest
real ones, at 100 cm-1; symmetry number 1; ideal-gas translation at 1 atm,
then shifted to the 1 mol/L standard state by kT ln(24.46) (RT/p at 298.15 K in L/mol).
"""

from __future__ import annotations

import tempfile

import numpy as np

from sei_net.constants import BOLTZMANN_EV as KB_EV

QUASI_HARMONIC_CUTOFF_CM = 100.0
CM_TO_EV = 1.239841984e-4
THERMO_APPROXIMATION = ("RRHO ideal gas, quasi-harmonic (modes < 100 cm-1 raised to 100 cm-1), "
                        "imaginary modes at 100 cm-1, symmetry number 1, 1 mol/L standard state")


def standard_state_correction(temperature: float) -> float:
    """kT ln(c0 R T / p0) (eV): moves an ideal-gas G from 1 atm to 1 mol/L at ``temperature`` (K)."""
    return KB_EV * temperature * np.log(24.46 * temperature / 298.15)


def free_energy(atoms, energy: float, multiplicity: int, temperature: float,
                transition_state: bool = False) -> dict:
    """G (eV) and its parts for ``atoms`` (with a calculator, at a stationary point of energy
    ``energy``). With ``transition_state``, the largest imaginary mode is the reaction coordinate:
    it is left out of the vibrational partition function and reported as ``imaginary_cm``."""
    from ase.thermochemistry import IdealGasThermo
    from ase.vibrations import Vibrations

    n = len(atoms)
    spin = (multiplicity - 1) / 2
    if n == 1:
        geometry, vib = "monatomic", np.zeros(0)
        n_imag, frequencies = 0, []
    else:
        with tempfile.TemporaryDirectory() as tmp:
            vibrations = Vibrations(atoms, name=f"{tmp}/vib", delta=0.01, nfree=2)
            vibrations.run()
            energies = np.asarray(vibrations.get_energies())
        inertia = np.sort(atoms.get_moments_of_inertia())
        geometry = "linear" if n == 2 or inertia[0] < 1e-3 * inertia[-1] else "nonlinear"
        n_modes = 3 * n - (5 if geometry == "linear" else 6)
        # keep the 3N-6 (3N-5) modes of largest magnitude; the rest are translations/rotations
        modes = energies[np.argsort(-np.abs(energies))][:n_modes]
        imaginary = np.array([abs(e.imag) > abs(e.real) for e in modes], dtype=bool)
        n_imag = int(imaginary.sum())
        real = np.where(imaginary, 0.0, np.real(modes))
        frequencies = sorted((np.where(imaginary, -np.abs(np.imag(modes)), real) / CM_TO_EV).round(1).tolist())
        vib = np.maximum(real, QUASI_HARMONIC_CUTOFF_CM * CM_TO_EV)  # imaginary modes -> the cutoff
        imaginary_cm = None
        if transition_state and n_imag:
            k = int(np.argmax(np.where(imaginary, np.abs(np.imag(modes)), -1.0)))
            imaginary_cm = float(-abs(np.imag(modes[k])) / CM_TO_EV)
    thermo = IdealGasThermo(vib_energies=vib, geometry=geometry, potentialenergy=energy, atoms=atoms,
                            symmetrynumber=1, spin=spin)
    g_gas = thermo.get_gibbs_energy(temperature=temperature, pressure=101325.0, verbose=False)
    if transition_state and n > 1 and imaginary_cm is not None:
        # the reaction coordinate is not a vibration: remove its (cutoff-frequency) oscillator,
        # G_mode = e/2 + kT ln(1 - exp(-e/kT)); ASE's IdealGasThermo insists on 3N-6 modes
        e_cut = QUASI_HARMONIC_CUTOFF_CM * CM_TO_EV
        g_gas -= e_cut / 2 + KB_EV * temperature * np.log(1 - np.exp(-e_cut / (KB_EV * temperature)))
    standard_state = standard_state_correction(temperature)
    return {"G": float(g_gas + standard_state), "zpe": float(thermo.get_ZPE_correction()),
            "entropy": float(thermo.get_entropy(temperature, 101325.0, verbose=False)),
            "n_imaginary": int(n_imag), "frequencies_cm": frequencies, "geometry": geometry,
            **({"imaginary_cm": imaginary_cm} if transition_state and n > 1 else {}),
            "standard_state_correction": float(standard_state)}
