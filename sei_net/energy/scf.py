"""GFN2-xTB SCF that does not give up on the previous geometry's guess.

tblite's ASE calculator starts each SCF from the previous geometry's converged density. Along an
optimisation or a NEB band that guess can be poor, and the SCF then fails to converge in 500 cycles
at a geometry where it converges at once from scratch (a failing image of a concerted-shift NEB,
re-run alone, converges in 0.02 s). On such a failure this calculator tries once more from the
superposition of atomic densities, tblite's own guess for a new calculation, so the result is the
one a fresh run at that geometry gives. ``rescues`` counts the retries that succeeded.

Hot-electron guesses (a density converged at 3000-10000 K, then reconverged at 300 K) were tried
too and dropped. On 13 concerted NEBs that had failed on SCF, neither guess recovered a barrier:
with either, most bands converged but then failed the NEB's path check (images 4-18 eV above
both ends). The fresh guess stays because its solution is the one any new calculation at that
geometry finds; the hot one would add a second kind of solution for no gain.
"""

from __future__ import annotations

from ase.calculators.calculator import CalculationFailed, all_changes
from tblite.ase import TBLite


class RescuedTBLite(TBLite):
    """``tblite.ase.TBLite`` with the SCF retry of the module docstring."""

    rescues = 0

    def calculate(self, atoms=None, properties=None, system_changes=all_changes) -> None:
        try:
            super().calculate(atoms, properties, system_changes)
            return
        except CalculationFailed as failure:
            self._res = None                  # tblite's next SCF starts from atomic densities
            try:
                super().calculate(atoms, properties, system_changes)
            except CalculationFailed:
                raise failure from None
        self.rescues += 1
