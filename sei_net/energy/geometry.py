"""Starting geometries (RDKit ETKDG, force-field pre-relaxation) and the bond-graph check that
catches a species that rearranged during optimisation."""

from __future__ import annotations

import numpy as np

from sei_net.chem.convert import bonds_from_coords
from sei_net.chem.elements import COORDINATING_METALS
from sei_net.chem.lewis import COORDINATION, COVALENT
from sei_net.chem.species import Species


def starting_geometries(species: Species, n: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Up to ``n`` distinct conformers (Å, canonical atom order), pre-relaxed with MMFF94 where it
    has parameters, else UFF where it has them, else left as embedded. Deterministic for a seed.
    A species that already carries coordinates gets those first."""
    from rdkit.Chem import AllChem

    out: list[np.ndarray] = []
    if species.coords is not None:
        out.append(np.asarray(species.coords, dtype=float))
    if species.n_atoms == 1:
        return out or [np.zeros((1, 3))]
    mol = species.to_rdkit(explicit_h=True)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n, params=params))
    if not ids:
        params.useRandomCoords = True
        ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n, params=params))
    if not ids and not out:
        raise ValueError(f"RDKit could not embed 3D coordinates for {species.key}")
    try:
        if AllChem.MMFFHasAllMoleculeParams(mol):
            AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=500)
        elif AllChem.UFFHasAllMoleculeParams(mol):
            AllChem.UFFOptimizeMoleculeConfs(mol, maxIters=500)
    except (ValueError, RuntimeError):
        pass  # keep the embedded geometry; the quantum optimisation follows anyway
    out += [mol.GetConformer(i).GetPositions() for i in ids]
    return out[:max(n, 1)]


def graph_check(species: Species, coords: np.ndarray) -> tuple[str, list[tuple[int, int, int]]]:
    """Compare the bonds perceived in ``coords`` with the species' graph (same atom order).

    Returns (status, perceived bonds): "ok" when both covalent and coordination bonds match,
    "coordination_changed" when only metal coordination differs, "rearranged" otherwise.
    """
    elements = species.elements
    perceived = []
    for i, j in bonds_from_coords(elements, coords):
        metal = elements[i] in COORDINATING_METALS or elements[j] in COORDINATING_METALS
        perceived.append((min(i, j), max(i, j), COORDINATION if metal else COVALENT))
    have_cov = {(i, j) for i, j, k in perceived if k == COVALENT}
    want_cov = {(i, j) for i, j, k in species.bonds if k == COVALENT}
    if have_cov != want_cov:
        return "rearranged", sorted(perceived)
    have_coord = {(i, j) for i, j, k in perceived if k == COORDINATION}
    want_coord = {(i, j) for i, j, k in species.bonds if k == COORDINATION}
    return ("ok" if have_coord == want_coord else "coordination_changed"), sorted(perceived)
