"""Figures to files: matplotlib on its non-interactive Agg backend (imported only when a plot is
made, so commands that draw nothing never load it)."""

from __future__ import annotations

from pathlib import Path
from typing import IO


def pyplot():
    """``matplotlib.pyplot`` with the Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, out: str | Path | IO[bytes], dpi: int = 120, tight: bool = False):
    """Write ``fig`` as PNG to a path or a binary file object, close it, and return ``out`` (a
    Path when given a path). ``tight``: crop to the drawn content; else lay out with tight_layout."""
    if not tight:
        fig.tight_layout()
    target = Path(out) if isinstance(out, (str, Path)) else out
    fig.savefig(target, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    pyplot().close(fig)
    return target
