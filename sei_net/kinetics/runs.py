"""Kinetics runs on a stored network, as ``sei-net kmc`` and ``sei-net ode`` do them: set up the
mechanism and initial state, simulate, record the run in the network's runs table, write tables
and plots. Returns JSON-ready summaries."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

from sei_net.kinetics.acceleration import Acceleration
from sei_net.kinetics.kinetics_output import plot_counts, write_ssa_tables
from sei_net.kinetics.ode import integrate
from sei_net.kinetics.setup import initial_state, load_mechanism, member_mechanisms, member_spread
from sei_net.kinetics.ssa import simulate


def _settings(mech, query, origin: str, volume, mode: str) -> dict:
    out = {"mode": mode, "rates": mech.rate_source, "rate_units": mech.units,
           "initial_state": origin, "volume_L": volume if mode == "physical" else None,
           "time_units": "s" if mode == "physical" else "RNMC units (not volume-scaled)"}
    if query is not None:
        out.update(query.describe())
    return out


@contextmanager
def _recorded(store, kind: str, params: dict):
    """Record a run in the network's runs table: 'running', then 'done' with the summary the body
    fills in (and its run_id), or 'failed' with the error."""
    run_id = store.start_run(kind, params)
    summary: dict = {}
    try:
        yield summary
    except BaseException as err:
        store.finish_run(run_id, {"error": str(err)}, status="failed")
        raise
    store.finish_run(run_id, summary)
    summary["run_id"] = run_id


def kmc(store, *, init: list[str] | None = None, trajectories: int = 100, steps: int | None = None,
        time: float | None = None, seed: int = 0, rnmc: bool = False, volume: float | None = None,
        rates: str | None = None, energy_source: str | None = None, potential: float | None = None,
        workers: int = 1, scheduler: str | None = None, members: bool = False,
        record_events: bool = False, out: Path | None = None, plot: Path | None = None,
        accelerate: Acceleration | None = None, kernel: str = "auto") -> dict:
    """Stochastic kinetics (kinetics.ssa) on ``store`` (opened writable: the run is recorded);
    ``accelerate`` (kinetics.acceleration.Acceleration) slows fast equilibrated pairs; ``kernel``
    as in kinetics.ssa.simulate."""
    mode = "rnmc" if rnmc else "physical"
    mech, query = load_mechanism(store, rates, energy_source, potential)
    counts, volume, origin = initial_state(store, init, volume)
    if mode == "physical" and volume is None:
        raise ValueError("physical time needs the volume: give --volume (L), or --rnmc for RNMC's "
                         "unscaled propensities")
    params = {"trajectories": trajectories, "steps": steps, "time": time, "seed": seed, "mode": mode,
              "volume_L": volume, "initial": {mech.names[s]: int(n) for s, n in counts.items()},
              "acceleration": None if accelerate is None else accelerate.describe(), "kernel": kernel}
    with _recorded(store, "kmc", params) as summary:
        result = simulate(mech, counts, trajectories, steps=steps, time=time, seed=seed, mode=mode,
                          volume=volume, record_events=record_events, workers=workers, scheduler=scheduler,
                          accelerate=accelerate, kernel=kernel)
        summary.update(result.summary(mech.names, min_mean=0.0))
        summary["settings"] = _settings(mech, query, origin, volume, mode)
        if members:
            finals = []
            for m in member_mechanisms(query):
                r = simulate(m, counts, trajectories, steps=steps, time=time, seed=seed, mode=mode,
                             volume=volume, workers=workers, scheduler=scheduler, accelerate=accelerate,
                             kernel=kernel)
                finals.append(r.final_mean())
            summary["member_spread"] = member_spread(np.array(finals), mech.names)
            summary["settings"]["members"] = len(finals)
        if out is not None:
            summary["files"] = [str(p) for p in
                                write_ssa_tables(result, mech.names, mech.graph.reaction_id, out)]
        if plot is not None:
            x = "time (s)" if mode == "physical" else "time (RNMC units)"
            plot_counts(result.grid, result.grid_mean, result.grid_std, mech.names, plot,
                        x if result.grid_in_time else "step",
                        title=f"{store.path.stem}: mean of {trajectories} trajectories (±1 std)")
            summary["plot"] = str(plot)
    return summary


def ode(store, *, time: float, init: list[str] | None = None, rnmc: bool = False,
        volume: float | None = None, rates: str | None = None, energy_source: str | None = None,
        potential: float | None = None, method: str = "BDF", plot: Path | None = None) -> dict:
    """Mean-field kinetics (kinetics.ode) on ``store`` (opened writable: the run is recorded)."""
    mode = "rnmc" if rnmc else "physical"
    mech, query = load_mechanism(store, rates, energy_source, potential)
    counts, volume, origin = initial_state(store, init, volume)
    params = {"time": time, "mode": mode, "volume_L": volume, "method": method,
              "initial": {mech.names[s]: int(n) for s, n in counts.items()}}
    with _recorded(store, "ode", params) as summary:
        result = integrate(mech, counts, time, mode=mode, volume=volume, method=method)
        summary.update(result.summary(mech.names, min_value=0.0))
        summary["settings"] = _settings(mech, query, origin, volume, mode)
        if plot is not None:
            plot_counts(result.times, result.values, None, mech.names, plot,
                        "time (s)" if mode == "physical" else "time (RNMC units)", ylabel=result.units,
                        title=f"{store.path.stem}: mass-action kinetics ({method})")
            summary["plot"] = str(plot)
    return summary
