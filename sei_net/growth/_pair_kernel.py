"""Numba CPU kernel for the one-site pair forces (WCA + shifted-force screened Coulomb), the CPU
route of forcefield.PairModel; its torch route (GPU) computes the same sums (tests compare them).

Cell lists are rebuilt on every call by a counting sort (O(N)); each particle loops over the full
shell of neighbour cells, so every pair is visited from both sides and each thread writes only
its own particle's force (no atomics). Periodic in x and y, open in z; units Å, eV, e.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_WCA = 2.0 ** (1.0 / 6.0)


@numba.njit(cache=True)
def _bin(pos, members, box, cutoff):
    """Cell grid (n per axis), start offsets and member order for the particles ``members``."""
    n = np.empty(3, np.int64)
    for a in range(3):
        n[a] = max(1, int(math.floor(box[a] / cutoff)))
    ncell = n[0] * n[1] * n[2]
    cell = np.empty(len(members), np.int64)
    counts = np.zeros(ncell + 1, np.int64)
    for k in range(len(members)):
        c = np.empty(3, np.int64)
        for a in range(3):
            v = int(math.floor(pos[members[k], a] / box[a] * n[a]))
            c[a] = min(max(v, 0), n[a] - 1)
        cell[k] = (c[0] * n[1] + c[1]) * n[2] + c[2]
        counts[cell[k] + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    order = np.empty(len(members), np.int64)
    for k in range(len(members)):
        order[fill[cell[k]]] = members[k]
        fill[cell[k]] += 1
    return n, start, order


@numba.njit(cache=True)
def _neighbour_cells(c, n, periodic):
    """Distinct cell coordinates along one axis next to c (wrapping when periodic)."""
    out = np.empty(3, np.int64)
    m = 0
    for d in (-1, 0, 1):
        v = c + d
        if periodic:
            v %= n
        elif v < 0 or v >= n:
            continue
        dup = False
        for q in range(m):
            if out[q] == v:
                dup = True
        if not dup:
            out[m] = v
            m += 1
    return out[:m]


@numba.njit(parallel=True, cache=True)
def pair_forces(pos, sigma, charge, box, epsilon, coul_a, debye, coul_cut):
    """(forces (N, 3) eV/Å, energy eV) of WCA between all sites and screened Coulomb between
    charged ones; ``coul_a`` = e^2/(4 pi eps0 eps_r) in eV Å, ``debye`` and ``coul_cut`` in Å."""
    N = pos.shape[0]
    forces = np.zeros((N, 3))
    energy = np.zeros(N)
    if N == 0:
        return forces, 0.0
    smax = 0.0
    for i in range(N):
        smax = max(smax, sigma[i])
    everyone = np.arange(N)
    n, start, order = _bin(pos, everyone, box, _WCA * smax)
    charged = np.flatnonzero(charge != 0.0)
    cn, cstart, corder = _bin(pos, charged, box, coul_cut)
    uc = math.exp(-coul_cut / debye) / coul_cut          # per unit coul_a * q_i q_j
    duc = -uc * (1.0 / coul_cut + 1.0 / debye)
    for i in numba.prange(N):
        fx = 0.0
        fy = 0.0
        fz = 0.0
        e = 0.0
        for sweep in range(2):
            if sweep == 1 and charge[i] == 0.0:
                break
            g = n if sweep == 0 else cn
            st = start if sweep == 0 else cstart
            od = order if sweep == 0 else corder
            c = np.empty(3, np.int64)
            for a in range(3):
                v = int(math.floor(pos[i, a] / box[a] * g[a]))
                c[a] = min(max(v, 0), g[a] - 1)
            xs = _neighbour_cells(c[0], g[0], True)
            ys = _neighbour_cells(c[1], g[1], True)
            zs = _neighbour_cells(c[2], g[2], False)
            for cx in xs:
                for cy in ys:
                    for cz in zs:
                        cid = (cx * g[1] + cy) * g[2] + cz
                        for k in range(st[cid], st[cid + 1]):
                            j = od[k]
                            if j == i:
                                continue
                            dx = pos[j, 0] - pos[i, 0]
                            dy = pos[j, 1] - pos[i, 1]
                            dz = pos[j, 2] - pos[i, 2]
                            dx -= box[0] * round(dx / box[0])
                            dy -= box[1] * round(dy / box[1])
                            r2 = dx * dx + dy * dy + dz * dz
                            if sweep == 0:
                                sij = 0.5 * (sigma[i] + sigma[j])
                                if r2 >= _WCA * _WCA * sij * sij:
                                    continue
                                s6 = (sij * sij / r2) ** 3
                                fr = 24.0 * epsilon * s6 * (2.0 * s6 - 1.0) / r2
                                e += 0.5 * (4.0 * epsilon * s6 * (s6 - 1.0) + epsilon)
                            else:
                                r = math.sqrt(r2)
                                if r >= coul_cut:
                                    continue
                                a = coul_a * charge[i] * charge[j]
                                u = a * math.exp(-r / debye) / r
                                du = -u * (1.0 / r + 1.0 / debye)
                                fr = -(du - a * duc) / r
                                e += 0.5 * (u - a * uc - (r - coul_cut) * a * duc)
                            fx -= fr * dx
                            fy -= fr * dy
                            fz -= fr * dz
        forces[i, 0] = fx
        forces[i, 1] = fy
        forces[i, 2] = fz
        energy[i] = e
    return forces, energy.sum()
