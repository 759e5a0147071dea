"""Pathfinding: exactness against brute force on random hypergraphs, path bookkeeping, k best."""

import itertools
import math

import numpy as np
import pytest

from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.paths import UnreachableError, best_path, k_best_paths, shortest_hyperpaths


def random_hypergraph(rng, n_species=6, n_reactions=9):
    reactants, products = [], []
    for _ in range(n_reactions):
        r = list(rng.choice(n_species, size=rng.integers(1, 3), replace=True))
        p = [int(x) for x in rng.choice(n_species, size=rng.integers(1, 3), replace=True)
             if x not in r]
        if not p:
            p = [int((max(r) + 1) % n_species)]
            if p[0] in r:
                continue
        reactants.append([int(x) for x in r])
        products.append(p)
    cost = rng.uniform(0.0, 3.0, size=len(reactants)).round(1)
    return HyperGraph.from_lists(reactants, products, n_species=n_species), cost


def value_iteration(graph, cost, sources):
    """Independent reference: iterate cost[s] = min_r c_r + sum(nu * cost[reactants]) to a fixpoint."""
    best = np.full(graph.n_species, np.inf)
    best[list(sources)] = 0.0
    for _ in range(graph.n_species * graph.n_reactions + 1):
        changed = False
        for r in range(graph.n_reactions):
            val = cost[r] + sum(c * best[x] for x, c in graph.reactants(r))
            for p, _ in graph.products(r):
                if p not in sources and val < best[p] - 1e-12:
                    best[p] = val
                    changed = True
        if not changed:
            break
    return best


def all_derivation_costs(graph, cost, sources, target):
    """Brute force: every assignment of a making reaction to each species, kept when it derives the
    target acyclically from the sources; the distinct derivations' costs, sorted."""
    makers = {s: [r for r in range(graph.n_reactions) if s in dict(graph.products(r))]
              for s in range(graph.n_species) if s not in sources}
    species = sorted(makers)
    found = {}
    for combo in itertools.product(*[makers[s] + [None] for s in species]):
        choice = dict(zip(species, combo))

        def expand(s, stack):
            if s in sources:
                return 0.0, frozenset()
            r = choice.get(s)
            if r is None or s in stack:
                return None
            total, used = cost[r], {(s, r)}
            for x, c in graph.reactants(r):
                sub = expand(x, stack | {s})
                if sub is None:
                    return None
                total += c * sub[0]
                used |= sub[1]
            return total, frozenset(used)

        res = expand(target, frozenset())
        if res is not None:
            found[res[1]] = res[0]
    return sorted(found.values())


@pytest.mark.parametrize("seed", range(40))
def test_least_costs_equal_value_iteration(seed):
    rng = np.random.default_rng(seed)
    graph, cost = random_hypergraph(rng)
    dist, pred, order = shortest_hyperpaths(graph, cost, [0])
    ref = value_iteration(graph, cost, {0})
    assert np.allclose(dist, ref, equal_nan=False)
    for s in np.flatnonzero(np.isfinite(dist)):
        if s == 0:
            continue
        path = best_path(graph, cost, [0], int(s))
        assert path.cost == pytest.approx(dist[s])          # sum of fires * cost = Knuth value


@pytest.mark.parametrize("seed", range(25))
def test_k_best_equal_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    targets = []
    while not targets:                       # draw until some species is reachable
        graph, cost = random_hypergraph(rng, n_species=5, n_reactions=10)
        dist, _, _ = shortest_hyperpaths(graph, cost, [0])
        targets = [s for s in range(1, 5) if np.isfinite(dist[s])]
    target = targets[-1]
    brute = all_derivation_costs(graph, cost, {0}, target)
    ours = k_best_paths(graph, cost, [0], target, k=6)
    assert [round(p.cost, 9) for p in ours] == [round(c, 9) for c in brute[:6]]
    assert len({frozenset(p.choices) for p in ours}) == len(ours)


def test_stoichiometry_counts_subpaths_twice_and_reports_byproducts():
    # 0 -> 1 (cost 2), 1 + 1 -> 2 + 3 (cost 1): making 2 needs the 0 -> 1 step twice
    g = HyperGraph.from_lists([[0], [1, 1]], [[1], [2, 3]], electrons=[1, 0])
    path = best_path(g, np.array([2.0, 1.0]), [0], 2, dG=np.array([-0.5, -1.0]))
    assert path.cost == pytest.approx(5.0)
    assert dict(path.steps) == {0: 2, 1: 1}
    assert path.byproducts == {3: 1} and path.consumed == {0: 2}
    assert path.electrons == 2
    assert path.dG_total == pytest.approx(-2.0) and path.hardest_step == 0


def test_reaction_needs_all_reactants():
    # 2 is made only by 0 + 1; 1 is not reachable, so 2 is not either (a plain Dijkstra on the
    # bipartite graph would reach it through 0 alone)
    g = HyperGraph.from_lists([[0, 1], [3]], [[2], [1]])
    dist, _, _ = shortest_hyperpaths(g, np.array([1.0, 1.0]), [0])
    assert math.isinf(dist[2])
    with pytest.raises(UnreachableError):
        best_path(g, np.array([1.0, 1.0]), [0], 2)
    dist, _, _ = shortest_hyperpaths(g, np.array([1.0, 1.0]), [0, 3])
    assert dist[2] == pytest.approx(2.0)


def test_bad_inputs_are_named():
    g = HyperGraph.from_lists([[0]], [[1]])
    with pytest.raises(ValueError, match="shape"):
        shortest_hyperpaths(g, np.array([1.0, 2.0]), [0])
    with pytest.raises(ValueError, match=">= 0"):
        shortest_hyperpaths(g, np.array([-1.0]), [0])
    with pytest.raises(ValueError, match="out of range"):
        shortest_hyperpaths(g, np.array([1.0]), [7])
    with pytest.raises(ValueError, match="at least one"):
        k_best_paths(g, np.array([1.0]), [0], 1, k=0)


def test_reaction_dG_signs_members_and_missing_energies():
    # 0 + e- -> 1 (reduction), 0 + 1 -> 2, 2 -> 0 + 0 (species 2 has no energy)
    g = HyperGraph.from_lists([[0], [0, 1], [2]], [[1], [2], [0, 0]], electrons=[1, 0, 0])
    G = np.array([1.0, 0.5, np.nan])
    dG = g.reaction_dG(G, electron_free_energy=-1.4)
    assert dG[0] == pytest.approx(0.5 - 1.0 + 1.4)           # G(A-) - G(A) - G_e
    assert np.isnan(dG[1]) and np.isnan(dG[2])
    members = np.stack([G, G + np.array([0.1, -0.1, 0.0])], axis=1)
    dm = g.reaction_dG(members, electron_free_energy=-1.4)
    assert dm.shape == (3, 2)
    assert dm[0, 0] == pytest.approx(dG[0]) and dm[0, 1] == pytest.approx(dG[0] - 0.2)
