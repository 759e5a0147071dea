"""Starting geometries: n requested conformers are n different structures, for every seed."""

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
