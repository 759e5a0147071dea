"""Starting geometries: n requested conformers are n different structures, for every seed; the
committed GFN2 labels are one-conformer labels, as their level of theory says."""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from sei_net.chem import Species
from sei_net.energy.geometry import starting_geometries
from sei_net.energy.gfn2 import GFN2Oracle

DIETHYL_CARBONATE = Species.from_smiles("CCOC(=O)OCC")   # four rotatable bonds


def distance_matrix(xyz: np.ndarray) -> np.ndarray:
    """Interatomic distances (Å): the same for a structure and any rotation of it."""
    return np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_conformers_of_a_flexible_species_are_distinct_structures(seed):
    # RDKit seed 0 makes every conformer the same (rdkit/rdkit#1738); seed 0 must not reach it
    confs = starting_geometries(DIETHYL_CARBONATE, 3, seed)
    assert len(confs) == 3
    d = [distance_matrix(np.asarray(c)) for c in confs]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.abs(d[i] - d[j]).max() > 0.1, f"conformers {i} and {j} of seed {seed} are one structure"


def test_the_same_seed_gives_the_same_conformers_and_another_seed_others():
    a, b = starting_geometries(DIETHYL_CARBONATE, 2, 0), starting_geometries(DIETHYL_CARBONATE, 2, 0)
    assert all(np.allclose(x, y) for x, y in zip(a, b))
    other = starting_geometries(DIETHYL_CARBONATE, 2, 5)
    assert not np.allclose(distance_matrix(np.asarray(a[1])), distance_matrix(np.asarray(other[1])), atol=1e-3)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match="seed must be >= 0"):
        starting_geometries(DIETHYL_CARBONATE, 3, -1)


def test_level_of_theory_counts_the_conformers():
    assert "; 1 conformer;" in GFN2Oracle(n_conformers=1).level_of_theory
    assert "; 3 conformers;" in GFN2Oracle(n_conformers=3).level_of_theory


LABELS = Path(__file__).parents[1] / "data" / "labels" / "gfn2_ec_lipf6.jsonl.gz"
#: a Li fluoro-alkoxide whose first conformer is 0.8 eV above the best of three (measured, GFN2)
LI_SPECIES = "[Li]<-[O][C]([F])[O][CH2]|0|1"


def committed_record(key: str) -> dict:
    with gzip.open(LABELS, "rt") as fh:
        for line in fh:
            if f'"key":"{key}"' in line:
                return json.loads(line)
    raise KeyError(key)


def test_committed_labels_are_one_conformer_labels_and_three_search_deeper():
    pytest.importorskip("tblite")
    stored = committed_record(LI_SPECIES)
    one = GFN2Oracle(n_conformers=1).compute(Species.from_key(LI_SPECIES))
    # the committed label is what one conformer gives, at the level its record states
    assert stored["level_of_theory"] == one.level_of_theory
    assert one.status == stored["status"] == "ok" and abs(one.G - stored["G"]) < 1e-3
    # three distinct conformers include that one and find this species' lower minimum
    three = GFN2Oracle(n_conformers=3).compute(Species.from_key(LI_SPECIES))
    assert three.status == "ok" and three.G < stored["G"] - 0.1


class FailingCalculator:
    """Stands in for tblite when its SCF does not converge."""

    def __init__(self):
        from ase.calculators.calculator import CalculationFailed
        self.error = CalculationFailed("SCF not converged in 500 cycles")

    def get_potential_energy(self, atoms=None, force_consistent=False):
        raise self.error

    def get_forces(self, atoms=None):
        raise self.error


def failing_calls(monkeypatch, which: set[int]):
    """Make the oracle's calculators number ``which`` (1-based, in the order made) fail."""
    made = {"n": 0}
    real = GFN2Oracle._calculator

    def calculator(self, species):
        made["n"] += 1
        return FailingCalculator() if made["n"] in which else real(self, species)
    monkeypatch.setattr(GFN2Oracle, "_calculator", calculator)


def test_one_conformers_scf_failure_does_not_fail_the_species(monkeypatch):
    pytest.importorskip("tblite")
    ec = Species.from_smiles("O=C1OCCO1")
    reference = GFN2Oracle(n_conformers=3, hessian=False).compute(ec)
    failing_calls(monkeypatch, {2})                      # the second conformer's optimisation
    rec = GFN2Oracle(n_conformers=3, hessian=False).compute(ec)
    assert rec.status == "ok" and abs(rec.E - reference.E) < 1e-4   # a rigid ring: every conformer agrees
    statuses = [c["status"] for c in rec.data["conformers"]]
    assert statuses.count("failed") == 1 and statuses.count("ok") == 2
    assert "CalculationFailed" in rec.data["conformers"][1]["reason"]


def test_a_species_fails_with_the_scf_reason_when_every_conformer_does(monkeypatch):
    pytest.importorskip("tblite")
    failing_calls(monkeypatch, {1, 2, 3})
    rec = GFN2Oracle(n_conformers=3, hessian=False).compute(Species.from_smiles("O=C1OCCO1"))
    assert rec.status == "failed" and rec.reason.startswith("CalculationFailed: SCF not converged")
