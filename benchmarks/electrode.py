"""Cost of the electrode kinetics: scoring the `make run` network with Marcus-Hush-Chidsey barriers
against the Marcus parabola (the baseline), side by side.

Network: out/ec_lipf6 (after `make run`: its energies, 5 calibrated members, learned fragmentation
barriers). Timed: `PathQuery.prepare` with `electrode="marcus"` and `"mhc"` in turn (reading the
store, dG, barriers and rates of every reaction for the mean energies and every member), median
of 3 runs each, interleaved; and the barrier function alone on the electron transfers' (reaction,
member) pairs.

    python -m benchmarks electrode
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks.common import EC_LIPF6, ec_lipf6_copy, write_table


def run() -> None:
    if not EC_LIPF6.exists():
        raise SystemExit(f"{EC_LIPF6} is missing: run `make run` first")
    from sei_net.kinetics.query import PathQuery
    from sei_net.kinetics.rates import marcus_barrier, mhc_barrier
    from sei_net.store import NetworkStore

    times = {"marcus": [], "mhc": []}
    with ec_lipf6_copy() as copy, NetworkStore.open(copy, readonly=True) as store:
        for _ in range(3):
            for model in times:
                t0 = time.perf_counter()
                q = PathQuery.prepare(store, electrode=model)
                times[model].append(time.perf_counter() - t0)
    redox = q.graph.electrons != 0
    dG = q.samples.dG[redox]
    dG = dG[np.isfinite(dG)]
    lam = np.full(dG.shape, 0.8)
    alone = {}
    for name, fn in (("marcus", lambda: marcus_barrier(dG, lam)), ("mhc", lambda: mhc_barrier(dG, lam))):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        alone[name] = statistics.median(ts)
    base = statistics.median(times["marcus"])
    rows = [[model, f"{int(redox.sum()):,}", f"{dG.size:,}", f"{statistics.median(ts):.2f}",
             f"{statistics.median(ts) / base:.2f}x", f"{alone[model] * 1e3:.2f}"]
            for model, ts in times.items()]
    write_table("electrode", "Electrode kinetics: Marcus-Hush-Chidsey against the Marcus parabola",
                __doc__.split("\n\n")[1],
                ["electrode kinetics", "electron transfers", "(reaction, member) pairs", "prepare s (median of 3)",
                 "vs marcus", "barriers alone, ms"], rows)
