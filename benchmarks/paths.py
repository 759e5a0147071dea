"""Hyperpath search speed and memory: one-pass Knuth search over CSR arrays vs networkx Dijkstra.

Random hypergraphs shaped like generated networks (one species per 8 reactions, 1-2 reactants and
1-2 products per reaction, mrnet-like costs >= 1, three starting species), and the topology of the
generated ec_lipf6 network (random costs; it has too few labelled species for real ones). Each size
runs in a fresh process (one core). Figures: median of 5 full searches (every species' least cost),
the median of 3 k = 5 best-path queries to the most expensive reachable species, and the process's
peak RSS. Baseline, run side by side on the same graph: networkx multi-source Dijkstra on the
bipartite species/reaction graph (it ignores that a reaction needs all its reactants, so it solves an
easier problem; it is the speed reference the issue names), median of 3 (1 at 10^6).

    python -m benchmarks paths
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import write_table

CHILD = r"""
import json, resource, statistics, sys, time
import numpy as np
from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.paths import k_best_paths, shortest_hyperpaths

def median(f, n):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

n_reactions = int(sys.argv[1]); network = sys.argv[2]
rng = np.random.default_rng(0)
if network == "random":
    n_species = max(n_reactions // 8, 10)
    n_r = rng.integers(1, 3, n_reactions); n_p = rng.integers(1, 3, n_reactions)
    table = {"id": np.arange(n_reactions), "kind": np.array(["other"] * n_reactions, dtype=object),
             "electrons": np.zeros(n_reactions, dtype=np.int64),
             "reactant_ptr": np.concatenate([[0], np.cumsum(n_r)]),
             "reactant_species": rng.integers(0, n_species, n_r.sum()),
             "product_ptr": np.concatenate([[0], np.cumsum(n_p)]),
             "product_species": rng.integers(0, n_species, n_p.sum())}
    t0 = time.perf_counter(); g = HyperGraph.from_table(table, n_species); t_build = time.perf_counter() - t0
else:
    from sei_net.store import NetworkStore
    with NetworkStore.open(network, readonly=True) as store:
        t0 = time.perf_counter(); g = HyperGraph.from_store(store); t_build = time.perf_counter() - t0
cost = 1.0 + rng.exponential(2.0, g.n_reactions)
sources = np.array([1, 2, 3])
shortest_hyperpaths(g, cost, sources)                      # compile / warm up
t_full = median(lambda: shortest_hyperpaths(g, cost, sources), 5)
dist = shortest_hyperpaths(g, cost, sources)[0]
finite = np.flatnonzero(np.isfinite(dist))
target = int(finite[np.argmax(dist[finite])])
t_k = median(lambda: k_best_paths(g, cost, sources, target, k=5), 3)
out = {"reactions": g.n_reactions, "species": g.n_species, "reachable": len(finite), "build": t_build,
       "full": t_full, "k5": t_k, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if sys.argv[3] == "1":
    import networkx as nx
    G = nx.DiGraph()
    for r in range(g.n_reactions):
        for s, _ in g.reactants(r):
            G.add_edge(("s", s), ("r", r), weight=cost[r])
        for s, _ in g.products(r):
            G.add_edge(("r", r), ("s", s), weight=0.0)
    srcs = [("s", int(s)) for s in sources if ("s", int(s)) in G]
    out["nx"] = median(lambda: nx.multi_source_dijkstra_path_length(G, srcs), 1 if n_reactions >= 10**6 else 3)
print(json.dumps(out))
"""


def _child(n: int, network: str, baseline: bool) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", CHILD, str(n), network, "1" if baseline else "0"],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run() -> None:
    rows = []
    cases = [(10**4, "random"), (10**5, "random"), (10**6, "random")]
    ec = next((p for p in (Path("out/ec_lipf6/ec_lipf6.db"), Path("out/labelling/ec_lipf6.db"))
               if p.exists()), None)            # made by `make run`
    if ec is not None:
        cases.insert(1, (0, str(ec)))
    for n, network in cases:
        fast = _child(n, network, baseline=False)
        base = _child(n, network, baseline=True)
        name = "random" if network == "random" else "ec_lipf6 (4 generations)"
        rows.append([name, f"{fast['reactions']:,}", f"{fast['species']:,}", f"{fast['reachable']:,}",
                     f"{fast['build']:.2f}", f"{fast['full']:.3f}", f"{fast['k5']:.2f}",
                     f"{fast['peak_mib']:.0f}", f"{base['nx']:.2f}", f"{base['nx'] / fast['full']:.0f}x"])
    write_table("paths", "Hyperpath search (one core)", __doc__.split("\n\n")[1],
                ["network", "reactions", "species", "reachable", "CSR build s", "full search s (median)",
                 "k=5 paths s", "peak RSS MiB", "networkx Dijkstra s", "speed-up"], rows)


if __name__ == "__main__":
    run()
