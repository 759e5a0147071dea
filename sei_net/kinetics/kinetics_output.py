"""Kinetics results on disk (Parquet tables) and as plots of counts against time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def write_ssa_tables(result, names: list[str], reaction_ids: np.ndarray, out_dir: str | Path) -> list[Path]:
    """Write a stochastic run as Parquet into ``out_dir``: ``final_counts`` (one row per trajectory,
    a column per species that is ever present), ``grid`` (mean and std of those species at each
    grid point), ``firings`` (store reaction id -> events) and, when recorded, ``events`` (seed,
    step, store reaction id, time; RNMC's trajectories table). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    present = np.flatnonzero((result.final > 0).any(axis=0) | (result.grid_mean > 0).any(axis=0))
    cols = {"seed": result.seeds, "steps": result.steps, "end_time": result.end_time}
    cols.update({names[s]: result.final[:, s].astype(np.int32) for s in present})
    paths = [out / "final_counts.parquet", out / "grid.parquet", out / "firings.parquet"]
    pq.write_table(pa.table(cols), paths[0], compression="zstd")
    grid = {"time" if result.grid_in_time else "step": result.grid}
    for s in present:
        grid[f"{names[s]} mean"] = result.grid_mean[:, s]
        grid[f"{names[s]} std"] = result.grid_std[:, s]
    pq.write_table(pa.table(grid), paths[1], compression="zstd")
    fired = np.flatnonzero(result.firings)
    pq.write_table(pa.table({"reaction_id": reaction_ids[fired], "events": result.firings[fired]}), paths[2],
                   compression="zstd")
    if result.events is not None:
        valid = result.events >= 0
        traj, step = np.nonzero(valid)
        pq.write_table(pa.table({"seed": result.seeds[traj], "step": step.astype(np.int32),
                                 "reaction_id": reaction_ids[result.events[valid]],
                                 "time": result.event_times[valid]}),
                       out / "events.parquet", compression="zstd")
        paths.append(out / "events.parquet")
    return paths


def plot_counts(x: np.ndarray, mean: np.ndarray, std: np.ndarray | None, names: list[str],
                out: str | Path, xlabel: str, ylabel: str = "molecules", top: int = 8,
                title: str = "") -> Path:
    """Mean (and +-1 std band) of the ``top`` species with the largest final values against ``x``."""
    from sei_net.plotting import pyplot, save_png

    final = mean[-1]
    peak = mean.max(axis=0)
    chosen = [s for s in np.argsort(-(final + 0.25 * peak), kind="stable")[:top] if peak[s] > 0]
    fig, ax = pyplot().subplots(figsize=(7.0, 4.2))
    for i, s in enumerate(chosen):
        ax.plot(x, mean[:, s], color=f"C{i % 10}", lw=1.8, label=names[s])
        if std is not None:
            ax.fill_between(x, mean[:, s] - std[:, s], mean[:, s] + std[:, s], color=f"C{i % 10}", alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="best")
    return save_png(fig, out)
