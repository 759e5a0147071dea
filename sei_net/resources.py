"""Locate the shipped rule libraries (``reactions/``), recipes (``networks/``) and GFN2-xTB oracle
labels (``data/labels/``), and check the top level of such a YAML file.

In an installed wheel they live in ``sei_net/data/`` (hatch force-include); in a source checkout
(editable install) they are the repository's folders of the same names.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: kind -> its folder in a source checkout (relative to the repository root)
_KINDS = {"networks": "networks", "reactions": "reactions", "labels": "data/labels"}


def resource_dir(kind: str) -> Path:
    """Folder of shipped files of ``kind`` ('networks', 'reactions' or 'labels')."""
    if kind not in _KINDS:
        raise ValueError(f"resource kind {kind!r} is not valid; valid: {', '.join(_KINDS)}")
    packaged = Path(str(resources.files("sei_net"))) / "data" / kind
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[1] / _KINDS[kind]
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"sei_net's {_KINDS[kind]}/ folder is missing from this installation")


def shipped_label_files() -> list[Path]:
    """The shipped GFN2-xTB label exports (``gfn2_*.jsonl.gz``, one conformer, the level of theory
    the shipped energy model was trained on), in name order: where two hold a species, the first
    wins (``learn.dataset.label_energies``). Data card: data/labels/README.md."""
    return sorted(resource_dir("labels").glob("gfn2_*.jsonl.gz"))


def find_resource(kind: str, name: str | Path) -> Path:
    """A file given as a path, or by name (with or without .yaml) among the shipped ``kind`` files."""
    path = Path(name)
    if path.is_file():
        return path
    folder = resource_dir(kind)
    for candidate in (folder / path.name, folder / f"{path.name}.yaml"):
        if candidate.is_file():
            return candidate
    shipped = sorted(p.stem for p in folder.glob("*.yaml"))
    raise FileNotFoundError(f"{kind[:-1]} file {str(name)!r} not found; give a path or one of: "
                            + ", ".join(shipped))


def check_mapping(data, allowed: set[str], source: str, what: str, error: type[Exception]) -> None:
    """Raise ``error`` unless ``data`` is a mapping whose keys are all in ``allowed`` (``what`` names
    the document, e.g. 'recipe')."""
    if not isinstance(data, dict):
        raise error(f"{source}: a {what} is a YAML mapping with keys {sorted(allowed)}")
    unknown = set(data) - allowed
    if unknown:
        raise error(f"{source}: unknown key(s) {sorted(unknown)}; valid keys: {sorted(allowed)}")
