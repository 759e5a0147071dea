"""Barrier-surrogate throughput: intrinsic barriers (CGR + 5-member ensemble) per second.

Reactions: an evenly spaced sample of 5,000 of the non-redox, atom-mapped reactions of the
`make run` network (out/ec_lipf6; the cost is per reaction, and all ~60,000 made one run 5 min). Model:
the shipped barrier ensemble when there is one, else an untrained one of the same architecture
(5 members, 48 wide, 3 layers: the cost does not depend on the weights). Timed: condensed graphs
of reaction plus the ensemble's lambdas, from Reaction objects already in memory; torch with 1 and
2 threads; median of 3 runs. Baseline, side by side: the same with no species-feature cache (each
reaction featurises its species again).

    python -m benchmarks barrier
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.common import EC_LIPF6, write_table

CHILD = r"""
import json, statistics, sys, time
import numpy as np, torch
torch.set_num_threads(int(sys.argv[1]))
from sei_net.learn.barrier_ensemble import BarrierEnsemble, _predict_member
from sei_net.learn.barrier_model import BarrierNet
from sei_net.learn.reaction_graph import condensed_graph
from sei_net.learn.score import default_barrier_model_path
from sei_net.store import NetworkStore
SAMPLE = 5000
path = default_barrier_model_path()
if path.exists():
    ens, model = BarrierEnsemble.load(path, "cpu"), "shipped"
else:
    torch.manual_seed(0)
    ens, model = BarrierEnsemble([BarrierNet().eval() for _ in range(5)], "untrained"), "untrained"
with NetworkStore.open(sys.argv[2], readonly=True) as store:
    species = store.all_species()
    table = store.reaction_table()
    ids = table["id"][table["electrons"] == 0]
    ids = ids[np.linspace(0, len(ids) - 1, min(SAMPLE, len(ids))).astype(int)]
    reactions = [store.get_reaction(int(r), species) for r in ids]
reactions = [r for r in reactions if r.atom_map is not None]

def run(cache):
    shared = {} if cache else None
    graphs = [condensed_graph(r, shared) for r in reactions]
    return [_predict_member(m, graphs, np.zeros(len(graphs)), "cpu")[2] for m in ens.members]

def median(cache, n=3):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter(); run(cache); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

print(json.dumps({"reactions": len(reactions), "model": model, "cached": median(True), "uncached": median(False)}))
"""


def _child(threads: int) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    res = subprocess.run([sys.executable, "-c", CHILD, str(threads), str(EC_LIPF6)], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run() -> None:
    if not EC_LIPF6.exists():
        raise SystemExit(f"{EC_LIPF6} is missing: run `make run` first")
    rows = []
    for threads in (1, 2):
        r = _child(threads)
        n = r["reactions"]
        rows.append([threads, r["model"], f"{n:,}", f"{n / r['cached']:,.0f}", f"{n / r['uncached']:,.0f}",
                     f"{r['uncached'] / r['cached']:.1f}x"])
    write_table("barrier", "Barrier surrogate throughput (5-member ensemble, CPU)", __doc__.split("\n\n")[1],
                ["torch threads", "model", "reactions", "reactions/s (species cache)",
                 "reactions/s (no cache, baseline)", "speed-up"], rows)


if __name__ == "__main__":
    run()
