"""Small graph helpers over (i, j, kind) bond lists."""

from __future__ import annotations

from collections import deque
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


def smallest_ring_sizes(n_atoms: int, bonds: list[tuple[int, int]]) -> list[int]:
    """For each bond, the size of the smallest ring through it (0 when the bond is in no ring):
    a breadth-first search from one end to the other without that bond."""
    nbrs: list[list[int]] = [[] for _ in range(n_atoms)]
    for i, j in bonds:
        nbrs[i].append(j)
        nbrs[j].append(i)
    sizes = []
    for i, j in bonds:
        if len(nbrs[i]) == 1 or len(nbrs[j]) == 1:  # a bond to a terminal atom (every C-H) is in no ring
            sizes.append(0)
            continue
        dist = {i: 0}
        queue = deque([i])
        found = 0
        while queue and not found:
            a = queue.popleft()
            for b in nbrs[a]:
                if (a, b) in ((i, j), (j, i)) or b in dist:
                    continue
                dist[b] = dist[a] + 1
                if b == j:
                    found = dist[b] + 1
                    break
                queue.append(b)
        sizes.append(found)
    return sizes
