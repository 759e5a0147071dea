"""The species the oracle labels itself: those of at most ``constants.ORACLE_MAX_HEAVY`` heavy atoms
(and, through ``label_species``, those outside the energy model's applicability domain:
``learn.domain``, ``learn.score.score_file``).

A network holds few of them (102-152 of 8,583-20,000 species in each network the shipped labels
come from),
each takes the oracle seconds, and they are hubs: CO2 alone sits in 479 labelled reactions of the
training networks, so a surrogate error on it moves hundreds of reaction energies at once
(docs/surrogates.md, "Small species are the oracle's"). The main job labels those no label file
has a record of before it scores the rest with the surrogate; the surrogate's splits train on
them, so its held-out figures are for the species it is actually asked about.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Callable, Iterable

from sei_net.chem.species import Species
from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.energy.labels import LabelStore
from sei_net.energy.record import EnergyRecord


def small_species(species: Iterable[Species], max_heavy: int = ORACLE_MAX_HEAVY) -> list[Species]:
    """The species of at most ``max_heavy`` heavy (non-H) atoms, in (atoms, key) order."""
    return sorted((s for s in species if s.n_heavy <= max_heavy), key=lambda s: (s.n_atoms, s.key))


def gfn2_oracle_for(level: str):
    """The GFN2 oracle whose level of theory is exactly ``level`` (conformers 1-5, with or without
    the Hessian, 298.15 K), or None when no such oracle exists or tblite is not installed."""
    if importlib.util.find_spec("tblite") is None:
        return None
    from sei_net.energy.gfn2 import GFN2Oracle

    for hessian in (True, False):
        for n in range(1, 6):
            oracle = GFN2Oracle(n_conformers=n, hessian=hessian)
            if oracle.level_of_theory == level:
                return oracle
    return None


def label_small_species(species: Iterable[Species], settled: set[str], cache: str | Path, oracle,
                        max_heavy: int = ORACLE_MAX_HEAVY,
                        progress: Callable[[int, int, EnergyRecord], None] | None = None) -> dict:
    """``label_species`` on the species of at most ``max_heavy`` heavy atoms; the result also
    names the limit (``max_heavy_atoms``)."""
    return {"max_heavy_atoms": max_heavy,
            **label_species(small_species(species, max_heavy), settled, cache, oracle, progress)}


def label_species(species: Iterable[Species], settled: set[str], cache: str | Path, oracle,
                  progress: Callable[[int, int, EnergyRecord], None] | None = None) -> dict:
    """Label with ``oracle`` every one of ``species`` whose key is not in ``settled`` (keys some
    label file already has a usable record or a no-minimum verdict for) and that the cache has no
    record of at the oracle's level; records go to the label cache ``cache`` one by one, so an
    interrupted run keeps what it computed. Returns the counts, the seconds spent, the cache's
    records of those species as ``{key: (status, G in eV or None)}`` and, as ``no_minimum``, the
    keys of those the oracle found no minimum for."""
    todo_species = [s for s in species if s.key not in settled]
    level = oracle.level_of_theory
    t0 = time.perf_counter()
    if not todo_species:   # no cache file for nothing
        return {"unlabelled": 0, "computed": 0, "seconds": 0.0, "records": {}, "no_minimum": set()}
    with LabelStore(cache) as store:
        todo = store.todo([s.key for s in todo_species], level)
        by_key = {s.key: s for s in todo_species}
        for n, key in enumerate(todo, 1):
            record = oracle.compute(by_key[key])
            store.put([record])
            if progress:
                progress(n, len(todo), record)
        records = {s.key: store.get(s.key, level) for s in todo_species}
        no_minimum = set(store.no_minimum(level)) & by_key.keys()
    return {"unlabelled": len(todo_species), "computed": len(todo),
            "seconds": round(time.perf_counter() - t0, 3),
            "records": {k: (r.status, r.G) for k, r in records.items() if r is not None}, "no_minimum": no_minimum}
