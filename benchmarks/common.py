"""Shared helpers: timing medians and writing result tables."""

from __future__ import annotations

import platform
import sqlite3
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

RESULTS = Path(__file__).resolve().parent / "results"
#: the generated network that `make run` leaves behind
EC_LIPF6 = Path(__file__).resolve().parents[1] / "out" / "ec_lipf6" / "ec_lipf6.db"


@contextmanager
def ec_lipf6_copy() -> Iterator[Path]:
    """A temporary copy of the `make run` network file (out/ec_lipf6), removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "net.db"
        with sqlite3.connect(EC_LIPF6) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        yield copy


@contextmanager
def ec_lipf6_mechanism() -> Iterator[tuple]:
    """(mechanism, initial counts by species index, volume in L) of a copy of the `make run`
    network (rates from its energies at the recipe's potential); the original is not touched."""
    from sei_net.kinetics.setup import initial_state, load_mechanism
    from sei_net.store import NetworkStore

    with ec_lipf6_copy() as copy:
        store = NetworkStore.open(copy)
        try:
            mech, _ = load_mechanism(store)
            init, volume, _ = initial_state(store)
            yield mech, init, volume
        finally:
            store.close()


def median_time(func: Callable[[], object], repeats: int = 5, setup: Callable[[], object] | None = None) -> float:
    """Median wall time (s) of ``func`` over ``repeats`` runs (``setup`` untimed before each)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def write_table(name: str, title: str, how: str, headers: list[str], rows: list[list]) -> Path:
    """Write a Markdown table to benchmarks/results/<name>.md and print it."""
    RESULTS.mkdir(exist_ok=True)
    lines = [f"## {title}", "", how, "",
             f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
             f"{time.strftime('%Y-%m-%d')}.", "",
             "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    text = "\n".join(lines) + "\n"
    path = RESULTS / f"{name}.md"
    path.write_text(text)
    print(text)
    return path
