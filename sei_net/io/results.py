"""Measurement results as the example scripts write them: a Markdown table for docs/results and
the same figures as JSON beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence


def publish(lines: Sequence[str], data: dict, out: str | Path | None = None) -> str:
    """Print the Markdown ``lines``; with ``out``, write them to OUT.md and ``data`` to OUT.json
    (any suffix of ``out`` is replaced). Returns the Markdown text."""
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        Path(out).with_suffix(".md").write_text(text)
        Path(out).with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    return text
