"""Run benchmarks: `python -m benchmarks` (all) or `python -m benchmarks store_io cli_startup`.
Each writes benchmarks/results/<name>.md; docs/benchmarks.md is rebuilt from those tables."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ALL = ["acceleration", "barrier", "cli_startup", "electrode", "generation", "growth", "kinetics", "labelling", "paths", "store_io",
       "surrogate", "threads"]


def main(names: list[str]) -> None:
    for name in names or ALL:
        if name not in ALL:
            raise SystemExit(f"unknown benchmark {name!r}; valid: {', '.join(ALL)}")
        importlib.import_module(f"benchmarks.{name}").run()
    results = Path(__file__).resolve().parent / "results"
    docs = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
    parts = ["# Benchmarks", "", "Regenerate with `make bench` (or `python -m benchmarks NAME`).", ""]
    parts += [p.read_text() for p in sorted(results.glob("*.md"))]
    docs.write_text("\n".join(parts))


if __name__ == "__main__":
    main(sys.argv[1:])
