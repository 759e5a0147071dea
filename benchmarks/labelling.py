"""GFN2-xTB labelling throughput: species labelled per second, one worker vs two Dask workers.

What: the 24 smallest species (by atom count; Li+, PF6-, EC and its first reduction and
fragmentation products, 1-13 atoms) of the ec_lipf6 network after two generations, each labelled
in full: 3 RDKit conformers, GFN2-xTB optimisation with GB solvation, graph check, finite-difference
Hessian and quasi-RRHO free energy (docs/energy.md), into an empty label cache each run.
Baseline, run side by side: the same species in this process with one worker (no Dask); the
two-worker figure uses a Dask LocalCluster of two processes (OMP_NUM_THREADS=1 each), its start-up
included. Medians of 3 runs.

    python -m benchmarks labelling
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_table

N_SPECIES = 24


def _once(network: Path, workers: int) -> tuple[float, dict]:
    from sei_net.energy.labelling import label_network

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = label_network(network, labels=Path(tmp) / "labels.db", workers=workers, limit=N_SPECIES,
                               n_conformers=3)
        return time.perf_counter() - t0, result


def run() -> None:
    from sei_net.generate import build_network

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        network = Path(tmp) / "ec2.db"
        build_network("ec_lipf6", network, max_generations=2).close()
        base = None
        for workers in (1, 2):
            runs = [_once(network, workers) for _ in range(3)]
            seconds = statistics.median(t for t, _ in runs)
            rate = N_SPECIES / seconds
            base = base or rate
            cache = runs[0][1]["cache"]
            rows.append([workers, N_SPECIES, f"{seconds:.1f}", f"{rate:.2f}", f"{rate / workers:.2f}",
                         f"{rate / base:.2f}x", ", ".join(f"{k} {v}" for k, v in sorted(cache.items()))])
    write_table("labelling", "GFN2-xTB labelling (ec_lipf6, smallest species)", __doc__.split("\n\n")[1],
                ["workers", "species", "wall s (median of 3)", "species/s", "species/s per core",
                 "vs 1 worker", "outcomes"], rows)
