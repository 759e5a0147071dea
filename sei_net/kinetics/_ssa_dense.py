"""Compiled Gillespie direct method for networks with few species (numba): propensities factorised
by species, in the spirit of the partial-propensity direct method (Ramaswamy, González-Segredo and
Sbalzarini, J. Chem. Phys. 130, 244104 (2009)), with dense per-species vectors that SIMD handles.

Every reaction has one of three forms (kinetics.ssa.reactant_forms kinds 0-2): A -> ..., A + A -> ...,
A + B -> .... Channels collect the reactions with the same reactants; their constants add up:
U[A] (A -> ...), D[A] (A + A -> ...) and the symmetric matrix M with M[A, B] = M[B, A] = half the
summed constants of A + B -> ... (A != B). With n the counts and v = M n, the propensity of species
group A is

    G[A] = n_A (U[A] + D[A] (n_A - 1) + v[A]),

and sum_A G[A] is the total propensity, each A + B channel counted half in group A and half in B.
An event picks a group by G, a channel inside it (unimolecular, A + A, or a partner B with weight
n_A M[A, B] n_B, recomputed from the counts) and then a reaction of the channel in proportion to
its constant, with one more uniform draw. This is the direct method exactly: every reaction fires
with probability a_j / a_0.

After an event v changes by delta_k M[k, :] for each changed species k (S multiply-adds each), and G
and its sum are recomputed (S each), so an event costs O(S) in contiguous arrays instead of
O(d log R) scattered tree updates. v is kept by these increments and recomputed exactly every
``REFRESH`` events and whenever a draw lands on round-off (a group whose channels are all zero:
the draw is repeated, without advancing time, after the refresh).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sei_net.kinetics._ssa_kernel import finish_trajectory, record_grid, rng_state, uniform

#: events between exact recomputations of v = M n (the increments' round-off stays ~1e-16 relative)
REFRESH = 1024


@njit(cache=True, inline="always")
def _refresh(M, nf, v):
    """v = M n exactly from the counts."""
    S = len(nf)
    for a in range(S):
        acc = 0.0
        for b in range(S):
            acc += M[a, b] * nf[b]
        v[a] = acc


@njit(cache=True, inline="always")
def _groups(U, D, v, nf, G) -> float:
    """G[A] = n_A (U[A] + D[A] (n_A - 1) + v[A]) and their sum (four partial sums)."""
    S = len(nf)
    for a in range(S):
        G[a] = nf[a] * (U[a] + D[a] * (nf[a] - 1.0) + v[a])
    s0 = s1 = s2 = s3 = 0.0
    i = 0
    while i + 4 <= S:
        s0 += G[i]
        s1 += G[i + 1]
        s2 += G[i + 2]
        s3 += G[i + 3]
        i += 4
    while i < S:
        s0 += G[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def _pick_channel(u, G, U, D, M, nf):
    """Channel holding ``u`` in [0, total): (group A, code) with code -1 for A -> ..., -2 for
    A + A -> ..., else the partner B. (-1, 0) when round-off found no channel with a positive
    propensity (the caller refreshes and draws again)."""
    S = len(nf)
    a = -1
    last = -1
    for i in range(S):
        g = G[i]
        if g > 0.0:
            if u < g:
                a = i
                break
            u -= g
            last = i
    if a < 0:                                # past the end by round-off: the last channel
        a = last
        if a < 0:
            return -1, 0
        u = np.inf
    n_a = nf[a]
    w = n_a * U[a]
    if u < w:
        return a, -1
    u -= w
    w = n_a * (n_a - 1.0) * D[a]
    if w > 0.0 and u < w:
        return a, -2
    if w > 0.0:
        u -= w
    last_b = -1
    for b in range(S):
        w = n_a * M[a, b] * nf[b]
        if w > 0.0:
            if u < w:
                return a, b
            u -= w
            last_b = b
    if last_b >= 0:
        return a, last_b
    if U[a] > 0.0:
        return a, -1
    if D[a] > 0.0 and n_a > 1.0:
        return a, -2
    return -1, 0


@njit(cache=True, inline="always")
def _pick_reaction(s, ptr, rx, cum, ch) -> int:
    """A reaction of channel ``ch`` (CSR ``ptr``/``rx``; ``cum`` the running sum of the constants
    inside each channel) in proportion to its constant."""
    lo, hi = ptr[ch], ptr[ch + 1]
    if hi - lo == 1:
        return rx[lo]
    x = uniform(s) * cum[hi - 1]
    for q in range(lo, hi - 1):
        if x < cum[q]:
            return rx[q]
    return rx[hi - 1]


@njit(cache=True, nogil=True)
def run_batch_dense(seeds, counts0, U, D, M, uni_ch, self_ch, pair_ch, ch_ptr, ch_rx, ch_cum,
                    d_ptr, d_sp, d_val, max_steps, t_end, grid, grid_in_time,
                    final, grid_sum, grid_sq, firings, steps_done, t_final, ev_rx, ev_t):
    """Run one trajectory per seed (same stopping rules and outputs as
    kinetics._ssa_kernel.run_batch, without acceleration). Channel ids: ``uni_ch[A]`` (A -> ...),
    ``self_ch[A]`` (A + A -> ...) and ``pair_ch[A * S + B]`` (A + B -> ..., the same id for (A, B)
    and (B, A)); channel i holds reactions ``ch_rx[ch_ptr[i]:ch_ptr[i + 1]]``."""
    S = len(counts0)
    counts = np.empty_like(counts0)
    nf = np.empty(S)
    v = np.empty(S)
    G = np.empty(S)
    record_events = ev_rx.shape[1] > 0
    for tr in range(len(seeds)):
        s = rng_state(seeds[tr])
        counts[:] = counts0
        for i in range(S):
            nf[i] = float(counts[i])
        _refresh(M, nf, v)
        since = 0
        t = 0.0
        step = 0
        g = 0
        by_steps = False
        while True:
            if max_steps >= 0 and step >= max_steps:
                by_steps = True
                break
            if since >= REFRESH:
                _refresh(M, nf, v)
                since = 0
            total = _groups(U, D, v, nf, G)
            if total <= 0.0:
                break
            dt = -np.log(1.0 - uniform(s)) / total
            if t + dt > t_end:
                break
            a, code = _pick_channel(uniform(s) * total, G, U, D, M, nf)
            if a < 0:                                  # round-off: only residual propensity left
                _refresh(M, nf, v)
                since = 0
                continue
            if code == -1:
                j = _pick_reaction(s, ch_ptr, ch_rx, ch_cum, uni_ch[a])
            elif code == -2:
                j = _pick_reaction(s, ch_ptr, ch_rx, ch_cum, self_ch[a])
            else:
                j = _pick_reaction(s, ch_ptr, ch_rx, ch_cum, pair_ch[a * S + code])
            g = record_grid(grid, grid_in_time, g, t + dt, step, counts, grid_sum, grid_sq)
            t += dt
            if record_events and step < ev_rx.shape[1]:
                ev_rx[tr, step] = j
                ev_t[tr, step] = t
            step += 1
            since += 1
            firings[j] += 1
            for q in range(d_ptr[j], d_ptr[j + 1]):
                k = d_sp[q]
                delta = d_val[q]
                counts[k] += delta
                nf[k] = float(counts[k])
                fd = float(delta)
                for b in range(S):
                    v[b] += fd * M[k, b]
        finish_trajectory(tr, g, counts, step, t, t_end, by_steps, grid_sum, grid_sq, final, steps_done, t_final)
    return 0
