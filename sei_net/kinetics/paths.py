"""Exact least-cost hyperpaths and the k best alternatives.

The cost of making a species is the cost of the reaction that makes it plus the cost of making each
of its reactants times that reactant's stoichiometric coefficient (two LiEC_RO for one LEDC means
that sub-path runs twice); starting species (and electrons) cost nothing. ``shortest_hyperpaths``
computes it for every species in one pass (Knuth's algorithm, ``_knuth``); ``extract_path`` turns
the result into a path: the reactions with how often each fires, in firing order; and
``k_best_paths`` enumerates the next best derivations by Lawler/Yen-style partitioning of the
derivation space (Nielsen, Andersen & Pretolani, Comput. Oper. Res. 2005): with the path's choices
(species s_i made by reaction e_i) ordered backwards from the target, sub-problem i keeps choices
1..i-1 and bans e_i for s_i. In that order s_i is a reactant of a kept choice, so every derivation of
sub-problem i makes s_i, some other way: the sub-problems are disjoint, and together with the path
they cover its parent problem, so the result is the k cheapest distinct derivations in order.

Example
-------
>>> from sei_net.kinetics.hypergraph import HyperGraph
>>> g = HyperGraph.from_lists([[0], [1], [1, 1]], [[1], [2], [2]])   # 0->1, 1->2, 2(1)->2
>>> import numpy as np
>>> p = k_best_paths(g, np.array([1.0, 5.0, 2.0]), [0], 2, k=2)
>>> [round(x.cost, 1) for x in p]
[4.0, 6.0]
"""

from __future__ import annotations

import heapq
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from sei_net.kinetics._knuth import knuth_dijkstra
from sei_net.kinetics.hypergraph import HyperGraph


class UnreachableError(ValueError):
    """The target cannot be made from the starting species."""


@dataclass
class HyperPath:
    """One derivation of ``target`` (species index) from the sources.

    ``steps``: (reaction index, times fired) in firing order; ``choices``: (species, reaction) for
    every species the path makes, in settling order; ``net``: species index -> net amount made
    (negative: consumed starting species; positive besides the target: byproducts)."""

    target: int
    cost: float
    steps: list[tuple[int, int]]
    choices: tuple[tuple[int, int], ...]
    net: dict[int, int]
    electrons: int
    dG_total: float | None = None
    hardest_step: int | None = None
    hardest_step_dG: float | None = None
    probability_best: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def byproducts(self) -> dict[int, int]:
        return {s: n - (1 if s == self.target else 0) for s, n in self.net.items()
                if n - (1 if s == self.target else 0) > 0}

    @property
    def consumed(self) -> dict[int, int]:
        return {s: -n for s, n in self.net.items() if n < 0}

    def reactions(self) -> list[int]:
        return [r for r, _ in self.steps]

    def cost_under(self, cost: np.ndarray) -> float:
        """This path's cost under other reaction costs (e.g. an ensemble member's)."""
        return float(sum(n * cost[r] for r, n in self.steps))


def _as_index_array(values, n: int, what: str) -> np.ndarray:
    arr = np.asarray(list(values), dtype=np.int64).reshape(-1)
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"{what} index out of range 0..{n - 1}")
    return arr


def shortest_hyperpaths(graph: HyperGraph, cost: np.ndarray, sources, target: int = -1,
                        fixed: dict[int, int] | None = None,
                        forbidden: set[tuple[int, int]] | None = None):
    """Least cost of making every species (``dist``, inf if unreachable), the reaction that makes it
    (``pred``, -1 for sources) and the settling ``order``; stops early once ``target`` is settled.
    ``cost``: reaction costs >= 0 (inf disables a reaction). ``fixed``/``forbidden`` restrict which
    reaction may make a species (used by ``k_best_paths``)."""
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    if cost.shape != (graph.n_reactions,):
        raise ValueError(f"cost has shape {cost.shape}, expected ({graph.n_reactions},)")
    if np.any(cost < 0):
        raise ValueError("reaction costs must be >= 0")
    src = _as_index_array(sources, graph.n_species, "source species")
    fixed_arr = np.full(graph.n_species, -1, dtype=np.int64)
    for s, r in (fixed or {}).items():
        fixed_arr[s] = r
    codes = np.array(sorted(s * graph.n_reactions + r for s, r in (forbidden or ())), dtype=np.int64)
    return knuth_dijkstra(graph.n_species, graph.r_ptr, graph.r_species, graph.r_coef, graph.p_ptr,
                          graph.p_species, graph.c_ptr, graph.c_reaction, cost, src, int(target),
                          fixed_arr, codes)


