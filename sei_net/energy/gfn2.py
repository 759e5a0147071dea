"""GFN2-xTB oracle (tblite's ASE calculator) with implicit solvation for carbonate electrolytes.

Solvation: generalized Born with the dielectric constant alone (tblite "gbe", Still kernel,
epsilon = 18.5). 18.5 is the dielectric constant LIBE and the mrnet/RNMC networks used for their SMD
model of 3:7 EC:EMC (Spotte-Smith et al., Sci. Data 2021), so that GFN2 and those DFT labels describe
the same medium. tblite's parametrised ALPB/GBSA have no carbonate solvent and its ddX CPCM costs
~30x more per gradient, too slow for thousands of species (measured: 80-140 ms vs 3-9 ms per EC
gradient on one core).

Procedure per species: up to ``n_conformers`` starting geometries (ETKDG + MMFF/UFF), each optimised
with ASE BFGS to fmax 0.02 eV/Å (at most 400 steps), bond-graph check; the lowest energy among those
that kept the whole graph is taken (else among those that kept the covalent graph, flagged
``coordination_changed``; else the species failed as rearranged). Then a finite-difference Hessian
and the free energy (sei_net.energy.thermo).
"""

from __future__ import annotations

import os
import time

import numpy as np

from sei_net.chem.species import Species
from sei_net.energy.geometry import graph_check, starting_geometries
from sei_net.energy.record import EnergyRecord
from sei_net.energy.thermo import THERMO_APPROXIMATION, free_energy

DIELECTRIC = 18.5
FMAX = 0.02          # eV/Å
MAX_STEPS = 400


def conformer_count(n: int) -> str:
    """The conformer part of a level-of-theory string: '1 conformer', '3 conformers'."""
    return f"{n} conformer" + ("" if n == 1 else "s")


class GFN2Oracle:
    """GFN2-xTB free energies in a GB(epsilon = 18.5) continuum, eV."""

    name = "gfn2"

    def __init__(self, n_conformers: int = 3, temperature: float = 298.15, hessian: bool = True,
                 seed: int = 0):
        self.n_conformers = int(n_conformers)
        self.temperature = float(temperature)
        self.hessian = bool(hessian)
        self.seed = int(seed)
        thermo = "qRRHO" if hessian else "E only"
        self.level_of_theory = (f"GFN2-xTB/GBE(eps={DIELECTRIC},Still)//same; {thermo}; "
                                f"{conformer_count(self.n_conformers)}; T={self.temperature} K")

    def settings(self) -> dict:
        return {"n_conformers": self.n_conformers, "temperature": self.temperature,
                "hessian": self.hessian, "seed": self.seed}

    def _calculator(self, species: Species):
        """tblite's GFN2-xTB with GB solvation, retrying a failed SCF once from a fresh guess (``scf``)."""
        from sei_net.energy.scf import RescuedTBLite

        return RescuedTBLite(method="GFN2-xTB", charge=species.charge, multiplicity=species.multiplicity,
                             gbe_solvation=(DIELECTRIC, "still"), verbosity=0, max_iterations=500)

    def compute(self, species: Species) -> EnergyRecord:
        """Label one species; never raises for chemistry problems (they become failed records)."""
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        t0 = time.perf_counter()
        rec = EnergyRecord(species.key, self.level_of_theory, "failed", temperature=self.temperature)
        try:
            self._compute(species, rec)
        except Exception as err:  # noqa: BLE001 - SCF failures and embedding failures are data here
            rec.status, rec.E, rec.G = "failed", None, None
            rec.reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
        rec.seconds = round(time.perf_counter() - t0, 3)
        return rec

    def _compute(self, species: Species, rec: EnergyRecord) -> None:
        from ase.optimize import BFGS

        best: dict[str, tuple[float, np.ndarray]] = {}
        outcomes, errors = [], []
        for coords in starting_geometries(species, self.n_conformers, self.seed):
            trial = species.with_coords(coords).to_ase()
            trial.calc = self._calculator(species)
            converged = True
            try:
                if species.n_atoms > 1:
                    opt = BFGS(trial, logfile=None)
                    converged = bool(opt.run(fmax=FMAX, steps=MAX_STEPS))
                energy = float(trial.get_potential_energy())
            except Exception as err:  # noqa: BLE001 - one conformer's SCF failure does not fail the others
                errors.append(err)
                outcomes.append({"status": "failed", "reason": f"{type(err).__name__}: {str(err)[:200]}"})
                continue
            status, _ = graph_check(species, trial.get_positions())
            outcomes.append({"status": status, "E": energy, "converged": converged,
                             "scf_rescues": trial.calc.rescues})
            if converged and status != "rearranged" and (status not in best or energy < best[status][0]):
                best[status] = (energy, trial.get_positions().copy())
        rec.data["conformers"] = outcomes
        chosen = "ok" if "ok" in best else ("coordination_changed" if best else None)
        if chosen is None:
            if len(errors) == len(outcomes):
                raise errors[0]
            why = "rearranged during optimisation" if any(o["status"] == "rearranged" for o in outcomes) \
                else "optimisation did not converge"
            if not errors:
                raise RuntimeError(f"{why} in all {len(outcomes)} conformers")
            first = next(o["reason"] for o in outcomes if o["status"] == "failed")
            raise RuntimeError(f"{why} in {len(outcomes) - len(errors)} of {len(outcomes)} conformers; "
                               f"the others failed ({first})")
        energy, coords = best[chosen]
        atoms = species.with_coords(coords).to_ase()
        atoms.calc = self._calculator(species)
        rec.E = float(atoms.get_potential_energy())
        rec.coords = coords.round(6).tolist()
        if self.hessian:
            thermo = free_energy(atoms, rec.E, species.multiplicity, self.temperature)
            rec.G = thermo.pop("G")
            rec.data.update(thermo, thermo_approximation=THERMO_APPROXIMATION)
        else:
            rec.G = rec.E
            rec.data["thermo_approximation"] = "none: G = E"
        rec.status = chosen
        if chosen == "coordination_changed":
            rec.reason = "a metal cation moved to other donor atoms during optimisation"
