"""Small graph helpers over (i, j, kind) bond lists."""

from __future__ import annotations

from typing import Iterable


def connected_components(n_atoms: int, bonds: Iterable[tuple[int, ...]]) -> list[list[int]]:
    """Connected components (lists of atom indices, ordered by their first atom) of a graph."""
    parent = list(range(n_atoms))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for bond in bonds:
        parent[find(bond[0])] = find(bond[1])
    groups: dict[int, list[int]] = {}
    for a in range(n_atoms):
        groups.setdefault(find(a), []).append(a)
    return sorted(groups.values(), key=lambda g: g[0])
