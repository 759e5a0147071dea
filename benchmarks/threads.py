"""Scoring with torch threads fitted to the idle cores.

What: `sei-net score`'s work on a copy of the `make run` network (out/ec_lipf6): energies of every
species with the shipped energy ensemble, then learned barriers of its domain with the shipped
barrier ensemble, each in a fresh process. Torch threads: 1, all cores (torch's default, the
baseline), and `sei_net.threads.use_idle_cores` (what `sei-net run` and `sei-net score` use); on an
idle machine and with one core kept busy by another process (a pure-Python loop). Median of 3.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.common import EC_LIPF6, ec_lipf6_copy, write_table
from sei_net.threads import usable_cpus

CHILD = r"""
import json, sys, time, torch
mode = sys.argv[2]
if mode == "idle-cores":
    from sei_net.threads import use_idle_cores
    use_idle_cores()
else:
    torch.set_num_threads(int(mode))
from sei_net.learn.score import load_barrier_model, load_model, score_barriers, score_network
from sei_net.store import NetworkStore
energy, barrier = load_model("default", "cpu"), load_barrier_model("default", "cpu")
with NetworkStore.open(sys.argv[1]) as store:
    t0 = time.perf_counter(); score_network(store, energy); t1 = time.perf_counter()
    score_barriers(store, barrier); t2 = time.perf_counter()
print(json.dumps({"threads": torch.get_num_threads(), "energies": t1 - t0, "barriers": t2 - t1}))
"""
BUSY = "import time\nend = time.time() + 3600\nwhile time.time() < end: pass"


def _score(db: Path, mode: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), mode], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> Path:
    if not EC_LIPF6.exists():
        raise SystemExit(f"{EC_LIPF6} is missing: run `make run` first")
    cores = len(usable_cpus() or ()) or os.cpu_count()
    rows = []
    with ec_lipf6_copy() as db:
        for load in ("idle", "one core busy"):
            busy = subprocess.Popen([sys.executable, "-c", BUSY]) if load != "idle" else None
            try:
                for mode in ("1", str(cores), "idle-cores"):
                    runs = [_score(db, mode) for _ in range(3)]
                    e = statistics.median(r["energies"] for r in runs)
                    b = statistics.median(r["barriers"] for r in runs)
                    label = {"1": "1", str(cores): f"{cores} (torch default, baseline)"}.get(mode, "idle cores")
                    rows.append([load, label, "/".join(str(r["threads"]) for r in runs), f"{e:.1f}", f"{b:.1f}",
                                 f"{e + b:.1f}"])
            finally:
                if busy is not None:
                    busy.kill()
    return write_table("threads", "Scoring with torch threads fitted to the idle cores",
                       __doc__.strip().split("\n", 2)[2],
                       ["machine", "torch threads", "threads used (3 runs)", "energies s", "barriers s",
                        "total s"], rows)


if __name__ == "__main__":
    run()
