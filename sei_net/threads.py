"""Torch intra-op threads that fit the cores idle now.

Torch starts one intra-op thread per core. When another process keeps a core busy, those threads
wait on each other: on this project's 2-core machine with one core busy, scoring the `make run`
network (energies, then learned barriers) took 87.5 s on torch's default two threads and 22.9 s on
one; on an idle machine two threads were faster (16.9 s against 23.0 s; medians of 3,
`python -m benchmarks threads`). ``use_idle_cores`` sets torch to the
cores idle at the moment of the call (measured from /proc/stat over 0.1 s, on the CPUs this process
may run on; all of them where that file does not exist), unless OMP_NUM_THREADS is set, which
always wins.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

STAT = Path("/proc/stat")


def _cpu_times(text: str, cpus: set[int] | None = None) -> tuple[float, float]:
    """(idle, total) jiffies from /proc/stat text: summed over the per-CPU lines of ``cpus``, or
    the aggregate 'cpu' line when ``cpus`` is None."""
    idle = total = 0.0
    found = False
    for line in text.splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu"):
            continue
        if (cpus is None and name == "cpu") or (cpus is not None and name[3:].isdigit() and int(name[3:]) in cpus):
            values = [float(v) for v in fields]
            idle += values[3] + (values[4] if len(values) > 4 else 0.0)   # idle + iowait
            total += sum(values[:8])                                       # guest time is inside user
            found = True
    if not found:
        raise ValueError("no matching cpu line in /proc/stat")
    return idle, total


def idle_fraction(before: str, after: str, cpus: set[int] | None = None) -> float:
    """Fraction of CPU time idle between two /proc/stat snapshots (0 to 1), over ``cpus`` (all
    when None)."""
    idle0, total0 = _cpu_times(before, cpus)
    idle1, total1 = _cpu_times(after, cpus)
    if total1 <= total0:
        return 1.0
    return min(1.0, max(0.0, (idle1 - idle0) / (total1 - total0)))


def fitting_threads(cores: int, idle: float) -> int:
    """Threads for ``cores`` cores of which a fraction ``idle`` is idle: the idle cores, rounded,
    at least 1."""
    return max(1, min(cores, int(round(idle * cores))))


def usable_cpus() -> set[int] | None:
    """The CPUs this process may run on (None where the platform does not say)."""
    return set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def use_idle_cores(interval: float = 0.1) -> int:
    """Set torch's intra-op threads to the cores idle now (OMP_NUM_THREADS, when set, wins);
    returns the thread count torch uses."""
    import torch

    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    cpus = usable_cpus()
    cores = len(cpus) if cpus else (os.cpu_count() or 1)
    try:
        before = STAT.read_text()
        time.sleep(interval)
        threads = fitting_threads(cores, idle_fraction(before, STAT.read_text(), cpus))
    except (OSError, ValueError):
        threads = cores
    torch.set_num_threads(threads)
    return threads
