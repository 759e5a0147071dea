"""Network store write/read throughput.

What: reactions written per second by NetworkStore.add_reactions (key lookup, dedup, reaction and
participant rows, one transaction per batch of 10,000) and read per second by reaction_table (CSR arrays).
Baseline, run side by side: plain sqlite3 executemany of the same reaction and participant rows into
bare tables (no keys, no dedup, no indexes beyond the primary keys), in one transaction.
Median of 5 runs; Reaction objects are built before timing.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from benchmarks.common import median_time, write_table
from sei_net.store import NetworkStore
from sei_net.testing import random_alkanes, random_reactions

SIZES = (10_000, 100_000)
BATCH = 10_000


def run() -> Path:
    species = random_alkanes(12, 3000, seed=0)
    rows = []
    tmp = Path(tempfile.mkdtemp())
    for n in SIZES:
        rxns = random_reactions(species, n, seed=1)
        ids = {s.key: i + 1 for i, s in enumerate(species)}
        path = tmp / f"s{n}.db"

        def setup():
            NetworkStore.create(path, overwrite=True).close()

        def write():
            with NetworkStore.open(path) as store:
                for start in range(0, n, BATCH):
                    store.add_reactions(rxns[start:start + BATCH])

        t_write = median_time(write, setup=setup)

        def read():
            with NetworkStore.open(path, readonly=True) as store:
                store.reaction_table()

        t_read = median_time(read)
        base_path = tmp / f"b{n}.db"
        base_rows = [(i + 1, r.key, r.kind, r.electrons) for i, r in enumerate(rxns)]
        base_parts = [(i + 1, side, p, ids[s.key]) for i, r in enumerate(rxns)
                      for side, lst in ((0, r.reactants), (1, r.products)) for p, s in enumerate(lst)]

        def base_setup():
            base_path.unlink(missing_ok=True)

        def base_write():
            c = sqlite3.connect(base_path, isolation_level=None)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, key TEXT, kind TEXT, e INTEGER)")
            c.execute("CREATE TABLE p (r INTEGER, side INTEGER, pos INTEGER, s INTEGER, "
                      "PRIMARY KEY (r, side, pos)) WITHOUT ROWID")
            c.execute("BEGIN")
            c.executemany("INSERT INTO r VALUES (?, ?, ?, ?)", base_rows)
            c.executemany("INSERT INTO p VALUES (?, ?, ?, ?)", base_parts)
            c.execute("COMMIT")
            c.close()

        t_base = median_time(base_write, setup=base_setup)
        rows.append([f"{n:,}", f"{n / t_write:,.0f}", f"{n / t_read:,.0f}", f"{n / t_base:,.0f}",
                     f"{t_write / t_base:.2f}"])
    return write_table(
        "store_io", "Network store write/read throughput", __doc__.strip().split("\n", 2)[2],
        ["reactions", "write (reactions/s)", "read (reactions/s)", "baseline write (rows/s)",
         "write time / baseline"], rows)


if __name__ == "__main__":
    run()
