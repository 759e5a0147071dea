"""Energy-surrogate throughput: new species per second (featurise + 5-member ensemble) and reaction
energies with uncertainties per second from cached species predictions.

Species: the 8,583 species of the generated ec_lipf6 network when `make run` (or the labelling run)
has built it, else the species of the committed label files. The shipped default ensemble (5
members, 64 wide, 4 layers); torch with 1 and 2 threads. Figures are medians of 5 runs over all
species in batches of 4,096 (3 runs for the baseline). Baseline, side by side: the same pipeline batching with
torch-geometric's `Batch.from_data_list` instead of sei_net's one-pass collate. Reactions: member-wise
dG, epistemic, aleatoric and calibrated total variance (`reaction_uncertainty`) for the network's
reactions and for 10^6 random 2 -> 2 reactions over the same species, median of 5.

    python -m benchmarks surrogate
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import write_table

CHILD = r"""
import json, statistics, sys, time
import numpy as np, scipy.sparse as sp, torch
threads = int(sys.argv[1]); torch.set_num_threads(threads)
from sei_net.learn.batching import collate, to_pyg, from_pyg
from sei_net.learn.ensemble import reaction_uncertainty
from sei_net.learn.features import featurise
from sei_net.learn.score import load_model
network = sys.argv[2]
if network != "-":
    from sei_net.store import NetworkStore
    from sei_net.kinetics.hypergraph import HyperGraph
    with NetworkStore.open(network, readonly=True) as store:
        species = list(store.all_species().values())
        N = HyperGraph.from_store(store).stoichiometry()
        N = N[:, 1:]  # store ids start at 1
else:
    from sei_net.learn.dataset import load_labels
    species = load_labels(["data/labels/gfn2_ec_lipf6.jsonl.gz"]).species
    N = None
ens = load_model("default", "cpu")
charges = np.array([s.charge for s in species])

def fresh():  # new Species objects: no cached Lewis structures
    from sei_net.chem.species import Species
    return [Species.from_key(s.key) for s in species]

def median(f, n=5):
    ts = []
    for _ in range(n):
        sp_ = fresh(); t0 = time.perf_counter(); f(sp_); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

def ours(sp_):
    ens.predict_graphs([featurise(s) for s in sp_], charges, 4096)

def pyg(sp_):
    from torch_geometric.data import Batch
    graphs = [featurise(s) for s in sp_]
    with torch.inference_mode():
        for start in range(0, len(graphs), 4096):
            batch = from_pyg(Batch.from_data_list([to_pyg(g) for g in graphs[start:start + 4096]]))
            for m in ens.members:
                m(batch)

feat = median(lambda sp_: [featurise(s) for s in sp_])
t_ours, t_pyg = median(ours), median(pyg, 3)
out = {"species": len(species), "featurise": feat, "ours": t_ours, "pyg": t_pyg}
pred = ens.predict(species)
rng = np.random.default_rng(0)
n = len(species)
R = 10**6
rows = np.repeat(np.arange(R), 4)
cols = rng.integers(0, n, 4 * R)
vals = np.tile([-1.0, -1.0, 1.0, 1.0], R)
random = sp.csr_matrix((vals, (rows, cols)), shape=(R, n))
cases = {"random 2->2": random}
if N is not None:
    cases["network"] = N
for name, M in cases.items():
    ts = []
    for _ in range(5):
        t0 = time.perf_counter(); r = reaction_uncertainty(M, pred, ens.calibration.get("reaction")); r.sigma
        ts.append(time.perf_counter() - t0)
    out[name] = {"reactions": M.shape[0], "seconds": statistics.median(ts)}
print(json.dumps(out))
"""


def _child(threads: int, network: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    res = subprocess.run([sys.executable, "-c", CHILD, str(threads), network], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run() -> None:
    net = next((p for p in (Path("out/ec_lipf6/ec_lipf6.db"), Path("out/labelling/ec_lipf6.db")) if p.exists()),
               None)
    rows = []
    for threads in (1, 2):
        r = _child(threads, str(net) if net else "-")
        n = r["species"]
        row = [threads, f"{n:,}", f"{n / r['featurise']:,.0f}", f"{n / r['ours']:,.0f}", f"{n / r['pyg']:,.0f}",
               f"{r['pyg'] / r['ours']:.1f}x"]
        for case in ("network", "random 2->2"):
            c = r.get(case)
            row.append(f"{c['reactions'] / c['seconds']:,.0f} ({c['reactions']:,})" if c else "-")
        rows.append(row)
    write_table("surrogate", "Energy surrogate throughput (5-member ensemble, CPU)", __doc__.split("\n\n")[1],
                ["torch threads", "species", "featurise species/s", "new species/s", "PyG-batched species/s",
                 "speed-up", "network reactions/s (n)", "random reactions/s (n)"], rows)


if __name__ == "__main__":
    run()
