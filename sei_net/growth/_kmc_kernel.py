"""Compiled loop of the reactive kinetic Monte Carlo step of hybrid MD/MC growth (growth.kmc).

Sites and candidates live in fixed-capacity arrays with free-slot stacks; a consumed site's slot is
reused by a product. Channels of the three families (electrode, unimolecular, pair) are one CSR
table: candidate entry g covers rows ptr[g]:ptr[g+1] (reaction, rate constant k). A candidate's
propensity is weight * sum_rows k / alpha[reaction]. Each event scans the candidates twice (sum,
then pick): O(C) with C a few thousand, a few microseconds.

The loop returns early (with the time reached) when fewer than ``SITE_ROOM`` free site slots or
``CANDIDATE_ROOM`` free candidate slots are left, before it draws a random number, so the caller
can grow the arrays and call again and get the same result as with larger arrays from the start.

Numba caches compiled code per module: the helpers taken from kinetics._ssa_kernel (random
stream, rate-scaling window rule) are compiled into this module's cache; after changing them, clear
__pycache__ of this package.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sei_net.kinetics._ssa_kernel import rescale_window, uniform

DONE, NEED_ROOM, MAX_EVENTS = 0, 1, 2
SITE_ROOM = 16
CANDIDATE_ROOM = 512
FAMILY_ELECTRODE, FAMILY_UNIMOLECULAR, FAMILY_PAIR = 0, 1, 2


@njit(cache=True, inline="always")
def _wrap(d, length):
    """Minimum image of a separation ``d`` along a periodic axis of ``length``."""
    return d - length * np.round(d / length)


@njit(cache=True)
def surface_height(x, y, dep_pos, dep_r, box) -> float:
    """Height (Å) of the top of the union of deposited spheres over (x, y); 0 where bare."""
    h = 0.0
    for d in range(dep_r.shape[0]):
        dx = _wrap(x - dep_pos[d, 0], box[0])
        dy = _wrap(y - dep_pos[d, 1], box[1])
        rho2 = dx * dx + dy * dy
        r2 = dep_r[d] * dep_r[d]
        if rho2 < r2:
            top = dep_pos[d, 2] + math.sqrt(r2 - rho2)
            if top > h:
                h = top
    return h


@njit(cache=True)
def surface_heights(xy, dep_pos, dep_r, box) -> np.ndarray:
    """surface_height for each point of ``xy`` (P, 2)."""
    out = np.zeros(xy.shape[0])
    for p in range(xy.shape[0]):
        out[p] = surface_height(xy[p, 0], xy[p, 1], dep_pos, dep_r, box)
    return out


@njit(cache=True, inline="always")
def _new_slot(free, meta, k_top, k_free) -> int:
    if meta[k_free] > 0:
        meta[k_free] -= 1
        return free[meta[k_free]]
    meta[k_top] += 1
    return meta[k_top] - 1


@njit(cache=True)
def _add_candidate(fam, i, j, g, w, cand_i, cand_w, cand_p, totals, free_c, meta):
    c = _new_slot(free_c, meta, 2, 3)
    cand_i[c, 0] = fam
    cand_i[c, 1] = i
    cand_i[c, 2] = j
    cand_i[c, 3] = g
    cand_w[c] = w
    cand_p[c] = w * totals[g]


@njit(cache=True)
def add_site_candidates(k, upto, site_sp, site_pos, site_sig, site_alive, e_entry, u_entry, pair_partner,
                        pair_keys, offsets, n_species, settings, box, dep_pos, dep_r,
                        cand_i, cand_w, cand_p, totals, free_c, meta):
    """Electrode, unimolecular and pair candidates of site ``k`` (pairs with live sites m < upto,
    m != k). ``settings``: reach (Å), beta (1/Å), shell (Å), reach_top (Å), N_A."""
    reach, beta, shell, reach_top, avogadro = settings[0], settings[1], settings[2], settings[3], settings[4]
    sp = site_sp[k]
    e = e_entry[sp]
    if e >= 0:
        bottom = site_pos[k, 2] - 0.5 * site_sig[k]
        if bottom < reach_top:
            h = surface_height(site_pos[k, 0], site_pos[k, 1], dep_pos, dep_r, box)
            if max(bottom - h, 0.0) < reach:
                crossed = max(min(h, bottom), 0.0)
                _add_candidate(FAMILY_ELECTRODE, k, -1, offsets[0] + e, math.exp(-beta * crossed),
                               cand_i, cand_w, cand_p, totals, free_c, meta)
    u = u_entry[sp]
    if u >= 0:
        _add_candidate(FAMILY_UNIMOLECULAR, k, -1, offsets[1] + u, 1.0, cand_i, cand_w, cand_p,
                       totals, free_c, meta)
    if pair_partner[sp]:
        for m in range(upto):
            if m == k or not site_alive[m] or not pair_partner[site_sp[m]]:
                continue
            dx = _wrap(site_pos[m, 0] - site_pos[k, 0], box[0])
            dy = _wrap(site_pos[m, 1] - site_pos[k, 1], box[1])
            dz = site_pos[m, 2] - site_pos[k, 2]
            sij = 0.5 * (site_sig[k] + site_sig[m])
            r2 = dx * dx + dy * dy + dz * dz
            if r2 >= (sij + shell) * (sij + shell):
                continue
            a, b = min(sp, site_sp[m]), max(sp, site_sp[m])
            key = a * n_species + b
            idx = np.searchsorted(pair_keys, key)
            if idx < pair_keys.shape[0] and pair_keys[idx] == key:
                volume = 4.0 / 3.0 * math.pi * ((sij + shell) ** 3 - sij ** 3) * 1e-27    # L
                w = (2.0 if a == b else 1.0) / (avogadro * volume)
                _add_candidate(FAMILY_PAIR, k, m, offsets[2] + idx, w, cand_i, cand_w, cand_p,
                               totals, free_c, meta)


@njit(cache=True)
def reaction_centre(site_pos, i, j, box):
    """(x, y, z) in Å where the products of site i (and site j >= 0) go: i's centre, or the
    midpoint of i and j (minimum image in x, y)."""
    cx, cy, cz = site_pos[i, 0], site_pos[i, 1], site_pos[i, 2]
    if j >= 0:
        cx += 0.5 * _wrap(site_pos[j, 0] - cx, box[0])
        cy += 0.5 * _wrap(site_pos[j, 1] - cy, box[1])
        cz += 0.5 * (site_pos[j, 2] - cz)
    return cx, cy, cz


@njit(cache=True)
def product_position(cx, cy, cz, first_sigma, sigma, box, rng):
    """(x, y, z) in Å of a product of diameter ``sigma`` (Å): at the centre when it is the first
    product that stays (``first_sigma`` < 0), else one contact distance 0.5 (first_sigma + sigma)
    from it in a random direction (xoshiro stream ``rng``); inside the walls, wrapped in x and y."""
    x, y, z = cx, cy, cz
    if first_sigma >= 0.0:
        n1 = math.sqrt(-2.0 * math.log(1.0 - uniform(rng)))
        n2 = math.sqrt(-2.0 * math.log(1.0 - uniform(rng)))
        a1, a2 = 2.0 * math.pi * uniform(rng), 2.0 * math.pi * uniform(rng)
        ux, uy, uz = n1 * math.cos(a1), n1 * math.sin(a1), n2 * math.cos(a2)
        norm = math.sqrt(ux * ux + uy * uy + uz * uz)
        d = 0.5 * (first_sigma + sigma) / max(norm, 1e-12)
        x, y, z = x + ux * d, y + uy * d, z + uz * d
    half = 0.5 * sigma
    return x % box[0], y % box[1], min(max(z, half), box[2] - half)


@njit(cache=True)
def entry_totals(ptr, rate, reaction, alpha, totals) -> None:
    """totals[g] = sum over entry g's rows of k / alpha[reaction]."""
    for g in range(ptr.shape[0] - 1):
        s = 0.0
        for q in range(ptr[g], ptr[g + 1]):
            s += rate[q] / alpha[reaction[q]]
        totals[g] = s


