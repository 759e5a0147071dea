"""Barrier training data: NEB results joined with their reactions and oracle reaction energies.

A dataset file (JSON lines, gzip for .gz) holds one reaction per line: the NEB record (status,
dG_act, dE_act, ...; ``sei_net.energy.neb``), the reaction itself (species graphs, kind, atom
map) and dG, the reaction free energy from the species labels the NEB started from (eV). So a
dataset trains the barrier model without the network it came from.

Target (eV, free-energy barrier of the direction run): an 'ok' record gives max(dG_act, dG, 0): a
transition state below the separated products in free energy (translational entropy at 1 mol/L)
means the step is limited by the products' free energy, not by the saddle; a 'barrierless' record
gives max(dG, 0). Failed records are kept in the file but never used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species
from sei_net.energy.labels import _open_text

USABLE = ("ok", "barrierless")


@dataclass(frozen=True)
class BarrierExample:
    """One usable barrier label: ``target`` and ``dG`` in eV, forward direction as run."""

    reaction: Reaction
    dG: float
    target: float
    status: str
    record: dict


def reaction_to_dict(reaction: Reaction) -> dict:
    return {"reactants": [s.to_dict() for s in reaction.reactants],
            "products": [s.to_dict() for s in reaction.products], "electrons": reaction.electrons,
            "kind": reaction.kind, "atom_map": None if reaction.atom_map is None else reaction.atom_map.tolist(),
            "rule": reaction.rule}


def reaction_from_dict(d: dict) -> Reaction:
    return Reaction([Species.from_dict(s) for s in d["reactants"]], [Species.from_dict(s) for s in d["products"]],
                    electrons=d["electrons"], kind=d["kind"], atom_map=d["atom_map"], rule=d.get("rule"))


def barrier_target(status: str, dG: float, dG_act: float | None) -> float:
    """The training target (eV) of a usable record; see the module docstring."""
    if status == "ok":
        return max(float(dG_act), dG, 0.0)
    if status == "barrierless":
        return max(dG, 0.0)
    raise ValueError(f"record status {status!r} is not usable; usable: {', '.join(USABLE)}")


def export_barrier_dataset(barriers: str | Path, network: str | Path, labels: str | Path, label_level: str,
                           path: str | Path) -> tuple[int, int]:
    """Join every stored NEB record of a reaction of ``network`` with that reaction and its dG (from
    ``labels``) and write them to ``path``. Returns (lines written, records left out): a store that
    took in other networks' datasets (``--resume-from``) holds reactions this network lacks; their
    own files keep them."""
    from sei_net.energy.barrier_labels import BarrierStore
    from sei_net.energy.labels import LabelStore
    from sei_net.store.db import NetworkStore

    with BarrierStore(barriers) as store, NetworkStore.open(network, readonly=True) as net, \
            LabelStore(labels) as lab:
        rows = store.records()
        ids = net._reaction_ids([rec["reaction_key"] for _, rec in rows])
        species = net.all_species()
        G = {k: g for k, _, _, g, _, _ in lab.usable(label_level)}
        mine = [(kind, rec) for kind, rec in rows if rec["reaction_key"] in ids]
        with _open_text(path, "wt") as fh:
            for kind, rec in mine:
                reaction = net.get_reaction(ids[rec["reaction_key"]], species)
                dG = sum(G[p.key] for p in reaction.products) - G[reaction.reactants[0].key]
                line = {**rec, "kind": kind, "label_level": label_level, "dG": dG,
                        "reaction": reaction_to_dict(reaction)}
                fh.write(json.dumps(line, separators=(",", ":")) + "\n")
    return len(mine), len(rows) - len(mine)


def dataset_lines(path: str | Path) -> Iterator[dict]:
    """Every line (record and reaction, as a dict) of a dataset file, failed ones included."""
    if not Path(path).exists():
        raise FileNotFoundError(f"barrier dataset {path} does not exist; make one with "
                                "`sei-net neb NET.db --export FILE.jsonl.gz`")
    with _open_text(path, "rt") as fh:
        for line in filter(str.strip, fh):
            yield json.loads(line)


def _usable_lines(path: str | Path) -> Iterator[tuple[Reaction, dict]]:
    """(reaction, line dict) of every usable line of a dataset file."""
    for d in dataset_lines(path):
        if d["status"] in USABLE:
            yield reaction_from_dict(d["reaction"]), d


def _example(reaction: Reaction, d: dict) -> BarrierExample:
    return BarrierExample(reaction, float(d["dG"]), barrier_target(d["status"], float(d["dG"]), d.get("dG_act")),
                          d["status"], {k: v for k, v in d.items() if k != "reaction"})


def load_barrier_dataset(paths: Iterable[str | Path], lowest_of: Iterable[str | Path] = ()) -> list[BarrierExample]:
    """The usable examples of one or more dataset files, in file order (later files win a key).

    ``lowest_of``: repeat runs of the same reactions under other NEB settings (more images, more
    steps; ``data/barriers/repeats/``). Where a repeat is usable, the example keeps the lower of
    the two targets: both runs found a saddle connecting the same endpoints, and the rate is set by
    the lowest one (a band can settle on a higher saddle: ``docs/surrogates.md``, "How repeatable
    are the ring-step labels?"); a repeat of a reaction no file labels adds it. A repeat must start
    from the same endpoint labels (the same ``label_level``); one that does not raises ValueError."""
    by_key: dict[str, BarrierExample] = {}
    for path in paths:
        for reaction, d in _usable_lines(path):
            by_key[reaction.key] = _example(reaction, d)
    for path in lowest_of:
        for reaction, d in _usable_lines(path):
            repeat, mine = _example(reaction, d), by_key.get(reaction.key)
            if mine is not None and d.get("label_level") != mine.record.get("label_level"):
                raise ValueError(f"repeat {path}: reaction {reaction.key} starts from endpoint labels "
                                 f"{d.get('label_level')!r}, the datasets from {mine.record.get('label_level')!r}; "
                                 "a repeat must start from the same endpoint labels")
            if mine is None or repeat.target < mine.target:
                by_key[reaction.key] = repeat
    return list(by_key.values())