def extract_path(graph: HyperGraph, dist: np.ndarray, pred: np.ndarray, order: np.ndarray,
                 target: int, cost: np.ndarray, dG: np.ndarray | None = None) -> HyperPath:
    """The derivation of ``target`` encoded by ``pred`` (see ``shortest_hyperpaths``)."""
    if not np.isfinite(dist[target]):
        raise UnreachableError(f"species {target} cannot be made from the starting species")
    position = np.empty(graph.n_species, dtype=np.int64)     # settling rank of each species
    position[order] = np.arange(len(order))
    demand: dict[int, int] = defaultdict(int)
    demand[target] = 1
    heap = [(-position[target], target)]
    fires: dict[int, int] = defaultdict(int)
    choices = []
    while heap:
        _, s = heapq.heappop(heap)
        need = demand.pop(s)
        r = int(pred[s])
        if r < 0:
            continue
        choices.append((s, r))
        fires[r] += need
        for x, coef in graph.reactants(r):
            if x not in demand:
                heapq.heappush(heap, (-position[x], x))
            demand[x] += coef * need
    choices.reverse()
    first_use = {}
    for i, (_, r) in enumerate(choices):
        first_use.setdefault(r, i)
    steps = sorted(fires.items(), key=lambda item: first_use[item[0]])
    net: dict[int, int] = defaultdict(int)
    electrons = 0
    for r, n in steps:
        for x, coef in graph.products(r):
            net[x] += n * coef
        for x, coef in graph.reactants(r):
            net[x] -= n * coef
        electrons += n * int(graph.electrons[r])
    path = HyperPath(int(target), float(sum(n * cost[r] for r, n in steps)), steps, tuple(choices),
                     {s: v for s, v in net.items() if v != 0}, electrons)
    if dG is not None:
        path.dG_total = float(sum(n * dG[r] for r, n in steps))
        hardest = max((r for r, _ in steps), key=lambda r: dG[r])
        path.hardest_step, path.hardest_step_dG = int(hardest), float(dG[hardest])
    return path


def best_path(graph: HyperGraph, cost: np.ndarray, sources, target: int,
              dG: np.ndarray | None = None) -> HyperPath:
    """The least-cost derivation of ``target``."""
    dist, pred, order = shortest_hyperpaths(graph, cost, sources, target)
    return extract_path(graph, dist, pred, order, target, cost, dG)


def k_best_paths(graph: HyperGraph, cost: np.ndarray, sources, target: int, k: int = 5,
                 dG: np.ndarray | None = None) -> list[HyperPath]:
    """The ``k`` cheapest distinct derivations of ``target``, cheapest first (fewer if there are
    fewer). Raises ``UnreachableError`` when the target cannot be made at all."""
    if k < 1:
        raise ValueError(f"k={k} is not valid: ask for at least one path")
    first = best_path(graph, cost, sources, target, dG)
    counter = itertools.count()
    queue = [(first.cost, next(counter), first, {}, frozenset())]
    out: list[HyperPath] = []
    while queue:
        _, _, path, fixed, banned = heapq.heappop(queue)
        out.append(path)                             # sub-problems are disjoint: never a repeat
        if len(out) == k:
            break
        kept = dict(fixed)
        for s, r in path.choices[::-1]:              # target first: each s_i feeds an earlier choice
            if s not in kept:                        # a parent's kept choice cannot be banned
                sub_banned = banned | {(s, r)}
                dist, pred, order = shortest_hyperpaths(graph, cost, sources, target, kept, sub_banned)
                if np.isfinite(dist[target]):
                    alt = extract_path(graph, dist, pred, order, target, cost, dG)
                    heapq.heappush(queue, (alt.cost, next(counter), alt, dict(kept), sub_banned))
            kept[s] = r
    return out
