"""Free energies at another temperature: G(T) from G(298.15 K) with an entropy and heat-capacity model.

Every species free energy in a network (oracle label or surrogate) is at the reference temperature
298.15 K. At another temperature T, with the entropy S and heat capacity Cp of the species at the
reference (ideal gas at 1 atm, the oracle's quasi-RRHO treatment, ``energy.thermo``) held constant:

    G(T) = G(T0) - S (T - T0) + Cp [(T - T0) - T ln(T / T0)] + [kT ln(24.46 T / T0) - kT0 ln(24.46)]

The last bracket moves the 1 mol/L standard-state correction (``energy.thermo``) to T. Against
ASE's ideal-gas thermochemistry recomputed from 400 labels' frequencies the formula is within
1 meV from 253 to 373 K (the first-order form without Cp is off by up to 15 meV at 373 K;
``examples/thermal_check.py``).

S and Cp come from a group-additivity model fitted on the oracle labels' frequencies
(``fit_thermal_model``, shipped as ``sei_net/data/models/thermal_gfn2.json``): the translational
(Sackur-Tetrode) and electronic (k ln(2S+1)) parts are exact from the mass and multiplicity; the
rest (none for an atom) is linear in a constant, ln(mass), the atom count, rotatable bonds, ring bonds,
coordination bonds and element counts. Units: eV/K for S and Cp, eV for G, K for T.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from sei_net.chem.graph import smallest_ring_sizes
from sei_net.constants import BOLTZMANN_EV as KB_EV
from sei_net.energy.thermo import CM_TO_EV, QUASI_HARMONIC_CUTOFF_CM, standard_state_correction

#: temperature of every stored species free energy (K)
REFERENCE_TEMPERATURE = 298.15
#: elements the additivity model has a count for; the labels hold no others
ELEMENTS = ("H", "C", "O", "F", "Li", "P")
FEATURES = ("polyatomic", "polyatomic ln(mass/amu)", "atoms", "rotatable bonds", "ring bonds",
            "coordination bonds") + tuple(f"n({e})" for e in ELEMENTS)
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "data" / "models" / "thermal_gfn2.json"
_AMU_KG = 1.66053906660e-27
_K_J = 1.380649e-23
_H_JS = 6.62607015e-34


def free_energy_shift(S: np.ndarray | float, Cp: np.ndarray | float, temperature: float,
                      reference: float = REFERENCE_TEMPERATURE) -> np.ndarray | float:
    """G(T) - G(T0) in eV at 1 mol/L for species of entropy ``S`` and heat capacity ``Cp``
    (eV/K, ideal gas at 1 atm and T0; constant between T0 and T)."""
    T, T0 = float(temperature), float(reference)
    standard_state = standard_state_correction(T) - standard_state_correction(T0)
    return -np.asarray(S) * (T - T0) + np.asarray(Cp) * ((T - T0) - T * np.log(T / T0)) + standard_state


def translational_entropy(mass_amu: float, temperature: float = REFERENCE_TEMPERATURE,
                          pressure: float = 101325.0) -> float:
    """Sackur-Tetrode entropy (eV/K) of an ideal gas of this molecular mass at ``pressure`` (Pa)."""
    m = mass_amu * _AMU_KG
    volume_per_particle = _K_J * temperature / pressure
    thermal_wavelength_cubed = (_H_JS ** 2 / (2 * np.pi * m * _K_J * temperature)) ** 1.5
    return KB_EV * (np.log(volume_per_particle / thermal_wavelength_cubed) + 2.5)


def heat_capacity(frequencies_cm: Sequence[float], geometry: str,
                  temperature: float = REFERENCE_TEMPERATURE) -> float:
    """Ideal-gas Cp (eV/K) from harmonic frequencies (cm-1) with the oracle's quasi-RRHO treatment:
    modes below 100 cm-1 and imaginary ones at 100 cm-1; translation 5/2 k (with pV), rotation
    k (linear) or 3/2 k (nonlinear), none for an atom."""
    rotation = {"monatomic": 0.0, "linear": 1.0, "nonlinear": 1.5}
    if geometry not in rotation:
        raise ValueError(f"geometry {geometry!r} is not valid; give monatomic, linear or nonlinear")
    f = np.asarray(frequencies_cm, float)
    x = np.maximum(np.where(f < 0, 0.0, f), QUASI_HARMONIC_CUTOFF_CM) * CM_TO_EV / (KB_EV * temperature)
    vibration = float(np.sum(x ** 2 * np.exp(x) / np.expm1(x) ** 2)) if len(x) else 0.0
    return KB_EV * (2.5 + rotation[geometry] + vibration)


def exact_parts(species) -> tuple[float, float]:
    """The parts of (S, Cp) the graph gives exactly (eV/K): translation (Sackur-Tetrode at 1 atm)
    plus electronic spin entropy k ln(2S+1); translational Cp 5/2 k."""
    return translational_entropy(species.mass) + KB_EV * np.log(species.multiplicity), 2.5 * KB_EV


def thermal_features(species) -> np.ndarray:
    """The additivity features (``FEATURES``) of one species from its graph."""
    elements = species.elements
    if len(elements) == 1:  # an atom: translation and spin are all of it (exact_parts)
        return np.zeros(len(FEATURES))
    unknown = sorted(set(elements) - set(ELEMENTS))
    if unknown:
        raise ValueError(f"species {species.key} has element(s) {', '.join(unknown)} the thermal model "
                         f"has no count for; valid: {', '.join(ELEMENTS)}")
    n = len(elements)
    covalent = [(i, j) for i, j, kind in species.bonds if kind == 0]
    degree = np.zeros(n, int)
    for i, j in covalent:
        degree[i] += 1
        degree[j] += 1
    in_ring = [size > 0 for size in smallest_ring_sizes(n, covalent)]
    rotatable = sum(1 for (i, j), ring in zip(covalent, in_ring) if not ring and degree[i] > 1 and degree[j] > 1)
    coordination = len(species.bonds) - len(covalent)
    return np.array([1.0, np.log(species.mass), n, rotatable, sum(in_ring), coordination]
                    + [elements.count(e) for e in ELEMENTS], float)


@dataclass
class ThermalModel:
    """Linear additivity model of S and Cp (eV/K, ideal gas at 1 atm, ``reference`` K) beyond their
    exact parts; ``measured`` holds its held-out errors and ``level_of_theory`` the labels'."""

    S_coef: list[float]
    Cp_coef: list[float]
    level_of_theory: str
    measured: dict | None = None

    def predict(self, species: Iterable) -> tuple[np.ndarray, np.ndarray]:
        """(S, Cp) in eV/K for each species."""
        species = list(species)
        if not species:
            return np.zeros(0), np.zeros(0)
        X = np.array([thermal_features(s) for s in species])
        exact = np.array([exact_parts(s) for s in species])
        return exact[:, 0] + X @ np.asarray(self.S_coef), exact[:, 1] + X @ np.asarray(self.Cp_coef)

    def save(self, path: str | Path) -> None:
        fields = asdict(self)
        measured = fields.pop("measured")
        Path(path).write_text(json.dumps({**fields, "reference": REFERENCE_TEMPERATURE, "features": list(FEATURES),
                                          "measured": measured}, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> "ThermalModel":
        d = json.loads(Path(path).read_text())
        if tuple(d["features"]) != FEATURES or d["reference"] != REFERENCE_TEMPERATURE:
            raise ValueError(f"thermal model {path} was fitted on features {d['features']} at {d['reference']} K; "
                             f"this sei_net computes {list(FEATURES)} at {REFERENCE_TEMPERATURE} K: refit it "
                             "(scripts/fit_thermal_model.py)")
        return cls(d["S_coef"], d["Cp_coef"], d["level_of_theory"], d.get("measured"))


def fit_thermal_model(species: Sequence, entropy: Sequence[float], cp: Sequence[float],
                      level_of_theory: str) -> ThermalModel:
    """Least-squares additivity coefficients for S and Cp (eV/K at 298.15 K) beyond their exact parts."""
    if not len(species) == len(entropy) == len(cp) or not species:
        raise ValueError("fit_thermal_model needs one entropy and one Cp per species, and at least one species")
    X = np.array([thermal_features(s) for s in species])
    exact = np.array([exact_parts(s) for s in species])
    s_coef = np.linalg.lstsq(X, np.asarray(entropy, float) - exact[:, 0], rcond=None)[0]
    cp_coef = np.linalg.lstsq(X, np.asarray(cp, float) - exact[:, 1], rcond=None)[0]
    return ThermalModel(s_coef.tolist(), cp_coef.tolist(), level_of_theory)
