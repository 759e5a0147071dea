"""Pair lists in plain torch (pyg-lib's radius_graph is not available everywhere): cell lists for
large systems, all pairs for small ones. Periodic in x and y (minimum image), open in z."""

from __future__ import annotations

import itertools

import torch

#: below this many particles all pairs are cheaper than binning
BRUTE_FORCE_MAX = 1500
_OFFSETS = list(itertools.product((-1, 0, 1), repeat=3))


def minimum_image(d: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Displacements ``d`` (..., 3) wrapped to the nearest periodic image in x and y (Å)."""
    xy = d[..., :2] - box[:2] * torch.round(d[..., :2] / box[:2])
    return torch.cat([xy, d[..., 2:]], dim=-1)


def pair_list(pos: torch.Tensor, box: torch.Tensor, cutoff: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Index tensors (i, j), i < j, of all pairs closer than ``cutoff`` (Å); ``box`` = (Lx, Ly, Lz)."""
    n = pos.shape[0]
    if cutoff <= 0:
        raise ValueError(f"pair-list cutoff {cutoff!r} Å must be positive")
    n_cells = torch.clamp(torch.floor(box / cutoff), min=1).long()
    if n <= BRUTE_FORCE_MAX or bool((n_cells[:2] < 3).any()):
        return _all_pairs(pos, box, cutoff)
    return _cell_pairs(pos, box, cutoff, n_cells)


def _all_pairs(pos, box, cutoff, chunk: int = 2048):
    n = pos.shape[0]
    out_i, out_j = [], []
    for start in range(0, n, chunk):
        rows = torch.arange(start, min(n, start + chunk), device=pos.device)
        d = minimum_image(pos[None, :, :] - pos[rows, None, :], box)
        close = (d.square().sum(-1) < cutoff * cutoff) & (torch.arange(n, device=pos.device)[None, :] > rows[:, None])
        ii, jj = torch.nonzero(close, as_tuple=True)
        out_i.append(rows[ii])
        out_j.append(jj)
    return torch.cat(out_i), torch.cat(out_j)


def _cell_pairs(pos, box, cutoff, n_cells):
    n = pos.shape[0]
    dev = pos.device
    size = box / n_cells
    cell = torch.minimum(torch.clamp(torch.floor(pos / size).long(), min=0), n_cells - 1)
    nx, ny, nz = (int(v) for v in n_cells)
    cid = (cell[:, 0] * ny + cell[:, 1]) * nz + cell[:, 2]
    order = torch.argsort(cid)
    counts = torch.bincount(cid, minlength=nx * ny * nz)
    start = torch.cumsum(counts, 0) - counts
    slots = torch.arange(int(counts.max()), device=dev)
    me = torch.arange(n, device=dev)
    out_i, out_j = [], []
    for dx, dy, dz in _OFFSETS:
        cx = (cell[:, 0] + dx) % nx
        cy = (cell[:, 1] + dy) % ny
        cz = cell[:, 2] + dz
        inside = (cz >= 0) & (cz < nz)
        nid = (cx * ny + cy) * nz + cz.clamp(0, nz - 1)
        cnt = torch.where(inside, counts[nid], 0)
        valid = slots[None, :] < cnt[:, None]
        j = order[(start[nid][:, None] + slots[None, :]).clamp(max=n - 1)]
        valid &= j > me[:, None]
        ii = me[:, None].expand_as(j)[valid]
        jj = j[valid]
        d = minimum_image(pos[jj] - pos[ii], box)
        close = d.square().sum(-1) < cutoff * cutoff
        out_i.append(ii[close])
        out_j.append(jj[close])
    return torch.cat(out_i), torch.cat(out_j)
