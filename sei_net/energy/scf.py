"""GFN2-xTB SCF that does not give up on the first guess.

tblite's ASE calculator starts each SCF from the previous geometry's converged density. Along an
optimisation or a NEB band that guess can be poor (another spin or charge distribution), and the
SCF then fails to converge in 500 cycles at a geometry where it converges at once from scratch
(a failing image of a concerted-shift NEB, re-run alone, converges in 0.02 s). On such a failure
this calculator tries again:

1. from the superposition of atomic densities (tblite's own default guess);
2. from a density converged with hot electrons (``HOT_ELECTRONS_K``), then back at the standard
   electronic temperature from that density.

Every energy and force it returns is converged at the standard electronic temperature (300 K):
the level of theory does not change, only the starting density. ``rescues`` counts the retries
that succeeded.
"""

from __future__ import annotations

from ase.calculators.calculator import CalculationFailed, all_changes
from ase.units import Bohr, Hartree, kB
from tblite.ase import TBLite

#: electronic temperatures (K) of the guess densities tried after a fresh start fails
HOT_ELECTRONS_K = (3000.0, 10000.0)


class RescuedTBLite(TBLite):
    """``tblite.ase.TBLite`` with the SCF retries of the module docstring."""

    rescues = 0

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        try:
            super().calculate(atoms, properties, system_changes)
            return
        except CalculationFailed as first:
            failure = first
        api = self._xtb
        if api is None:
            raise failure
        standard = self.parameters.electronic_temperature * kB / Hartree
        for hot in (None, *HOT_ELECTRONS_K):
            try:
                guess = None
                if hot is not None:
                    api.set("temperature", hot * kB / Hartree)
                    guess = api.singlepoint()
                    api.set("temperature", standard)
                result = api.singlepoint(guess)
            except RuntimeError:
                api.set("temperature", standard)
                continue
            self._store(result)
            self.rescues += 1
            return
        raise failure

    def _store(self, res: dict) -> None:
        """The results of a converged API single point, in ASE units (as ``TBLite.calculate``)."""
        self._res = res
        self.results["energy"] = res["energy"] * Hartree
        self.results["energies"] = res["energies"] * Hartree
        self.results["free_energy"] = self.results["energy"]
        self.results["forces"] = -res["gradient"] * Hartree / Bohr
        self.results["charges"] = res["charges"]
        self.results["dipole"] = res["dipole"] * Bohr
        self.results["bond-orders"] = res["bond-orders"]
