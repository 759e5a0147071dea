"""Network generation speed and peak memory for ec_lipf6 at several reaction limits.

Each build runs in a fresh process (OMP_NUM_THREADS=1, one core) with ``max_generations`` 7 and
``max_reactions`` = N, so it stops at N reactions (6 generations close at 822,086); the figure is unique reactions stored (forward
and reverse) per second of build time, and the process's peak resident memory. Baseline, run side by
side: the same build with the Lewis structures solved by the HiGHS MILP alone (the solver before the
branch and bound; it was the hot spot, 53 % of the profile).

Hot spots since then (profile of a 3x10^4-reaction build): RDKit canonicalisation of product graphs
(17 %) and the Lewis search (29 % cumulative). Half of the canonicalisations repeat an exact input
graph (the same fragment from the same parent), and species recur from many parents, so both are
memoised (chem.species, LRU-bounded); with the list-based Reaction construction this gave 1,991 vs
1,826 reactions/s at 2x10^4 (medians of 3, side by side).

At 3x10^5 (cProfile) two-thirds of the candidates repeat a kept reaction or have a rejected
product, and building and checking their Reaction took 15 %: the driver now computes the reaction
key first, and reverse reactions skip the checks the forward one passed. A sampling profile (py-spy)
of a 10^5 build after that: the Lewis search 27 % (its b-matching leaves 11 %), RDKit
canonicalisation 19 %, the rest of Species.from_graph 15 %, SQLite writes 8 %. The Lewis search now
prunes a branch as soon as an atom and all its neighbours have states whose bond orders cannot fit
(1.25x on 9,328 ec_lipf6 species, same structures). Together: the same network at 1,867 vs 1,480
reactions/s at 10^5 (median of 2, side by side with the previous commit). The table below was
run on a slower state of this shared machine than the one before it (the unchanged MILP baseline
went from 355 to 218 reactions/s at 10^3), so compare ratios, not rows across dates. At 10^6
(py-spy, 822k reactions) Species.from_graph is 44 % (RDKit canonicalisation 26 %) and Li+
coordination products alone 26 %; most of those products are then rejected by checks that need no
canonical form (heavy atoms, charge window, Li count). So the generator now skips every Li+
coordination and recombination pair whose adduct fails those checks before building any product
(`--why` explains such species from the stored filters). Same networks, side by side with the
previous commit on one core: 2,590 vs 2,060 reactions/s at 10^5 (median of 3 interleaved, 403 vs
533 MiB), and 2,172 vs 1,412 reactions/s for the 6-generation network of 822,086 reactions (one run
each, 2,826 vs 3,218 MiB).

At 10^5, 17 % of the remaining product builds (40,468 of 237,801) were species the filters reject
from composition and charge alone, mostly metal-free cations from heterolytic splits; such
candidates are now dropped before their products are built (operators.product_prefilter). A
py-spy profile at 10^6 then showed redox candidates at 8.7 %, most of it re-canonicalising the
reactant's own graph; a redox product now reuses it (Species.with_charge). Same networks (md5 of
the species and reaction key lists at 10^5). Remaining hot spots at 10^6 (py-spy, 50 Hz): RDKit
canonicalisation of new product graphs 21 %, the Lewis search of new species (valence filter)
17 %, SQLite writes of species, reactions and decision rows 17 %.

    python -m benchmarks generation            # N = 1e3, 1e4, 1e5, 3 repeats
    SEI_NET_BENCH_BIG=3 python -m benchmarks generation   # adds N = 1e6 (3 runs, ~8 min each)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import write_table

CHILD = r"""
import json, resource, sys, time
import sei_net.chem.lewis as lewis
from sei_net.generate import build_network
lewis.SOLVER = sys.argv[3]
t0 = time.perf_counter()
net = build_network("ec_lipf6", sys.argv[1], max_generations=7, max_species=10**7,
                    max_reactions=int(sys.argv[2]), overwrite=True)
seconds = time.perf_counter() - t0
info = net.info()
net.close()
print(json.dumps({"seconds": seconds, "reactions": info["reactions"], "species": info["species"],
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _build(limit: int, solver: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        out = subprocess.run([sys.executable, "-c", CHILD, str(Path(tmp) / "b.db"), str(limit), solver],
                             capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run() -> None:
    big_runs = int(os.environ.get("SEI_NET_BENCH_BIG", "0") or 0)
    limits = [10**3, 10**4, 10**5] + ([10**6] if big_runs > 0 else [])
    rows = []
    for limit in limits:
        repeats = 3 if limit <= 10**5 else big_runs
        fast = [_build(limit, "search") for _ in range(repeats)]
        base = [_build(limit, "milp") for _ in range(repeats)] if limit <= 10**4 else []
        rate = statistics.median(r["reactions"] / r["seconds"] for r in fast)
        row = [f"{limit:.0e}", fast[0]["species"], fast[0]["reactions"],
               f"{statistics.median(r['seconds'] for r in fast):.2f}", f"{rate:,.0f}",
               f"{statistics.median(r['peak_mib'] for r in fast):.0f}"]
        if base:
            base_rate = statistics.median(r["reactions"] / r["seconds"] for r in base)
            row += [f"{base_rate:,.0f}", f"{rate / base_rate:.1f}x"]
        else:
            row += ["-", "-"]
        rows.append(row + [repeats])
    paragraphs = __doc__.split("\n\n")
    write_table("generation", "Network generation (ec_lipf6, one core)",
                "\n\n".join(paragraphs[i] for i in (1, 3, 4)),
                ["max_reactions", "species", "reactions", "build s (median)", "reactions/s",
                 "peak RSS MiB", "MILP baseline r/s", "speed-up", "runs"], rows)


if __name__ == "__main__":
    run()
