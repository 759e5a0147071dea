"""The SCF rescue: a failed GFN2-xTB SCF is retried from tblite's fresh guess, and what it returns is
the solution a run that never failed finds."""

import pytest

pytest.importorskip("tblite")

from ase.build import molecule  # noqa: E402
from ase.calculators.calculator import CalculationFailed  # noqa: E402
from tblite.interface import Calculator as TbliteApi  # noqa: E402

from sei_net.energy.scf import RescuedTBLite  # noqa: E402


def ethanol():
    atoms = molecule("CH3CH2OH")
    atoms.calc = RescuedTBLite(method="GFN2-xTB", gbe_solvation=(18.5, "still"), verbosity=0)
    return atoms


def failing_first(monkeypatch, n_failures: int) -> None:
    """Make the first ``n_failures`` SCF calls of the tblite API fail as an unconverged SCF does."""
    real = TbliteApi.singlepoint
    calls = {"n": 0}

    def singlepoint(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= n_failures:
            raise RuntimeError("SCF not converged in 500 cycles")
        return real(self, *args, **kwargs)
    monkeypatch.setattr(TbliteApi, "singlepoint", singlepoint)


@pytest.fixture(scope="module")
def reference():
    atoms = ethanol()
    return atoms.get_potential_energy(), atoms.get_forces()


def test_a_failed_scf_is_rescued_to_the_fresh_solution(monkeypatch, reference):
    failing_first(monkeypatch, 1)
    atoms = ethanol()
    energy = atoms.get_potential_energy()
    assert atoms.calc.rescues == 1
    assert energy == pytest.approx(reference[0], abs=1e-6)               # eV: the solution a fresh run finds
    assert atoms.get_forces() == pytest.approx(reference[1], abs=1e-5)   # eV/Å


def test_an_scf_that_fails_from_the_fresh_guess_too_still_fails(monkeypatch):
    failing_first(monkeypatch, 2)
    atoms = ethanol()
    with pytest.raises(CalculationFailed, match="SCF not converged"):
        atoms.get_potential_energy()
