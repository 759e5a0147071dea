"""Compiled kernels of the Gillespie direct method (numba): a counter-based random stream, a sum
tree over reaction propensities (FANOUT children per node), and the trajectory loop.

Propensity of reaction j: a_j = c_j * prod_i n_i (n_i - 1) ... (n_i - nu_ij + 1) (falling factorial of
each reactant count over its coefficient); c_j holds the rate constant and the mode's factors
(kinetics.mechanism). After an event only the reactions that consume a species whose count changed
are recomputed (species -> consumer lists), and a leaf whose value did not change is not pushed up
the tree, so an event costs O(d log R) with d the number of propensities that really changed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, inline="always")
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


@njit(cache=True)
def rng_state(seed: int) -> np.ndarray:
    """xoshiro256** state from a 64-bit seed through splitmix64 (Vigna's recommended seeding)."""
    s = np.empty(4, dtype=np.uint64)
    z = np.uint64(seed)
    for i in range(4):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        x = z
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        s[i] = x ^ (x >> np.uint64(31))
    return s


@njit(cache=True, inline="always")
def uniform(s) -> float:
    """Next double in [0, 1) from xoshiro256** state ``s`` (updated in place)."""
    result = _rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
    t = s[1] << np.uint64(17)
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = _rotl(s[3], 45)
    return float(result >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, inline="always")
def propensity(j, counts, c, r_ptr, r_sp, r_coef) -> float:
    """a_j from the current counts (see the module docstring). The count factors are multiplied
    first (exact in float64 below 2^53), so every route to a_j gives the same bits."""
    prod = 1.0
    for q in range(r_ptr[j], r_ptr[j + 1]):
        n = counts[r_sp[q]]
        for m in range(r_coef[q]):
            prod *= n - m
    return c[j] * prod if prod > 0.0 else 0.0


#: children per node of the propensity sum tree
FANOUT = 32


@njit(cache=True)
def tree_layout(n_leaves):
    """Level offsets of a FANOUT-ary sum tree over ``n_leaves`` values, stored level by level in one
    flat array: level l holds tree[off[l]:off[l + 1]], each level but the root padded with zeros to
    whole nodes. Returns ``off`` (its last entry is the array length); the root is tree[off[-2]]."""
    sizes = [max(-(-max(n_leaves, 1) // FANOUT), 1) * FANOUT]
    while sizes[-1] > 1:
        parents = sizes[-1] // FANOUT
        sizes.append(parents if parents == 1 else -(-parents // FANOUT) * FANOUT)
    off = np.zeros(len(sizes) + 1, dtype=np.int64)
    for l in range(len(sizes)):
        off[l + 1] = off[l] + sizes[l]
    return off


@njit(cache=True, inline="always")
def _node_sum(tree, start):
    """Sum of the FANOUT children starting at ``start``: four interleaved partial sums (the same
    bits on every call, and four independent add chains instead of one)."""
    s0 = s1 = s2 = s3 = 0.0
    for i in range(start, start + FANOUT, 4):
        s0 += tree[i]
        s1 += tree[i + 1]
        s2 += tree[i + 2]
        s3 += tree[i + 3]
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, inline="always")
def tree_set(tree, off, q, value):
    """Set leaf q of the sum tree and recompute its ancestors."""
    tree[q] = value
    for l in range(1, len(off) - 1):
        q //= FANOUT
        tree[off[l] + q] = _node_sum(tree, off[l - 1] + q * FANOUT)


@njit(cache=True)
def tree_build(tree, off, values, leaf):
    """Sum tree over ``values``; value j sits at leaf ``leaf[j]``."""
    tree[:] = 0.0
    for j in range(len(values)):
        tree[leaf[j]] = values[j]
    for l in range(1, len(off) - 1):
        for k in range((off[l] - off[l - 1]) // FANOUT):      # nodes past these are padding: 0
            tree[off[l] + k] = _node_sum(tree, off[l - 1] + k * FANOUT)


@njit(cache=True, inline="always")
def tree_pick(tree, off, u) -> int:
    """Leaf whose cumulative interval holds ``u`` in [0, total). Round-off that carries ``u`` past a
    node's last child lands on its last non-zero child."""
    k = 0
    for l in range(len(off) - 2, 0, -1):
        base = off[l - 1] + k * FANOUT
        chosen = -1
        last = 0
        for i in range(FANOUT):
            v = tree[base + i]
            if v > 0.0:
                if u < v:
                    chosen = i
                    break
                u -= v
                last = i
        k = k * FANOUT + (chosen if chosen >= 0 else last)
    return k


@njit(cache=True, inline="always")
def tree_refresh(tree, off, dirty, n_dirty, mark, tick):
    """Recompute the ancestors of the changed leaves level by level, each node once. ``dirty[:n_dirty]``
    holds the changed leaves' level-1 parents; ``mark`` (len(tree)) the tick that last did a node."""
    for l in range(1, len(off) - 1):
        n_next = 0
        for i in range(n_dirty):
            node = off[l] + dirty[i]
            if mark[node] != tick:
                mark[node] = tick
                tree[node] = _node_sum(tree, off[l - 1] + dirty[i] * FANOUT)
                dirty[n_next] = dirty[i] // FANOUT
                n_next += 1
        n_dirty = n_next


@njit(cache=True, inline="always")
def _accumulate(grid_sum, grid_sq, g, counts):
    for i in range(len(counts)):
        v = float(counts[i])
        grid_sum[g, i] += v
        grid_sq[g, i] += v * v


@njit(cache=True, inline="always")
def record_grid(grid, grid_in_time, g, t_next, step, counts, grid_sum, grid_sq) -> int:
    """Accumulate the current counts at every grid point passed before the next event (at time
    ``t_next``, or step ``step``); returns the next grid index."""
    while g < len(grid) and ((grid[g] <= t_next) if grid_in_time else (grid[g] <= step)):
        _accumulate(grid_sum, grid_sq, g, counts)
        g += 1
    return g


@njit(cache=True, inline="always")
def finish_trajectory(tr, g, counts, step, t, t_end, by_steps, grid_sum, grid_sq, final, steps_done, t_final):
    """Fill the grid points after the last event, and the trajectory's final counts, steps and end
    time (a time-limited run holds its last state until t_end, also when nothing can fire)."""
    while g < grid_sum.shape[0]:
        _accumulate(grid_sum, grid_sq, g, counts)
        g += 1
    final[tr, :] = counts
    steps_done[tr] = step
    t_final[tr] = t if (by_steps or not np.isfinite(t_end)) else t_end


@njit(cache=True, inline="always")
def _swap(slot, where, a, b):
    ea, eb = slot[a], slot[b]
    slot[a], slot[b] = eb, ea
    where[eb], where[ea] = a, b


@njit(cache=True, inline="always")
def _equilibrated(nf, nr, min_events, tolerance) -> bool:
    n = nf + nr
    return n >= min_events and abs(nf - nr) <= tolerance * n


@njit(cache=True)
def rescale_window(touched, n_touched, fired, partner, alpha, c, ceff, dt, params, changed) -> int:
    """Update ``alpha`` and ``ceff`` (= c / alpha) from one window's firings (kinetics.acceleration).
    ``touched[:n_touched]`` are the reactions that fired (``fired`` holds their counts), ``dt`` the
    window's simulated time. Writes the reactions whose constant changed to ``changed`` and returns
    how many."""
    min_events, tolerance, separation = params[1], params[2], params[3]
    n_slow = 0                                    # net events of everything not quasi-equilibrated
    for i in range(n_touched):
        j = touched[i]
        p = partner[j]
        if p < 0:
            n_slow += fired[j]
        elif (fired[p] == 0 or j < p) and not _equilibrated(fired[j], fired[p], min_events, tolerance):
            n_slow += abs(fired[j] - fired[p])
    target = separation * max(n_slow, 1) / dt
    n_changed = 0
    for i in range(n_touched):
        j = touched[i]
        p = partner[j]
        if p < 0 or (fired[p] > 0 and p < j):     # each pair once
            continue
        nf, nr = fired[j], fired[p]
        n = nf + nr
        new = alpha[j]
        if _equilibrated(nf, nr, min_events, tolerance):
            wanted = max(1.0, alpha[j] * (n / dt) / target)
            if wanted > 1.1 * alpha[j] or wanted < alpha[j] / 1.1:
                new = wanted
        elif alpha[j] > 1.0 and abs(nf - nr) > tolerance * n + 3.0 * np.sqrt(n):
            new = 1.0
        if new != alpha[j]:
            alpha[j] = new
            alpha[p] = new
            ceff[j] = c[j] / new
            ceff[p] = c[p] / new
            changed[n_changed] = j
            changed[n_changed + 1] = p
            n_changed += 2
    return n_changed


@njit(cache=True, nogil=True)
def run_batch(seeds, counts0, c, r_ptr, r_sp, r_coef, d_ptr, d_sp, d_val, cons_ptr, cons_rx,
              cons_kind, cons_partner, cons_sp, cons_mirror, base_slot, n_static, leaf_rx,
              max_steps, t_end, grid, grid_in_time, partner_rx, accel,
              final, grid_sum, grid_sq, firings, steps_done, t_final, ev_rx, ev_t, alpha_out):
    """Run one trajectory per seed. Stops after ``max_steps`` events (-1: no limit) or at time
    ``t_end`` (inf: no limit), or when no reaction can fire.

    Consumer entry w (species ``cons_sp[w]`` -> reaction ``cons_rx[w]``) has ``cons_kind`` 0 (a = c n),
    1 (a = c n n_partner, ``cons_partner``), 2 (a = c n (n - 1)) or 3 (any other form: the general
    product). Each species' entries sit in ``base_slot`` order inside its CSR segment: its
    ``n_static`` entries of kinds 0, 2, 3 first, then its A + B entries, which are kept partitioned
    into active (partner present) and inactive (partner at zero count: propensity 0 whatever this
    species does, so they are skipped). When a species' count crosses zero, the matching entries of
    its partners (``cons_mirror``) move between the two parts.

    Leaf q of the sum tree holds reaction ``leaf_rx[q]`` (a permutation; ``leaf`` below is its
    inverse): an order that puts the consumers of one species on neighbouring leaves lets the
    reactions that one event changes share their ancestors, so fewer tree nodes are recomputed
    (kinetics.ssa.leaf_order).

    Outputs (filled in place): ``final`` (T, S) counts; ``grid_sum`` and ``grid_sq`` (G, S), the sum
    over trajectories of the counts and of their squares at the ``grid`` points (times if
    ``grid_in_time``, else step numbers; the state holding at that point), added to; ``firings`` (R,)
    events per reaction, added to; ``steps_done`` and ``t_final`` per trajectory; ``ev_rx``/``ev_t``
    (T, max_steps) the fired reaction and its time, when their second axis is not empty.

    ``accel`` (window, min_events, tolerance, separation) with window > 0 scales down fast
    quasi-equilibrated reversible pairs (``partner_rx``: each reaction's reverse or -1) every window
    events (kinetics.acceleration); ``alpha_out`` (T, R) gets each trajectory's final factors.
    Propensities use c / alpha; with window 0 alpha stays 1 and nothing else changes."""
    n_rx = len(c)
    off = tree_layout(n_rx)
    root = off[-2]
    tree = np.zeros(off[-1])
    leaf = np.empty(n_rx, dtype=np.int64)            # reaction -> its leaf
    for q in range(n_rx):
        leaf[leaf_rx[q]] = q
    a0 = np.empty(n_rx)
    counts = np.empty_like(counts0)
    mark = np.zeros(off[-1], dtype=np.int64)        # last event that recomputed a tree node
    dirty = np.empty(max(len(cons_rx), 1), dtype=np.int64)
    slot = np.empty_like(base_slot)                   # entry at each position
    where = np.empty_like(base_slot)                  # position of each entry
    act_end = np.empty(len(counts0), dtype=np.int64)  # end of each species' active part
    crossed = np.empty(len(counts0), dtype=np.int64)
    tick = 0
    record_events = ev_rx.shape[1] > 0
    window = int(accel[0])
    ceff = np.empty(n_rx)                            # c / alpha
    alpha = np.empty(n_rx)
    fired = np.zeros(n_rx if window > 0 else 0, dtype=np.int64)   # firings in the current window
    touched = np.empty(n_rx if window > 0 else 0, dtype=np.int64)
    changed = np.empty(2 * n_rx if window > 0 else 0, dtype=np.int64)
    for tr in range(len(seeds)):
        s = rng_state(seeds[tr])
        counts[:] = counts0
        ceff[:] = c
        alpha[:] = 1.0
        n_touched = 0
        win_events = 0
        win_t0 = 0.0
        for j in range(n_rx):
            a0[j] = propensity(j, counts, ceff, r_ptr, r_sp, r_coef)
        tree_build(tree, off, a0, leaf)
        slot[:] = base_slot
        for k in range(len(slot)):
            where[slot[k]] = k
        for sp in range(len(counts0)):
            act_end[sp] = cons_ptr[sp] + n_static[sp]
            for k in range(act_end[sp], cons_ptr[sp + 1]):
                if counts[cons_partner[slot[k]]] > 0:
                    _swap(slot, where, k, act_end[sp])
                    act_end[sp] += 1
        t = 0.0
        step = 0
        g = 0
        by_steps = False
        while True:
            if max_steps >= 0 and step >= max_steps:
                by_steps = True
                break
            total = tree[root]
            if total <= 0.0:
                break
            dt = -np.log(1.0 - uniform(s)) / total
            if t + dt > t_end:
                break
            j = leaf_rx[tree_pick(tree, off, uniform(s) * total)]
            if tree[leaf[j]] <= 0.0:          # round-off at a boundary: draw again
                continue
            # grid points passed before this event hold the current state
            g = record_grid(grid, grid_in_time, g, t + dt, step, counts, grid_sum, grid_sq)
            t += dt
            if record_events and step < ev_rx.shape[1]:
                ev_rx[tr, step] = j
                ev_t[tr, step] = t
            step += 1
            firings[j] += 1
            n_crossed = 0
            n_dirty = 0
            for q in range(d_ptr[j], d_ptr[j + 1]):
                sp = d_sp[q]
                old = counts[sp]
                counts[sp] = old + d_val[q]
                if (old == 0) != (counts[sp] == 0):
                    crossed[n_crossed] = sp
                    n_crossed += 1
            for i in range(n_crossed):                  # partners of a species that appeared/vanished
                sp = crossed[i]
                present = counts[sp] > 0
                for k in range(cons_ptr[sp] + n_static[sp], cons_ptr[sp + 1]):
                    m = cons_mirror[slot[k]]
                    other = cons_sp[m]
                    pos = where[m]
                    if present and pos >= act_end[other]:
                        _swap(slot, where, pos, act_end[other])
                        act_end[other] += 1
                    elif not present and pos < act_end[other]:
                        act_end[other] -= 1
                        _swap(slot, where, pos, act_end[other])
                        node = leaf[cons_rx[m]]   # sp is gone: this A + B reaction stops
                        if tree[node] != 0.0:
                            tree[node] = 0.0
                            dirty[n_dirty] = node // FANOUT
                            n_dirty += 1
            # a reaction with two changed reactants is recomputed twice; the second finds no change
            for q in range(d_ptr[j], d_ptr[j + 1]):
                sp = d_sp[q]
                n = float(counts[sp])
                for k in range(cons_ptr[sp], act_end[sp]):
                    w = slot[k]
                    r = cons_rx[w]
                    kind = cons_kind[w]
                    if kind == 0:
                        v = ceff[r] * n
                    elif kind == 1:
                        prod = n * counts[cons_partner[w]]
                        v = ceff[r] * prod if prod > 0.0 else 0.0
                    elif kind == 2:
                        prod = n * (n - 1.0)
                        v = ceff[r] * prod if prod > 0.0 else 0.0
                    else:
                        v = propensity(r, counts, ceff, r_ptr, r_sp, r_coef)
                    node = leaf[r]
                    if v != tree[node]:
                        tree[node] = v
                        dirty[n_dirty] = node // FANOUT
                        n_dirty += 1
            tick += 1
            tree_refresh(tree, off, dirty, n_dirty, mark, tick)
            if window > 0:
                if fired[j] == 0:
                    touched[n_touched] = j
                    n_touched += 1
                fired[j] += 1
                win_events += 1
                if win_events >= window and t > win_t0:
                    n_changed = rescale_window(touched, n_touched, fired, partner_rx, alpha, c, ceff,
                                               t - win_t0, accel, changed)
                    for i in range(n_changed):
                        r = changed[i]
                        tree_set(tree, off, leaf[r], propensity(r, counts, ceff, r_ptr, r_sp, r_coef))
                    for i in range(n_touched):
                        fired[touched[i]] = 0
                    n_touched = 0
                    win_events = 0
                    win_t0 = t
        finish_trajectory(tr, g, counts, step, t, t_end, by_steps, grid_sum, grid_sq, final, steps_done, t_final)
        if alpha_out.shape[1] > 0:
            alpha_out[tr, :] = alpha
        if window > 0:
            for i in range(n_touched):
                fired[touched[i]] = 0
    return 0
