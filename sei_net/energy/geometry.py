"""Starting geometries (RDKit ETKDG, force-field pre-relaxation) and the bond-graph check that
catches a species that rearranged during optimisation."""

from __future__ import annotations

import numpy as np

from sei_net.chem.convert import NOT_EMBEDDABLE, bonds_from_coords
from sei_net.chem.elements import COORDINATING_METALS, COVALENT_RADIUS
from sei_net.chem.graph import connected_components
from sei_net.chem.lewis import COORDINATION, COVALENT
from sei_net.chem.species import Species


def starting_geometries(species: Species, n: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Up to ``n`` distinct conformers (Å, canonical atom order), pre-relaxed with MMFF94 where it
    has parameters, else UFF where it has them, else left as embedded. Deterministic for a seed
    (>= 0). A species that already carries coordinates gets those first.

    RDKit's ``EmbedMultipleConfs`` gives every conformer the same coordinates when its random seed
    is 0 (rdkit/rdkit#1738, still so in 2026.09), so RDKit gets ``seed + 1``. The first conformer
    of a seed is the one conformer RDKit seed 0 gave: labels made before this fix
    (docs/energy.md) are one-conformer labels, reproduced by ``n=1``."""
    from rdkit.Chem import AllChem

    if seed < 0:
        raise ValueError(f"conformer seed must be >= 0, got {seed}")
    out: list[np.ndarray] = []
    if species.coords is not None:
        out.append(np.asarray(species.coords, dtype=float))
    if species.n_atoms == 1:
        return out or [np.zeros((1, 3))]
    mol = species.to_rdkit(explicit_h=True)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed) + 1  # never 0: see the docstring
    ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n, params=params))
    if not ids:
        params.useRandomCoords = True
        ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n, params=params))
    if not ids and not out:
        raise ValueError(f"{NOT_EMBEDDABLE} for {species.key}")
    try:
        if AllChem.MMFFHasAllMoleculeParams(mol):
            AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=500)
        elif AllChem.UFFHasAllMoleculeParams(mol):
            AllChem.UFFOptimizeMoleculeConfs(mol, maxIters=500)
    except (ValueError, RuntimeError):
        pass  # keep the embedded geometry; the quantum optimisation follows anyway
    out += [mol.GetConformer(i).GetPositions() for i in ids]
    return out[:max(n, 1)]


#: hysteresis of the covalent graph check, in units of r_i + r_j (Cordero radii): a bond of the
#: species counts as broken only beyond BROKEN_FACTOR, a new bond as formed only below FORMED_FACTOR
#: (GFN2 bonds of radicals and anions run long: H2 is 0.776 Å, just past 1.25 x 0.62 Å)
BROKEN_FACTOR = 1.40
FORMED_FACTOR = 1.10


def graph_check(species: Species, coords: np.ndarray) -> tuple[str, list[tuple[int, int]]]:
    """Compare a structure (same atom order as the species) with the species' graph.

    Returns (status, changed covalent pairs): "ok" when the covalent graph is kept (with the
    hysteresis above) and every metal keeps exactly its coordination partners (bonds_from_coords'
    metal cutoffs); "coordination_changed" when only metal coordination differs; "rearranged"
    when a covalent bond broke or formed.
    """
    elements = species.elements
    xyz = np.asarray(coords, dtype=float)
    d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)
    radius = np.array([COVALENT_RADIUS[e] for e in elements])
    ref = radius[:, None] + radius[None, :]
    is_metal = np.array([e in COORDINATING_METALS for e in elements])
    want_cov = {(i, j) for i, j, k in species.bonds if k == COVALENT}
    changed = [(i, j) for i, j in want_cov if d[i, j] > BROKEN_FACTOR * ref[i, j]]
    n = len(elements)
    for i in range(n):
        for j in range(i + 1, n):
            if not (is_metal[i] or is_metal[j]) and (i, j) not in want_cov and d[i, j] < FORMED_FACTOR * ref[i, j]:
                changed.append((i, j))
    if changed:
        return "rearranged", sorted(changed)
    have_coord = set(_metal_contacts(elements, xyz))
    want_coord = {(i, j) for i, j, k in species.bonds if k == COORDINATION}
    return ("ok" if have_coord == want_coord else "coordination_changed"), []


def relaxed_species(species: Species, coords: np.ndarray) -> Species | None:
    """The species a relaxed structure actually is: the covalent bonds of ``species`` with the metal
    coordination found in ``coords`` (Å, the species' atom order; bonds_from_coords' cutoffs, the
    same graph_check reads). For a ``coordination_changed`` record this is the graph whose minimum
    the oracle found. None when the structure fell apart (a metal cation left the molecule, or
    the molecules it bridged drifted apart): an ion pair, not one species."""
    elements = species.elements
    xyz = np.asarray(coords, dtype=float)
    bonds = [(i, j) for i, j, k in species.bonds if k == COVALENT] + _metal_contacts(elements, xyz)
    if len(connected_components(len(elements), bonds)) > 1:
        return None
    return Species.from_graph(elements, bonds, species.charge, species.multiplicity, coords=xyz,
                              where=species.key)


def _metal_contacts(elements: tuple[str, ...], xyz: np.ndarray) -> list[tuple[int, int]]:
    """(i, j), i < j, of the metal-donor pairs within bonds_from_coords' metal cutoffs."""
    return [(i, j) for i, j in bonds_from_coords(elements, xyz)
            if elements[i] in COORDINATING_METALS or elements[j] in COORDINATING_METALS]
