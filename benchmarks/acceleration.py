"""Accelerated stochastic kinetics (kinetics.acceleration): what it costs, how far it reaches, how
much it errs. Baseline: the exact SSA (the same kernel with acceleration off), run side by side.

Workloads:
- the generated ec_lipf6 network of `make run` (gfn2-surrogate energies, rates at 0.0 V vs Li/Li+,
  recipe concentrations: 1,400 EC, 100 Li+, 100 PF6-), when out/ec_lipf6 exists: 16 trajectories
  from seed 0 to 1e-5 s (the exact SSA can still get there), comparing the mean count of every
  species at each of 19 log-spaced times (those with more than one molecule) as
  z = (accelerated - exact) / combined standard error; then how far each reaches in time;
- fast equilibrium A <-> B (1e8, 2e8 s^-1) then B -> C (1 s^-1), 100 molecules, 400 trajectories to
  3 s: C(3 s) against the exact solution 100 (1 - exp(-3/3)), for several separations. The exact SSA
  would need ~10^11 events per trajectory.

Wall times are medians of 3 runs after a warm-up; events are medians over trajectories.

    python -m benchmarks acceleration
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import EC_LIPF6, ec_lipf6_mechanism, median_time, write_table
from sei_net.kinetics.acceleration import Acceleration
from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.mechanism import Mechanism
from sei_net.kinetics.ssa import simulate


def _timed(func):
    """(median wall time of 3 runs, result of the last)."""
    box = {}

    def once():
        box["r"] = func()
    once()                                   # warm-up: compiles the kernel
    return median_time(once, repeats=3), box["r"]


def _generated_rows() -> list[list]:
    rows = []
    with ec_lipf6_mechanism() as (mech, init, volume):
        name = f"generated ec_lipf6 ({mech.n_reactions:,} reactions)"
        n = 16
        kw = dict(time=1e-5, steps=20_000_000, seed=0, volume=volume, log_grid=True, grid_points=19, workers=2)
        wall_exact, exact = _timed(lambda: simulate(mech, init, n, **kw))
        wall_fast, fast = _timed(lambda: simulate(mech, init, n, accelerate=Acceleration(), **kw))
        se = np.sqrt((exact.grid_std ** 2 + fast.grid_std ** 2) / n)
        shown = (exact.grid_mean + fast.grid_mean) > 2
        z = np.abs(fast.grid_mean - exact.grid_mean)[shown] / np.maximum(se[shown], 1e-12)
        for label, res, wall in [("exact SSA (baseline)", exact, wall_exact), ("accelerated", fast, wall_fast)]:
            rows.append([name, label, "1e-5", f"{np.median(res.steps):,.0f}", f"{wall:.1f}",
                         f"{wall_exact / wall:.1f}",
                         "-" if res is exact else f"{z.max():.2f} ({int((z > 3).sum())} of {z.size} > 3)"])
        for target in (1.0, 3600.0):
            kw = dict(time=target, steps=2_000_000, seed=0, volume=volume, workers=2)
            for label, acc in [("exact SSA (baseline)", None), ("accelerated", Acceleration())]:
                t0 = time.perf_counter()
                res = simulate(mech, init, 4, accelerate=acc, **kw)
                wall = time.perf_counter() - t0
                reached = float(np.median(res.end_time))
                rows.append([name, label, f"{target:g} (reached {reached:.2g})",
                             f"{np.median(res.steps):,.0f}", f"{wall:.1f} (one run)", "-", "-"])
    return rows


def _toy_rows() -> list[list]:
    g = HyperGraph.from_lists([[0], [1], [1]], [[1], [0], [2]])
    mech = Mechanism(g, np.array([1e8, 2e8, 1.0]), ["A", "B", "C"], "benchmark", "s^-1")
    exact_c = 100 * (1 - np.exp(-1.0))
    rows = []
    for sep in (10, 30, 100, 1000):
        wall, res = _timed(lambda: simulate(mech, {0: 100}, 400, time=3.0, seed=1, volume=1e-18, grid_points=2,
                                            accelerate=Acceleration(separation=sep)))
        c, se = res.final[:, 2].mean(), res.final[:, 2].std(ddof=1) / np.sqrt(400)
        rows.append(["A <-> B fast, B -> C (exact solution)", f"accelerated, separation {sep}", "3",
                     f"{np.median(res.steps):,.0f}", f"{wall:.1f}", "-",
                     f"C(3 s) {c:.2f} ± {se:.2f} vs exact {exact_c:.2f} ({100 * (c / exact_c - 1):+.1f} %)"])
    return rows


def run() -> None:
    rows = (_generated_rows() if EC_LIPF6.exists() else []) + _toy_rows()
    write_table("acceleration", "Accelerated stochastic kinetics: reach, cost and error",
                __doc__.split("\n\n")[1] + "\n\n" + __doc__.split("\n\n")[2],
                ["workload", "variant", "target time (s)", "events per trajectory (median)", "wall s (median of 3)",
                 "x baseline speed", "error"], rows)
