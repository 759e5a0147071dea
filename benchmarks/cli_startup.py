"""CLI start-up time.

What: wall time of `sei-net --help` (a fresh Python process). Baseline, run side by side:
`python -c pass` (bare interpreter start). Median of 7 runs each.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.common import median_time, write_table


def run() -> Path:
    t_help = median_time(lambda: subprocess.run([sys.executable, "-m", "sei_net.cli", "--help"],
                                                capture_output=True, check=True), repeats=7)
    t_base = median_time(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeats=7)
    return write_table("cli_startup", "CLI start-up", __doc__.strip().split("\n", 2)[2],
                       ["command", "median wall time (s)", "ratio to bare python"],
                       [["sei-net --help", f"{t_help:.3f}", f"{t_help / t_base:.1f}"],
                        ["python -c pass", f"{t_base:.3f}", "1.0"]])


if __name__ == "__main__":
    run()
