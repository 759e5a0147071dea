"""Barrier-surrogate throughput: intrinsic barriers (lambda of a 5-member ensemble) per second, for
the two architectures side by side.

Reactions: the non-redox, atom-mapped reactions of the `make run` network (out/ec_lipf6), from
Reaction objects already in memory. Models: the shipped barrier ensemble of each architecture when
there is one, else an untrained one of the same size (5 members, 48 wide, 3 layers: the cost does
not depend on the weights). Torch with 1 and 2 threads; medians of 3 runs.
- CGR (baseline; message passing on each reaction's condensed graph): an evenly spaced sample of
  5,000 reactions (all ~60,000 made one run 5 min), with a species-feature cache.
- Species embedding, end to end: featurise the species, locate every reaction centre
  (``reaction_centres``), encode each species once per member and run the head over all reactions.
- Species embedding with species states cached: the head alone, over every reaction, from the
  members' species states and the located centres (what scoring a network's reactions costs once
  its species are encoded; "reactions/s when species embeddings are cached" in issue 5).

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
from sei_net.learn.barrier_embedding import (ARCHITECTURE, EmbeddingBarrierNet, cached_lambdas, head_lambdas,
                                             prepare_reactions)
from sei_net.learn.barrier_ensemble import BarrierEnsemble, _predict_member
from sei_net.learn.barrier_model import BarrierNet
from sei_net.learn.reaction_graph import condensed_graph
from sei_net.learn.score import default_barrier_model_path
from sei_net.store import NetworkStore
SAMPLE = 5000

def ensemble(architecture, net):
    path = default_barrier_model_path()
    if path.exists():
        ens = BarrierEnsemble.load(path, "cpu")
        if ens.architecture == architecture:
            return ens, "shipped"
    torch.manual_seed(0)
    return BarrierEnsemble([net().eval() for _ in range(5)], "untrained"), "untrained"

with NetworkStore.open(sys.argv[2], readonly=True) as store:
    species = store.all_species()
    table = store.reaction_table()
    ids = table["id"][table["electrons"] == 0]
    reactions = [store.get_reaction(int(r), species) for r in ids]
reactions = [r for r in reactions if r.atom_map is not None]
sample = [reactions[i] for i in np.linspace(0, len(reactions) - 1, min(SAMPLE, len(reactions))).astype(int)]

def median(fn, n=3):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

cgr, cgr_model = ensemble("cgr", BarrierNet)
def run_cgr():
    graphs = [condensed_graph(r, {}) for r in sample]
    return [_predict_member(m, graphs, np.zeros(len(graphs)), "cpu")[2] for m in cgr.members]

emb, emb_model = ensemble(ARCHITECTURE, EmbeddingBarrierNet)
def run_embedding():
    prep = prepare_reactions(reactions, {})
    return [cached_lambdas(m, prep, "cpu")[0] for m in emb.members]

prep = prepare_reactions(reactions, {})
with torch.inference_mode():
    states = [m.species_states(prep.graphs, "cpu") for m in emb.members]
def run_head():
    return [head_lambdas(m, h, u, prep)[0] for m, (h, u) in zip(emb.members, states)]

def run_prepare():
    return prepare_reactions(reactions, {})

print(json.dumps({"sample": len(sample), "reactions": len(reactions), "species": len(prep.graphs),
                  "cgr_model": cgr_model, "embedding_model": emb_model,
                  "cgr": median(run_cgr), "embedding": median(run_embedding), "prepare": median(run_prepare),
                  "head": median(run_head)}))
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
        n, cgr_rate = r["reactions"], r["sample"] / r["cgr"]
        embedding_rate, head_rate = n / r["embedding"], n / r["head"]
        rows.append([threads, f"{r['cgr_model']} / {r['embedding_model']}", f"{r['sample']:,}", f"{cgr_rate:,.0f}",
                     f"{n:,} ({r['species']:,} species)", f"{embedding_rate:,.0f}", f"{n / r['prepare']:,.0f}",
                     f"{head_rate:,.0f}", f"{embedding_rate / cgr_rate:.0f}x", f"{head_rate / cgr_rate:,.0f}x"])
    write_table("barrier", "Barrier surrogate throughput (5-member ensemble, CPU)", __doc__.split("\n\n")[1],
                ["torch threads", "models (CGR / embedding)", "CGR reactions", "CGR reactions/s (baseline)",
                 "embedding reactions", "embedding reactions/s, end to end", "of which preparing: reactions/s",
                 "embedding reactions/s, species states cached", "end to end vs CGR", "cached vs CGR"], rows)


if __name__ == "__main__":
    run()
