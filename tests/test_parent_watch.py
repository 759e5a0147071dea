"""Workers started with exit_with_parent end when their parent is killed (no orphans)."""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sei_net.parent_watch import exit_with_parent

SCRIPT = textwrap.dedent("""
    import multiprocessing, os, signal, sys, time
    from sei_net.parent_watch import exit_with_parent

    def work(watch, ready):
        if watch:
            exit_with_parent(0.1)
        ready.set()
        time.sleep(60)

    if __name__ == "__main__":
        context = multiprocessing.get_context("spawn")
        ready = context.Event()
        child = context.Process(target=work, args=(sys.argv[1] == "watch", ready))
        child.start()
        assert ready.wait(60)                 # the child is up (and watching) before the parent dies
        print(child.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup: the pool's own shutdown never runs
""")


def _alive(pid: int) -> bool:
    """Running (a zombie left for an init that does not reap counts as ended)."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "Z" not in state.split()[1]


def _orphan_after_parent_killed(tmp_path, mode: str, wait_s: float) -> bool:
    script = tmp_path / "parent.py"
    script.write_text(SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True,
                              stderr=subprocess.DEVNULL)   # the resource tracker warns of the Event it held
    pid = int(parent.stdout.readline())        # not read to the end: an orphan holds the pipe open
    parent.wait(timeout=60)
    parent.stdout.close()
    deadline = time.time() + wait_s
    while time.time() < deadline and _alive(pid):
        time.sleep(0.1)
    alive = _alive(pid)
    if alive:
        subprocess.run(["kill", "-9", str(pid)])
    return alive


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (Linux)")
def test_a_watching_worker_exits_when_its_parent_is_killed_and_an_unwatched_one_does_not(tmp_path):
    assert not _orphan_after_parent_killed(tmp_path, "watch", wait_s=10.0)
    assert _orphan_after_parent_killed(tmp_path, "plain", wait_s=1.0)      # the failure the watch prevents


def test_a_polling_interval_must_be_positive():
    with pytest.raises(ValueError, match="poll_s=0 is not valid"):
        exit_with_parent(0)
