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

