"""Worker processes that end when the process that started them is gone.

A process pool's workers outlive a parent killed by a signal (SIGKILL, or SIGTERM without
cleanup): they are re-parented and keep a CPU core busy for the rest of their job. A worker that
calls ``exit_with_parent`` in its initializer polls its parent id from a daemon thread and exits
once it changes.
"""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_s: float = 2.0) -> None:
    """Start a daemon thread that ends this process (exit status 1) within ``poll_s`` seconds of
    its parent's death (POSIX: the parent id changes when the parent exits)."""
    if poll_s <= 0:
        raise ValueError(f"poll_s={poll_s} is not valid; give a polling interval > 0 s")
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
