"""Featurisation of a species' 2D graph for the surrogates (no geometry needed).

Atoms: element, covalent degree, coordination (dative) degree, formal charge, unpaired electrons,
hybridisation, ring membership and H count. Bonds: order (1, 2, 3 or coordination), ring membership
and smallest ring size. Global state: total charge, spin multiplicity and size. Formal charges,
radical sites and bond orders come from the species' best Lewis structure
(``sei_net.chem.lewis``); a species with no Lewis structure gets all-single bonds, zero formal
charges and a ``no_lewis`` flag in its global features.

Everything here is numpy; ``sei_net.learn.batching`` turns lists of graphs into torch tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sei_net.chem.elements import SUPPORTED_ELEMENTS
from sei_net.chem.graph import smallest_ring_sizes
from sei_net.chem.lewis import COORDINATION, ValenceError
from sei_net.chem.species import Species

ELEMENTS = SUPPORTED_ELEMENTS
FORMAL_CHARGES = (-2, -1, 0, 1, 2)
CHARGES = (-2, -1, 0, 1, 2)
MULTIPLICITIES = (1, 2, 3)
RING_SIZES = (3, 4, 5, 6, 7)  # 7 stands for 7 or larger
HYBRIDISATION = ("none", "sp3", "sp2", "sp")


def _one_hot(value, choices) -> list[float]:
    """One-hot over ``choices`` with a last 'other' slot."""
    out = [0.0] * (len(choices) + 1)
    out[choices.index(value) if value in choices else len(choices)] = 1.0
    return out


def _counts(value: int, n: int) -> list[float]:
    """One-hot of min(value, n) over 0..n."""
    out = [0.0] * (n + 1)
    out[min(value, n)] = 1.0
    return out


N_ATOM_FEATURES = len(ELEMENTS) + 1 + 7 + 5 + len(FORMAL_CHARGES) + 1 + 3 + len(HYBRIDISATION) + 1 + 1 + 5
N_BOND_FEATURES = 4 + 1 + len(RING_SIZES) + 1
N_GLOBAL_FEATURES = len(CHARGES) + 1 + len(MULTIPLICITIES) + 1 + 3


@dataclass(frozen=True)
class SpeciesGraph:
    """One species as arrays: ``atoms`` (n_atoms, N_ATOM_FEATURES), ``bonds`` (n_bonds, 2) atom
    pairs, ``bond_features`` (n_bonds, N_BOND_FEATURES), ``globals`` (N_GLOBAL_FEATURES,),
    ``composition`` (len(ELEMENTS),) atom counts by element."""

    atoms: np.ndarray
    bonds: np.ndarray
    bond_features: np.ndarray
    globals: np.ndarray
    composition: np.ndarray


def featurise(species: Species) -> SpeciesGraph:
    """The feature arrays of one species (float32)."""
    n = species.n_atoms
    pairs = [(i, j) for i, j, _ in species.bonds]
    kinds = [k for _, _, k in species.bonds]
    try:
        lewis = species.lewis
        formal, radicals, orders, no_lewis = lewis.formal_charges, lewis.radicals, lewis.bond_orders, 0.0
    except ValenceError:  # no Lewis structure for this graph, charge and multiplicity
        formal, radicals, no_lewis = (0,) * n, (0,) * n, 1.0
        orders = tuple(0 if k == COORDINATION else 1 for k in kinds)
    rings = smallest_ring_sizes(n, pairs)

    covalent_degree = [0] * n
    dative_degree = [0] * n
    h_count = [0] * n
    pi_bonds = [0] * n
    in_ring = [0] * n
    for (i, j), kind, order, ring in zip(pairs, kinds, orders, rings):
        if kind == COORDINATION:
            dative_degree[i] += 1
            dative_degree[j] += 1
            continue
        covalent_degree[i] += 1
        covalent_degree[j] += 1
        pi_bonds[i] += order - 1
        pi_bonds[j] += order - 1
        h_count[i] += species.elements[j] == "H"
        h_count[j] += species.elements[i] == "H"
        if ring:
            in_ring[i] = in_ring[j] = 1

    atoms = []
    for a, el in enumerate(species.elements):
        hybrid = "none" if covalent_degree[a] == 0 or el == "H" else ("sp3", "sp2", "sp")[min(pi_bonds[a], 2)]
        atoms.append(_one_hot(el, ELEMENTS) + _counts(covalent_degree[a], 6) + _counts(dative_degree[a], 4)
                     + _one_hot(formal[a], FORMAL_CHARGES) + _counts(radicals[a], 2)
                     + _one_hot(hybrid, HYBRIDISATION) + [float(in_ring[a])] + _counts(h_count[a], 4))
    bond_features = []
    for kind, order, ring in zip(kinds, orders, rings):
        bond_type = 3 if kind == COORDINATION else min(order, 3) - 1
        ring_size = min(ring, RING_SIZES[-1])
        bond_features.append([1.0 if t == bond_type else 0.0 for t in range(4)] + [float(ring > 0)]
                             + _one_hot(ring_size, RING_SIZES))
    composition = np.zeros(len(ELEMENTS), np.float32)
    for el in species.elements:
        composition[ELEMENTS.index(el)] += 1
    glob = (_one_hot(species.charge, CHARGES) + _one_hot(species.multiplicity, MULTIPLICITIES)
            + [no_lewis, n / 10.0, species.n_heavy / 10.0])
    return SpeciesGraph(
        atoms=np.asarray(atoms, np.float32).reshape(n, N_ATOM_FEATURES),
        bonds=np.asarray(pairs, np.int64).reshape(-1, 2),
        bond_features=np.asarray(bond_features, np.float32).reshape(-1, N_BOND_FEATURES),
        globals=np.asarray(glob, np.float32),
        composition=composition,
    )