@njit(cache=True)
def _kill_site(s, site_alive, free_s, cand_i, cand_p, free_c, meta):
    site_alive[s] = False
    free_s[meta[1]] = s
    meta[1] += 1
    for c in range(meta[2]):
        if cand_i[c, 0] >= 0 and (cand_i[c, 1] == s or cand_i[c, 2] == s):
            cand_i[c, 0] = -1
            cand_p[c] = 0.0
            free_c[meta[3]] = c
            meta[3] += 1


@njit(cache=True)
def run(clock, dt, max_events, rng, site_sp, site_pos, site_sig, site_alive, site_orig, free_s,
        e_entry, u_entry, pair_partner, pair_keys, offsets, n_species, settings, box, dep_pos, dep_r,
        ptr, rate, reaction, prod_ptr, prod_sp, sigma_sp, gas_sp,
        cand_i, cand_w, cand_p, totals, free_c, meta,
        alpha, c_base, ceff, partner, fired, window, params, ev_fam, ev_rx, gas_counts) -> int:
    """Direct-method events until the step's time ``dt`` (s) is used up (clock[0]: time reached).

    meta: [sites in use (high-water mark), free site slots, candidate high-water mark, free
    candidate slots, events recorded]; window: [events, time (s)] of the open acceleration window
    (params[0] > 0 switches it on). Returns DONE, NEED_ROOM or MAX_EVENTS."""
    t = clock[0]
    site_cap = site_sp.shape[0]
    cand_cap = cand_p.shape[0]
    accelerate = params[0] > 0
    touched = np.empty(alpha.shape[0], dtype=np.int64)
    changed = np.empty(2 * alpha.shape[0], dtype=np.int64)
    status = DONE
    while True:
        if site_cap - meta[0] + meta[1] < SITE_ROOM or cand_cap - meta[2] + meta[3] < CANDIDATE_ROOM:
            status = NEED_ROOM
            break
        total = 0.0
        for c in range(meta[2]):
            total += cand_p[c]
        if total <= 0.0:
            window[1] += dt - t
            t = dt
            break
        tau = -math.log(1.0 - uniform(rng)) / total
        if t + tau >= dt:
            window[1] += dt - t
            t = dt
            break
        t += tau
        window[1] += tau
        target = uniform(rng) * total
        pick = -1
        acc = 0.0
        for c in range(meta[2]):
            if cand_p[c] > 0.0:
                pick = c
                acc += cand_p[c]
                if acc > target:
                    break
        fam, i, j, g = cand_i[pick, 0], cand_i[pick, 1], cand_i[pick, 2], cand_i[pick, 3]
        # the channel, with probability k / alpha over the entry's total
        lo, hi = ptr[g], ptr[g + 1]
        row = hi - 1
        if hi - lo > 1:
            target = uniform(rng) * totals[g]
            acc = 0.0
            for q in range(lo, hi):
                acc += rate[q] / alpha[reaction[q]]
                if acc > target:
                    row = q
                    break
        rx = reaction[row]
        cx, cy, cz = reaction_centre(site_pos, i, j, box)
        _kill_site(i, site_alive, free_s, cand_i, cand_p, free_c, meta)
        if j >= 0:
            _kill_site(j, site_alive, free_s, cand_i, cand_p, free_c, meta)
        first_sigma = -1.0
        for q in range(prod_ptr[rx], prod_ptr[rx + 1]):
            p = prod_sp[q]
            if gas_sp[p]:
                gas_counts[p] += 1
                continue
            x, y, z = product_position(cx, cy, cz, first_sigma, sigma_sp[p], box, rng)
            if first_sigma < 0.0:
                first_sigma = sigma_sp[p]
            k = _new_slot(free_s, meta, 0, 1)
            site_sp[k] = p
            site_pos[k, 0] = x
            site_pos[k, 1] = y
            site_pos[k, 2] = z
            site_sig[k] = sigma_sp[p]
            site_alive[k] = True
            site_orig[k] = False
            add_site_candidates(k, meta[0], site_sp, site_pos, site_sig, site_alive, e_entry, u_entry,
                                pair_partner, pair_keys, offsets, n_species, settings, box, dep_pos, dep_r,
                                cand_i, cand_w, cand_p, totals, free_c, meta)
        ev_fam[meta[4]] = fam
        ev_rx[meta[4]] = rx
        meta[4] += 1
        if accelerate:
            fired[rx] += 1
            window[0] += 1
            if window[0] >= params[0] and window[1] > 0.0:
                n_touched = 0
                for r in range(fired.shape[0]):
                    if fired[r] > 0:
                        touched[n_touched] = r
                        n_touched += 1
                n_changed = rescale_window(touched, n_touched, fired, partner, alpha, c_base, ceff, window[1],
                                           params, changed)
                if n_changed > 0:
                    entry_totals(ptr, rate, reaction, alpha, totals)
                    for c in range(meta[2]):
                        if cand_i[c, 0] >= 0:
                            cand_p[c] = cand_w[c] * totals[cand_i[c, 3]]
                for q in range(n_touched):
                    fired[touched[q]] = 0
                window[0] = 0.0
                window[1] = 0.0
        if meta[4] >= max_events:
            status = MAX_EVENTS
            break
    clock[0] = t
    return status
