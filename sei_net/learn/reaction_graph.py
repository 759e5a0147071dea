"""The condensed graph of reaction (CGR) of an atom-mapped reaction, for the barrier surrogate.

One node per atom (reactant order), one edge per atom pair bonded on either side. Each reactant
feature r and its product counterpart p (through the reaction's atom map) enter as (r + p, |r - p|):
the sum says what the atom or bond is, the difference what the reaction changes. That makes the
graph the same, up to an atom permutation, for a reaction and its reverse, so a barrier model built
on it gives one intrinsic barrier for both directions and forward minus reverse barrier is exactly
dG (detailed balance). Globals: the same pairing of the summed species globals, the reaction class
(ring_opening and ring_closing are one class, and so on) and the number of species on each side.
Atoms touched by a changed bond form the reaction centre (``centre`` mask).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sei_net.chem.reaction import Reaction
from sei_net.learn.features import (ELEMENTS, N_ATOM_FEATURES, N_BOND_FEATURES, N_GLOBAL_FEATURES,
                                    featurise)

#: reaction kinds merged with their reverses
REACTION_CLASSES = ("ring", "fragmentation", "coordination", "concerted", "redox", "other")
_CLASS_OF = {"ring_opening": "ring", "ring_closing": "ring", "fragmentation": "fragmentation",
             "recombination": "fragmentation", "coordination": "coordination",
             "decoordination": "coordination", "concerted": "concerted", "redox": "redox"}

N_CGR_ATOM_FEATURES = 2 * N_ATOM_FEATURES
N_CGR_BOND_FEATURES = 2 * N_BOND_FEATURES
N_CGR_GLOBAL_FEATURES = 2 * N_GLOBAL_FEATURES + len(REACTION_CLASSES) + 2


def reaction_class(kind: str) -> str:
    """The direction-free class of a reaction kind (see ``REACTION_CLASSES``)."""
    return _CLASS_OF.get(kind, "other")


def reaction_globals(reactant_globals: np.ndarray, product_globals: np.ndarray, kinds, n_reactants: np.ndarray,
                     n_products: np.ndarray) -> np.ndarray:
    """The CGR global features (n, N_CGR_GLOBAL_FEATURES) of n reactions from their summed species
    globals on each side (n, N_GLOBAL_FEATURES), kinds and species counts (module docstring)."""
    r, p = np.asarray(reactant_globals, np.float64), np.asarray(product_globals, np.float64)
    cls = np.array([[1.0 if c == reaction_class(k) else 0.0 for c in REACTION_CLASSES]
                    for k in kinds]).reshape(-1, len(REACTION_CLASSES))
    n_r, n_p = np.asarray(n_reactants, np.float64), np.asarray(n_products, np.float64)
    return np.concatenate([r + p, np.abs(r - p), cls, np.stack([(n_r + n_p) / 2, np.abs(n_r - n_p)], axis=1)],
                          axis=1).astype(np.float32)


@dataclass(frozen=True)
class ReactionGraph:
    """CGR arrays, laid out like ``SpeciesGraph`` so ``batching.collate`` batches them; ``centre``
    (n_atoms,) is 1.0 on atoms whose bonds change."""

    atoms: np.ndarray
    bonds: np.ndarray
    bond_features: np.ndarray
    globals: np.ndarray
    composition: np.ndarray
    centre: np.ndarray


def _side(species, cache: dict | None) -> tuple[np.ndarray, dict, np.ndarray]:
    """Concatenated atom features, {(i, j): bond features} in side order, summed globals."""
    atoms, bonds, glob, offset = [], {}, np.zeros(N_GLOBAL_FEATURES, np.float32), 0
    for sp in species:
        if cache is None:
            g = featurise(sp)
        elif (g := cache.get(sp.key)) is None:
            g = cache[sp.key] = featurise(sp)
        atoms.append(g.atoms)
        for (i, j), feats in zip(g.bonds, g.bond_features):
            bonds[(int(i) + offset, int(j) + offset)] = feats
        glob += g.globals
        offset += sp.n_atoms
    return np.concatenate(atoms), bonds, glob


def condensed_graph(reaction: Reaction, cache: dict | None = None) -> ReactionGraph:
    """The CGR of ``reaction`` (needs its atom map; raises ValueError without one). ``cache``: a
    dict kept across calls of species key -> featurised species (a network's species recur)."""
    if reaction.atom_map is None:
        raise ValueError(f"reaction {reaction.key} has no atom map: the barrier model needs one")
    amap = np.asarray(reaction.atom_map)
    r_atoms, r_bonds, r_glob = _side(reaction.reactants, cache)
    p_atoms_p, p_bonds_p, p_glob = _side(reaction.products, cache)
    p_atoms = np.empty_like(p_atoms_p)
    p_atoms[amap] = p_atoms_p  # product atom k sits on reactant atom amap[k]
    p_bonds = {}
    for (i, j), feats in p_bonds_p.items():
        a, b = int(amap[i]), int(amap[j])
        p_bonds[(min(a, b), max(a, b))] = feats
    zero = np.zeros(N_BOND_FEATURES, np.float32)
    pairs = sorted(set(r_bonds) | set(p_bonds))
    bond_features, centre = [], np.zeros(len(r_atoms), np.float32)
    for pair in pairs:
        r, p = r_bonds.get(pair, zero), p_bonds.get(pair, zero)
        bond_features.append(np.concatenate([r + p, np.abs(r - p)]))
        if not np.array_equal(r, p):
            centre[list(pair)] = 1.0
    glob = reaction_globals(r_glob[None], p_glob[None], [reaction.kind], np.array([len(reaction.reactants)]),
                            np.array([len(reaction.products)]))[0]
    composition = np.zeros(len(ELEMENTS), np.float32)
    for sp in reaction.reactants:
        for el in sp.elements:
            composition[ELEMENTS.index(el)] += 1
    return ReactionGraph(
        atoms=np.concatenate([r_atoms + p_atoms, np.abs(r_atoms - p_atoms)], axis=1).astype(np.float32),
        bonds=np.asarray(pairs, np.int64).reshape(-1, 2),
        bond_features=np.asarray(bond_features, np.float32).reshape(-1, N_CGR_BOND_FEATURES),
        globals=glob.astype(np.float32),
        composition=composition,
        centre=centre,
    )
