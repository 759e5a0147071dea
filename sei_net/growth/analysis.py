"""What a growth run measured: SEI thickness, composition and density profiles along z, porosity,
and the growth law of thickness against time. Lengths in Å, time in s, density in g/cm^3."""

from __future__ import annotations

import math

import numpy as np
import torch

from sei_net.growth.neighbours import minimum_image
from sei_net.growth.phases import INSOLUBLE
from sei_net.growth.reactive import deposit_height
from sei_net.growth.state import GrowthState

_AMU_PER_A3_IN_G_PER_CM3 = 1.66053906660


def thickness(state: GrowthState, spacing: float = 1.0) -> dict:
    """Deposit surface height on an x-y grid of ``spacing`` Å: mean, max and coverage (fraction of
    the electrode under a deposit)."""
    box = state.box
    nx, ny = (max(1, int(float(box[a]) / spacing)) for a in (0, 1))
    gx = (torch.arange(nx, dtype=box.dtype, device=box.device) + 0.5) * box[0] / nx
    gy = (torch.arange(ny, dtype=box.dtype, device=box.device) + 0.5) * box[1] / ny
    xy = torch.stack(torch.meshgrid(gx, gy, indexing="ij"), -1).reshape(-1, 2)
    h = deposit_height(xy, state)
    return {"mean": float(h.mean()), "max": float(h.max()), "coverage": float((h > 0).double().mean())}


def profiles(state: GrowthState, bin_width: float = 2.0) -> dict:
    """Counts per z bin (Å) of every species present, split into deposited and mobile, and the mass
    density (g/cm^3) of the deposit and of everything per bin."""
    edges = np.arange(0.0, float(state.box[2]) + bin_width, bin_width)
    z = state.positions[:, 2].cpu().numpy()
    sp = state.species.cpu().numpy()
    mobile = state.mobile.cpu().numpy()
    mass = state.mass.cpu().numpy()
    vol = float(state.box[0] * state.box[1]) * bin_width
    out = {"z_edges": edges.tolist(), "deposited": {}, "mobile": {}}
    for s in np.unique(sp):
        for where, sel in (("deposited", ~mobile), ("mobile", mobile)):
            hit = sel & (sp == s)
            if hit.any():
                out[where][state.sites.names[s]] = np.histogram(z[hit], edges)[0].tolist()
    for where, sel in (("deposit_density", ~mobile), ("density", np.ones_like(mobile))):
        m = np.histogram(z[sel], edges, weights=mass[sel])[0]
        out[where] = (m / vol * _AMU_PER_A3_IN_G_PER_CM3).round(4).tolist()
    return out


def porosity(state: GrowthState, height: float, samples: int = 20000, seed: int = 0) -> float | None:
    """Fraction of the film 0 < z < ``height`` (Å) not inside a deposited sphere (Monte Carlo with
    ``samples`` points); None without a film."""
    dep = torch.nonzero(~state.mobile).flatten()
    if height <= 0 or len(dep) == 0:
        return None
    g = torch.Generator().manual_seed(seed)
    pts = torch.rand(samples, 3, generator=g, dtype=state.positions.dtype) * torch.stack(
        [state.box[0].cpu(), state.box[1].cpu(), torch.tensor(height, dtype=state.positions.dtype)])
    pts = pts.to(state.device)
    c, r = state.positions[dep], 0.5 * state.sigma[dep]
    inside = torch.zeros(samples, dtype=torch.bool, device=state.device)
    for start in range(0, samples, 2048):
        d = minimum_image(pts[start:start + 2048, None, :] - c[None], state.box)
        inside[start:start + 2048] = (d.square().sum(-1) < r * r).any(dim=1)
    return float(1.0 - inside.double().mean())


def layer_order(state: GrowthState) -> dict:
    """Mean height (Å) of inorganic and of organic deposits (phases / sites.organic), None if absent."""
    sp = state.species.cpu().numpy()
    dep = ~state.mobile.cpu().numpy() & (state.sites.phase[sp] == INSOLUBLE)
    z = state.positions[:, 2].cpu().numpy()
    org = state.sites.organic[sp]
    out = {}
    for name, sel in (("inorganic", dep & ~org), ("organic", dep & org)):
        out[name] = {"count": int(sel.sum()), "mean_z": float(z[sel].mean()) if sel.any() else None}
    return out


def _r2(y, fit):
    ss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - fit) ** 2).sum()) / ss if ss > 0 else None


def growth_laws(time: np.ndarray, height: np.ndarray) -> dict:
    """Fits of thickness h (Å) against time t (s): power law h = a t^n (log-log least squares),
    logarithmic h = a + b ln t (tunnelling-limited growth, Peled 1979), each with R^2; the best by
    R^2; and the late/early growth-rate ratio (slope over the last quarter of t / first quarter)."""
    t, h = np.asarray(time, float), np.asarray(height, float)
    ok = (t > 0) & (h > 0)
    out = {"points": int(ok.sum())}
    if ok.sum() < 4:
        return out
    t, h = t[ok], h[ok]
    n, ln_a = np.polyfit(np.log(t), np.log(h), 1)
    out["power"] = {"a": float(math.exp(ln_a)), "n": float(n), "r2": _r2(h, math.exp(ln_a) * t ** n)}
    b, a = np.polyfit(np.log(t), h, 1)
    out["logarithmic"] = {"a": float(a), "b": float(b), "r2": _r2(h, a + b * np.log(t))}
    out["best"] = max(("power", "logarithmic"), key=lambda k: out[k]["r2"] if out[k]["r2"] is not None else -1)
    q = max(2, len(t) // 4)
    early = np.polyfit(t[:q], h[:q], 1)[0]
    late = np.polyfit(t[-q:], h[-q:], 1)[0]
    out["late_over_early_rate"] = float(late / early) if early > 0 else None
    return out


def plot(summary: dict, series: dict, path) -> None:
    """Thickness against time and the final composition/density profiles, as one PNG."""
    from sei_net.plotting import pyplot, save_png

    fig, ax = pyplot().subplots(1, 3, figsize=(15, 4.2))
    ax[0].plot(series["time"], series["thickness_mean"], label="mean")
    ax[0].plot(series["time"], series["thickness_max"], label="max", alpha=0.6)
    ax[0].set(xlabel="time (s)", ylabel="SEI thickness (Å)", title="growth")
    ax[0].legend()
    prof = summary["profiles"]
    mid = 0.5 * (np.array(prof["z_edges"][1:]) + np.array(prof["z_edges"][:-1]))
    for name, counts in sorted(prof["deposited"].items(), key=lambda kv: -sum(kv[1]))[:8]:
        ax[1].plot(mid, counts, label=name[:30])
    ax[1].set(xlabel="z (Å)", ylabel="deposited sites per bin", title="deposit composition")
    if prof["deposited"]:
        ax[1].legend(fontsize=7)
    ax[2].plot(mid, prof["density"], label="all")
    ax[2].plot(mid, prof["deposit_density"], label="deposit")
    ax[2].set(xlabel="z (Å)", ylabel="density (g/cm³)", title="density profile")
    ax[2].legend()
    save_png(fig, path, dpi=110)
