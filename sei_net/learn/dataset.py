"""Training data for the energy surrogate: oracle labels, the per-element baseline, and splits.

Labels come from label caches (``LabelStore`` SQLite files) or their JSON-lines exports
(``data/labels/*.jsonl.gz``). A species' target is its oracle free energy G (eV, 1 mol/L, at the
record's temperature); records that ``failed`` carry no energy and are skipped. The
``coordination_changed`` records keep the species' covalent graph with Li on other donors: they are
what the network uses as that species' oracle energy, so they are targets too unless excluded.
With ``coordination="rekey"`` they are instead moved to the graph they relaxed to (the oracle found
a minimum of that graph, not of the species it started from), and where several records land on
one graph the lowest G is kept; records whose structure fell apart are dropped. The start graph
keeps the record's G as a lower bound: the optimiser went downhill from it to the relaxed graph.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from sei_net.chem.species import Species
from sei_net.energy.labels import LabelStore
from sei_net.learn.features import ELEMENTS

USABLE_STATUSES = ("ok", "coordination_changed")
#: what training does with coordination_changed records: keep them on the species they started
#: from, move them to the graph they relaxed to, or leave them out
COORDINATION_MODES = ("keep", "rekey", "drop")


@dataclass
class LabelledSpecies:
    """Species with oracle free energies G (eV) at one level of theory."""

    species: list[Species]
    G: np.ndarray
    status: list[str]
    level_of_theory: str
    counts: dict = field(default_factory=dict)
    #: with coordination="rekey": start graph key -> (its record's G in eV, the graph it relaxed
    #: to) for start graphs without a label of their own. The optimiser left each start graph for
    #: the relaxed one, so its free energy is at least that G: a lower bound (``start_graph_bounds``)
    bounds: dict[str, tuple[float, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.species)

    @property
    def n_heavy(self) -> np.ndarray:
        """Heavy atoms per species (what the size split orders by)."""
        return np.array([s.n_heavy for s in self.species], dtype=np.int64)

    @property
    def n_atoms(self) -> np.ndarray:
        """Atoms per species."""
        return np.array([s.n_atoms for s in self.species], dtype=np.int64)

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.species]

    def subset(self, index) -> "LabelledSpecies":
        index = np.asarray(index, dtype=np.int64)
        return LabelledSpecies([self.species[i] for i in index], self.G[index],
                               [self.status[i] for i in index], self.level_of_theory)


def _rows(path: Path, level: str | None, geometries: bool = False, verdicts: bool = False
          ) -> tuple[list[tuple], list[tuple], tuple[list[str], list[str]], set[str]]:
    """One label file at ``level`` (or its only level), opened once: its usable rows, with
    ``geometries`` also the (key, G, coords) of its coordination_changed records, with ``verdicts``
    the keys the oracle found no minimum for (``LabelStore.no_minimum``) and those RDKit could not
    embed (``LabelStore.not_embeddable``), and all its levels."""
    with tempfile.TemporaryDirectory() as tmp:
        if path.suffix == ".db":
            store = LabelStore(path)
        else:
            store = LabelStore(Path(tmp) / "labels.db")
            store.import_jsonl(path)
        try:
            levels = store.levels()
            chosen = level if level is not None else (next(iter(levels)) if len(levels) == 1 else None)
            if not chosen:
                return [], [], ([], []), levels
            moved = store.geometries(chosen, "coordination_changed") if geometries else []
            found = (store.no_minimum(chosen), store.not_embeddable(chosen)) if verdicts else ([], [])
            return store.usable(chosen), moved, found, levels
        finally:
            store.close()


def _read(paths: Sequence[str | Path], level: str | None, geometries: bool = False,
          verdicts: bool = False) -> tuple[list[tuple], list[tuple], str | None, tuple[set[str], set[str]]]:
    """``_rows`` of every file in order, the level of theory they share, and (with ``verdicts``)
    the keys some file found no minimum for and those some file could not embed. Raises
    ValueError for a missing file, or when the files hold several levels and ``level`` does not
    pick one."""
    rows: list[tuple] = []
    moved: list[tuple] = []
    no_minimum: set[str] = set()
    not_embeddable: set[str] = set()
    all_levels: set[str] = set()
    for p in map(Path, paths):
        if not p.exists():
            raise ValueError(f"label file {str(p)!r} does not exist; give a label cache (.db) or an export (.jsonl.gz)")
        file_rows, file_moved, (file_no_minimum, file_not_embeddable), levels = _rows(p, level, geometries, verdicts)
        all_levels |= levels
        if level is None and len(all_levels) > 1:
            raise ValueError(f"labels hold several levels of theory; pick one with level=: {sorted(all_levels)}")
        rows += file_rows
        moved += file_moved
        no_minimum.update(file_no_minimum)
        not_embeddable.update(file_not_embeddable)
    return rows, moved, level if level is not None else next(iter(all_levels), None), (no_minimum, not_embeddable)


def _first_records(rows: list[tuple], statuses: Sequence[str], paths, level: str | None) -> dict[str, tuple[str, float]]:
    """key -> (status, G) of the first usable row of each key with one of ``statuses``."""
    seen: dict[str, tuple[str, float]] = {}
    for key, status, _E, G, _T, _nimag in rows:
        if status in statuses and key not in seen:
            seen[key] = (status, G)
    if not seen:
        raise ValueError(f"no usable labels ({', '.join(statuses)}) in {', '.join(map(str, paths))}"
                         + (f" at level {level!r}" if level else ""))
    return seen


def label_energies(paths: Sequence[str | Path], level: str | None = None,
                   statuses: Sequence[str] = USABLE_STATUSES) -> tuple[dict[str, tuple[str, float]], str]:
    """species key -> (status, G in eV) of the usable labels in label caches (.db) or exports
    (.jsonl[.gz]), and their level of theory. A species labelled in several files keeps its first
    record. Raises ValueError when the files hold several levels and ``level`` does not pick one,
    or when nothing usable is found."""
    rows, _, chosen, _ = _read(paths, level)
    return _first_records(rows, statuses, paths, level), chosen


def oracle_verdicts(paths: Sequence[str | Path], level: str) -> tuple[dict[str, float], set[str], set[str]]:
    """From label files at ``level``, read once: species key -> oracle G (eV) of the usable labels
    (``label_energies``); the keys without a usable label that the oracle found no minimum for
    (rearranged from every starting geometry, ``LabelStore.no_minimum``); and the other keys
    without a usable label that RDKit could not embed in 3D (``LabelStore.not_embeddable``),
    which asking the same oracle again would not change."""
    rows, _, _, (no_minimum, not_embeddable) = _read(paths, level, verdicts=True)
    usable = _first_records(rows, USABLE_STATUSES, paths, level)
    return ({key: G for key, (_, G) in usable.items()}, no_minimum - usable.keys(),
            not_embeddable - usable.keys() - no_minimum)


def _relax(moved: list[tuple]) -> list[tuple[str, str | None, float]]:
    """(start key, relaxed graph key or None, G) of (key, G, coords) coordination_changed rows."""
    from sei_net.energy.geometry import relaxed_species

    out = []
    for key, G, coords in moved:
        relaxed = relaxed_species(Species.from_key(key), coords)
        out.append((key, None if relaxed is None else relaxed.key, G))
    return out


def relaxed_graphs(paths: Sequence[str | Path], level: str) -> list[tuple[str, str | None, float]]:
    """(start key, key of the graph it relaxed to or None when the structure fell apart, G in eV)
    of every coordination_changed record at ``level`` (``relaxed_species``)."""
    return _relax(_read(paths, level, geometries=True)[1])


def _lowest_per_graph(moved: list[tuple[str, str | None, float]]) -> tuple[dict[str, float], dict]:
    """Graph key -> lowest G (eV) of re-keyed records, and counts: records read, fallen apart,
    distinct graphs."""
    best: dict[str, float] = {}
    for _start, key, G in moved:
        if key is not None and G < best.get(key, np.inf):
            best[key] = G
    return best, {"coordination_changed": len(moved), "fell_apart": sum(k is None for _, k, _ in moved),
                  "graphs": len(best)}


def load_labels(paths: Sequence[str | Path], level: str | None = None,
                statuses: Sequence[str] = USABLE_STATUSES, coordination: str = "keep") -> LabelledSpecies:
    """``label_energies`` as species (sorted by key) with their G (eV) and status.

    ``coordination`` (one of COORDINATION_MODES) says what happens to coordination_changed records:
    'rekey' moves them to the graph they relaxed to (status 'rekeyed'; a graph that also has a
    record of its own keeps the lower G), 'drop' leaves them out."""
    if coordination not in COORDINATION_MODES:
        raise ValueError(f"coordination {coordination!r} is not known; valid: {', '.join(COORDINATION_MODES)}")
    if coordination != "keep":
        statuses = [s for s in statuses if s != "coordination_changed"]
    rows, moved, chosen, _ = _read(paths, level, geometries=coordination == "rekey")
    seen = _first_records(rows, statuses, paths, level)
    counts = {}
    bounds: dict[str, tuple[float, str]] = {}
    if coordination == "rekey":
        records = _relax(moved)
        relaxed, counts["rekey"] = _lowest_per_graph(records)
        for key, G in relaxed.items():
            if G < seen.get(key, ("", np.inf))[1]:
                seen[key] = ("rekeyed", G)
        for start, graph, G in records:
            if graph is not None and start != graph and start not in seen and start not in bounds:
                bounds[start] = (G, graph)
        counts["rekey"]["start_graph_bounds"] = len(bounds)
    keys = sorted(seen)
    counts.update(Counter(seen[k][0] for k in keys))
    return LabelledSpecies([Species.from_key(k) for k in keys], np.array([seen[k][1] for k in keys]),
                           [seen[k][0] for k in keys], chosen, counts, bounds)


def start_graph_bounds(data: LabelledSpecies, relaxed_into: Sequence[str]) -> LabelledSpecies:
    """The lower bounds of ``data.bounds`` whose relaxed graph is one of ``relaxed_into`` (the
    training part's keys, so that no held-out label leaks in), as species with G = the bound (eV)."""
    allowed = set(relaxed_into)
    keys = sorted(k for k, (_, graph) in data.bounds.items() if graph in allowed)
    return LabelledSpecies([Species.from_key(k) for k in keys], np.array([data.bounds[k][0] for k in keys]),
                           ["lower_bound"] * len(keys), data.level_of_theory)


@dataclass
class ElementBaseline:
    """G ≈ sum_el n_el c_el + q c_q (eV): per-element free energies and a per-charge term, fitted by
    least squares. The surrogate learns the residual. ``elements`` are those seen in training."""

    coef: np.ndarray  # (len(ELEMENTS) + 1,): elements then charge
    elements: tuple[str, ...]

    @staticmethod
    def design(composition: np.ndarray, charge: np.ndarray) -> np.ndarray:
        return np.column_stack([np.asarray(composition, dtype=float), np.asarray(charge, dtype=float)])

    @classmethod
    def fit(cls, composition: np.ndarray, charge: np.ndarray, G: np.ndarray) -> "ElementBaseline":
        X = cls.design(composition, charge)
        seen = np.asarray(composition).sum(axis=0) > 0
        cols = np.concatenate([seen, [True]])
        coef = np.zeros(X.shape[1])
        coef[cols] = np.linalg.lstsq(X[:, cols], G, rcond=None)[0]
        return cls(coef, tuple(el for el, s in zip(ELEMENTS, seen) if s))

    def __call__(self, composition: np.ndarray, charge: np.ndarray) -> np.ndarray:
        return self.design(composition, charge) @ self.coef

    def knows(self, composition: np.ndarray) -> np.ndarray:
        """True for rows whose elements were all seen in training."""
        unseen = np.array([el not in self.elements for el in ELEMENTS])
        return ~(np.asarray(composition)[:, unseen] > 0).any(axis=1)


def random_split(n: int, fractions: dict[str, float], seed: int = 0) -> dict[str, np.ndarray]:
    """Shuffle 0..n-1 and cut it into named parts of the given fractions (the last part takes the
    rest). Indices within each part are sorted."""
    if abs(sum(fractions.values()) - 1.0) > 1e-9:
        raise ValueError(f"split fractions must add up to 1, got {fractions}")
    perm = np.random.default_rng(seed).permutation(n)
    out, start = {}, 0
    names = list(fractions)
    for i, name in enumerate(names):
        stop = n if i == len(names) - 1 else start + int(round(fractions[name] * n))
        out[name] = np.sort(perm[start:stop])
        start = stop
    return out


def pin_to_train(parts: dict[str, np.ndarray], pinned: np.ndarray) -> dict[str, np.ndarray]:
    """Move the indices ``pinned`` from every other part into 'train' (indices stay sorted)."""
    pinned = np.asarray(pinned, dtype=np.int64)
    out = {name: np.setdiff1d(idx, pinned) for name, idx in parts.items()}
    out["train"] = np.union1d(parts["train"], pinned)
    return out


def size_split(n_heavy: np.ndarray, test_fraction: float, fractions: dict[str, float],
               seed: int = 0) -> dict[str, np.ndarray]:
    """Hard split: the largest species (by heavy atoms; ties broken at random) are the test set,
    the rest is split at random into ``fractions`` (which must add up to 1)."""
    n = len(n_heavy)
    jitter = np.random.default_rng(seed + 1).random(n)
    order = np.lexsort((jitter, -np.asarray(n_heavy)))
    n_test = int(round(test_fraction * n))
    rest = np.sort(order[n_test:])
    parts = random_split(len(rest), fractions, seed)
    out = {name: np.sort(rest[idx]) for name, idx in parts.items()}
    out["test"] = np.sort(order[:n_test])
    return out
