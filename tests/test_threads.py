"""Torch threads fitted to the idle cores (sei_net.threads)."""

import pytest

from sei_net.threads import fitting_threads, idle_fraction

BEFORE = """cpu  1000 0 0 1000 0 0 0 0 0 0
cpu0 500 0 0 500 0 0 0 0 0 0
cpu1 500 0 0 500 0 0 0 0 0 0
intr 1 2 3
"""
# 100 jiffies later per CPU: cpu0 busy the whole time, cpu1 idle the whole time
AFTER = """cpu  1100 0 0 1100 0 0 0 0 0 0
cpu0 600 0 0 500 0 0 0 0 0 0
cpu1 500 0 0 600 0 0 0 0 0 0
intr 1 2 3
"""


def test_idle_fraction_reads_the_cpus_this_process_may_use():
    assert idle_fraction(BEFORE, AFTER) == pytest.approx(0.5)              # the aggregate line
    assert idle_fraction(BEFORE, AFTER, {0}) == pytest.approx(0.0)         # the busy CPU alone
    assert idle_fraction(BEFORE, AFTER, {1}) == pytest.approx(1.0)         # the idle one alone
    assert idle_fraction(BEFORE, BEFORE) == 1.0                            # no time passed: assume idle
    with pytest.raises(ValueError, match="no matching cpu line"):
        idle_fraction(BEFORE, AFTER, {7})


def test_threads_are_the_idle_cores_and_never_fewer_than_one():
    assert fitting_threads(2, 1.0) == 2
    assert fitting_threads(2, 0.5) == 1        # one core busy elsewhere: one thread, not two that wait
    assert fitting_threads(2, 0.0) == 1
    assert fitting_threads(16, 0.8) == 13
    assert fitting_threads(4, 1.0) == 4


def test_omp_num_threads_wins(monkeypatch):
    torch = pytest.importorskip("torch")
    from sei_net.threads import use_idle_cores

    before = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    try:
        assert use_idle_cores() == torch.get_num_threads() == before
    finally:
        torch.set_num_threads(before)
