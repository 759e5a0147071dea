"""DFT single points on the GFN2-xTB geometry (PySCF): a small correction and validation set.

Level of theory: B3LYP (libxc 402, the VWN-RPA form Gaussian uses) / def2-SVP with IEF-PCM at
epsilon = 18.5, the dielectric the GFN2 oracle and the LIBE/mrnet/RNMC DFT labels use for 3:7
EC:EMC, on the lowest GFN2 structure that kept the species' graph; restricted Kohn-Sham for
singlets, unrestricted otherwise. The free energy is the composite
G = E(DFT) + [G - E](GFN2), i.e. GFN2's quasi-RRHO thermal and entropy correction at the GFN2
geometry (sei_net.energy.thermo): cheap, and the usual DFT//xTB approximation. Energies in eV.

Install with the ``dft`` extra (``pip install sei_net[dft]``). A single point costs seconds for the
smallest species and minutes at ~20 atoms on one core: this oracle is for a validation set of
hundreds of species, not for whole networks.
"""

from __future__ import annotations

import os
import time

from sei_net.chem.species import Species
from sei_net.constants import HARTREE_EV
from sei_net.energy.gfn2 import DIELECTRIC, GFN2Oracle
from sei_net.energy.record import EnergyRecord

MAX_SCF_CYCLES = 200


class PySCFOracle:
    """B3LYP/def2-SVP/IEF-PCM(eps = 18.5) single points on GFN2-xTB geometries, eV."""

    name = "pyscf"

    def __init__(self, n_conformers: int = 3, temperature: float = 298.15, seed: int = 0,
                 xc: str = "b3lyp", basis: str = "def2-svp", max_scf_cycles: int = MAX_SCF_CYCLES):
        self.geometry_oracle = GFN2Oracle(n_conformers=n_conformers, temperature=temperature, seed=seed)
        self.xc, self.basis, self.max_scf_cycles = xc, basis, int(max_scf_cycles)
        self.level_of_theory = (f"{xc.upper()}/{basis}/IEF-PCM(eps={DIELECTRIC})//"
                                f"{self.geometry_oracle.level_of_theory}; G = E + [G - E](GFN2)")

    @property
    def temperature(self) -> float:
        """K, the GFN2 thermal correction's."""
        return self.geometry_oracle.temperature

    def settings(self) -> dict:
        geo = self.geometry_oracle.settings()
        return {"n_conformers": geo["n_conformers"], "temperature": geo["temperature"], "seed": geo["seed"],
                "xc": self.xc, "basis": self.basis, "max_scf_cycles": self.max_scf_cycles}

    def compute(self, species: Species) -> EnergyRecord:
        """GFN2 geometry and thermal correction, then the DFT single point on that geometry."""
        base = self.geometry_oracle.compute(species)
        rec = self.refine(species, base)
        rec.seconds = round(rec.seconds + base.seconds, 3)
        return rec

    def refine(self, species: Species, base: EnergyRecord) -> EnergyRecord:
        """The DFT record of ``species`` on an existing GFN2 record's geometry (no GFN2 work; seconds
        count the single point only). A failed base record, or an SCF that does not converge, gives a
        failed record with the reason; never raises for chemistry problems."""
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        rec = EnergyRecord(species.key, self.level_of_theory, "failed", temperature=self.temperature,
                           data={"geometry_level_of_theory": base.level_of_theory})
        if base.status == "failed" or base.coords is None or base.G is None or base.E is None:
            rec.reason = f"no GFN2 geometry: {base.reason or base.status}"[:300]
            return rec
        t0 = time.perf_counter()
        try:
            energy, cycles = self._single_point(species, base.coords)
        except Exception as err:  # noqa: BLE001 - SCF and basis problems are data here
            rec.reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
        else:
            if energy is None:
                rec.reason = f"DFT SCF not converged in {self.max_scf_cycles} cycles"
            else:
                correction = base.G - base.E
                rec.status, rec.E, rec.G = base.status, energy, energy + correction
                rec.coords = base.coords
                rec.data.update(thermal_correction=correction, scf_cycles=cycles,
                                thermo_approximation=base.data.get("thermo_approximation", ""))
                if base.status == "coordination_changed":
                    rec.reason = base.reason
        rec.seconds = round(time.perf_counter() - t0, 3)
        return rec

    def _single_point(self, species: Species, coords) -> tuple[float | None, int]:
        """(energy in eV or None when the SCF did not converge, SCF cycles)."""
        from pyscf import dft, gto, lib

        lib.num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        mol = gto.M(atom=[(el, tuple(xyz)) for el, xyz in zip(species.elements, coords)], basis=self.basis,
                    charge=species.charge, spin=species.multiplicity - 1, unit="Angstrom", verbose=0)
        mf = (dft.RKS if species.multiplicity == 1 else dft.UKS)(mol)
        mf.xc = self.xc
        mf.max_cycle = self.max_scf_cycles
        mf = mf.PCM()
        mf.with_solvent.method = "IEF-PCM"
        mf.with_solvent.eps = DIELECTRIC
        cycles = []
        mf.callback = lambda env: cycles.append(env.get("cycle", 0))
        energy = mf.kernel()
        return (float(energy) * HARTREE_EV if mf.converged else None), len(cycles)
