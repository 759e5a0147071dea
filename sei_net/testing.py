"""Synthetic, balanced networks for tests and benchmarks (not chemistry: isomer shuffles).

Species are random acyclic alkane isomers C_nH_(2n+2); reactions are isomerisations A -> B and
exchanges A + B -> C + D among them, all element- and charge-balanced.
"""

from __future__ import annotations

import numpy as np

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species


def random_alkanes(n_carbons: int, n_samples: int, seed: int = 0) -> list[Species]:
    """Distinct alkane isomers C_nH_(2n+2) from ``n_samples`` random carbon trees."""
    rng = np.random.default_rng(seed)
    found: dict[str, Species] = {}
    for _ in range(n_samples):
        degree = [0] * n_carbons
        bonds = []
        for c in range(1, n_carbons):
            choices = [p for p in range(c) if degree[p] < 4]
            p = int(rng.choice(choices))
            degree[p] += 1
            degree[c] += 1
            bonds.append((p, c))
        elements = ["C"] * n_carbons
        for c in range(n_carbons):
            for _ in range(4 - degree[c]):
                elements.append("H")
                bonds.append((c, len(elements) - 1))
        sp = Species.from_graph(elements, bonds, 0, 1)
        found.setdefault(sp.key, sp)
    return list(found.values())


def random_reactions(species: list[Species], n: int, seed: int = 0,
                     bimolecular_fraction: float = 0.5) -> list[Reaction]:
    """``n`` distinct random isomerisation/exchange reactions among same-formula ``species``."""
    rng = np.random.default_rng(seed)
    out: dict[str, Reaction] = {}
    m = len(species)
    while len(out) < n:
        if rng.random() < bimolecular_fraction:
            a, b, c, d = rng.integers(0, m, 4)
            if {a, b} == {c, d}:
                continue
            r = Reaction([species[a], species[b]], [species[c], species[d]], kind="concerted")
        else:
            a, b = rng.integers(0, m, 2)
            if a == b:
                continue
            r = Reaction([species[a]], [species[b]], kind="other")
        out.setdefault(r.key, r)
    return list(out.values())
