"""Knuth's generalisation of Dijkstra to superior functions on a hypergraph, compiled with numba.

A reaction fires once all its distinct reactants are settled; it offers each product the value
cost[r] + sum(coef_i * dist[reactant_i]). That value is a superior function of the reactant
distances (never below any of them, as costs are >= 0), so settling species in order of their
tentative value is exact in one pass (Knuth, Inf. Proc. Lett. 6 (1977) 1). Work is
O((S + P) log S) for S species and P reaction participants.

Restrictions (for the k-best search): ``fixed[s] >= 0`` allows only that reaction to make s;
``forbidden`` (sorted s * R + r codes) bans reaction r as a way to make s.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _push(hk, hv, n, key, val):
    i = n
    hk[i] = key
    hv[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] <= hk[i]:
            break
        hk[parent], hk[i] = hk[i], hk[parent]
        hv[parent], hv[i] = hv[i], hv[parent]
        i = parent
    return n + 1


@njit(cache=True)
def _pop(hk, hv, n):
    key, val = hk[0], hv[0]
    n -= 1
    hk[0] = hk[n]
    hv[0] = hv[n]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= n:
            break
        child = left
        if left + 1 < n and hk[left + 1] < hk[left]:
            child = left + 1
        if hk[i] <= hk[child]:
            break
        hk[i], hk[child] = hk[child], hk[i]
        hv[i], hv[child] = hv[child], hv[i]
        i = child
    return key, val, n


@njit(cache=True)
def knuth_dijkstra(n_species, r_ptr, r_species, r_coef, p_ptr, p_species, c_ptr, c_reaction,
                   cost, sources, target, fixed, forbidden):
    """Returns (dist, pred, order): least cost of every species (inf if unreachable), the reaction
    that makes it (-1 for sources and unreachable ones) and the settling order. Stops once
    ``target`` (>= 0) is settled."""
    n_reactions = len(r_ptr) - 1
    inf = np.inf
    dist = np.full(n_species, inf)
    pred = np.full(n_species, -1, dtype=np.int64)
    done = np.zeros(n_species, dtype=np.bool_)
    missing = np.empty(n_reactions, dtype=np.int64)
    for r in range(n_reactions):
        missing[r] = r_ptr[r + 1] - r_ptr[r]
    capacity = len(p_species) + len(sources) + 1
    hk = np.empty(capacity, dtype=np.float64)
    hv = np.empty(capacity, dtype=np.int64)
    n_heap = 0
    order = np.empty(n_species, dtype=np.int64)
    n_done = 0
    n_forbidden = len(forbidden)
    for s in sources:
        if dist[s] > 0.0:
            dist[s] = 0.0
            n_heap = _push(hk, hv, n_heap, 0.0, s)
    while n_heap > 0:
        d, s, n_heap = _pop(hk, hv, n_heap)
        if done[s] or d > dist[s]:
            continue
        done[s] = True
        order[n_done] = s
        n_done += 1
        if s == target:
            break
        for idx in range(c_ptr[s], c_ptr[s + 1]):
            r = c_reaction[idx]
            missing[r] -= 1
            if missing[r] != 0 or not cost[r] < inf:
                continue
            val = cost[r]
            for j in range(r_ptr[r], r_ptr[r + 1]):
                val += r_coef[j] * dist[r_species[j]]
            for j in range(p_ptr[r], p_ptr[r + 1]):
                p = p_species[j]
                if done[p] or val >= dist[p]:
                    continue
                if fixed[p] >= 0 and fixed[p] != r:
                    continue
                if n_forbidden > 0:
                    code = p * n_reactions + r
                    k = np.searchsorted(forbidden, code)
                    if k < n_forbidden and forbidden[k] == code:
                        continue
                dist[p] = val
                pred[p] = r
                n_heap = _push(hk, hv, n_heap, val, p)
    return dist, pred, order[:n_done]
