"""NEB barrier labels for a network's reactions: which reactions to run, a resumable store, export.

A reaction is eligible when it has one reactant, no electrons, an atom map, keeps the total number
of unpaired electrons (one GFN2 spin surface), and its reactant and every product have an 'ok'
species label (a geometry with the species' own bond graph) at the label level of theory. Of a
forward/reverse pair only one direction is run, the exergonic one (dG from the labels): the same
transition state gives the other, dG_act(reverse) = dG_act(forward) - dG.

The store is one SQLite file keyed by (reaction key, NEB level of theory); every finished reaction
is committed at once, so an interrupted run resumes where it stopped. Statuses: 'ok' (a climbing
image with one imaginary mode), 'barrierless' (no maximum beyond the reaction energy on the
path), 'failed' (with a reason; retried only on request).
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from pathlib import Path
from typing import Callable, Iterable

from sei_net.constants import NEB_IMAGES, NEB_MAX_STEPS
from sei_net.energy.labels import _open_text
from sei_net.energy.neb import NEB_LEVEL, BarrierRecord, check_band_settings, neb_level

#: the reaction kinds NEB is run for (their reverses are covered by the same transition state)
NEB_KINDS = ("ring_opening", "ring_closing", "concerted", "fragmentation")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS barriers (
    key TEXT NOT NULL,               -- reaction key (forward direction as run)
    level TEXT NOT NULL,             -- NEB level of theory
    status TEXT NOT NULL,            -- ok | barrierless | failed
    kind TEXT NOT NULL,              -- reaction kind
    dG_act REAL,                     -- free-energy barrier, eV (ok only)
    dE_act REAL,                     -- electronic barrier, eV
    seconds REAL,
    record TEXT NOT NULL,            -- the whole BarrierRecord as JSON
    created REAL NOT NULL,           -- unix time, s
    PRIMARY KEY (key, level)
) WITHOUT ROWID;
"""


class BarrierStore:
    """SQLite file of NEB results keyed by (reaction key, level of theory)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path)
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "BarrierStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def put(self, record: BarrierRecord, kind: str) -> None:
        with self.conn:
            self._insert(record, kind, "INSERT OR REPLACE")

    def _insert(self, record: BarrierRecord, kind: str, verb: str) -> int:
        """One row (inside the caller's transaction); returns how many rows changed (0 or 1)."""
        return self.conn.execute(f"{verb} INTO barriers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (record.reaction_key, record.level_of_theory, record.status, kind, record.dG_act,
                                  record.dE_act, record.seconds, json.dumps(record.to_dict()),
                                  time.time())).rowcount

    def done(self, level: str = NEB_LEVEL, retry_failed: bool = False, failed_reason: str = "") -> set[str]:
        """Stored keys not to run at ``level``. A stored reaction runs only when no level has settled
        it (no ok or barrierless record: a run with more images takes only what the others could
        not), when it has no record at ``level`` or, with ``retry_failed``, a failed one there, and,
        with ``failed_reason``, when its failure (the one at ``level`` if any, else any) names it."""
        by_key: dict[str, dict[str, tuple[str, str]]] = {}
        for key, status, lev, why in self.conn.execute(
                "SELECT key, status, level, json_extract(record, '$.reason') FROM barriers"):
            by_key.setdefault(key, {})[lev] = (status, why or "")
        done = set()
        for key, results in by_key.items():
            here = results.get(level)
            failures = [here] if here is not None else list(results.values())
            if (any(status != "failed" for status, _ in results.values())
                    or (here is not None and not retry_failed)
                    or not any(failed_reason in why for _, why in failures)):
                done.add(key)
        return done

    def keys(self) -> set[str]:
        return {k for k, in self.conn.execute("SELECT DISTINCT key FROM barriers")}

    def records(self, level: str | None = None) -> list[tuple[str, dict]]:
        """(kind, record dict) of every stored result, by key and, within a key, oldest first."""
        sql, args = "SELECT kind, record FROM barriers", ()
        if level is not None:
            sql, args = sql + " WHERE level = ?", (level,)
        return [(k, json.loads(r)) for k, r in self.conn.execute(sql + " ORDER BY key, created", args)]

    def counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM barriers GROUP BY status"))

    def import_jsonl(self, path: str | Path) -> int:
        """Add the records of an export (this store's ``export_jsonl`` or a barrier dataset from
        ``export_barrier_dataset``) that the store lacks; stored records are kept. Returns the
        number added. A committed dataset is how a NEB run carries over to a fresh machine."""
        fields = set(BarrierRecord.__dataclass_fields__)
        added = 0
        with _open_text(path, "rt") as fh, self.conn:
            for line in filter(str.strip, fh):
                d = json.loads(line)
                rec = BarrierRecord(**{k: v for k, v in d.items() if k in fields})
                added += self._insert(rec, d["kind"], "INSERT OR IGNORE")
        return added

    def export_jsonl(self, path: str | Path) -> int:
        """Every record as one JSON object per line ({"kind": ..., **record}); gzip for .gz."""
        rows = self.records()
        with _open_text(path, "wt") as fh:
            for kind, rec in rows:
                fh.write(json.dumps({"kind": kind, **rec}, separators=(",", ":")) + "\n")
        return len(rows)


def eligible_reactions(store, labels, label_level: str, kinds: Iterable[str] = NEB_KINDS) -> list[tuple]:
    """(reaction, kind, dG) for every eligible reaction of the network ``store`` (see the module
    docstring), one direction per pair; dG in eV from the species labels."""
    ok = {key: G for key, status, _, G, _, _ in labels.usable(label_level) if status == "ok"}
    species = store.all_species()
    kinds = tuple(kinds)
    marks = ",".join("?" * len(kinds))
    rows = store.conn.execute(
        f"SELECT id, kind FROM reactions WHERE n_reactants = 1 AND electrons = 0 AND kind IN ({marks}) "
        "ORDER BY id", kinds).fetchall()
    chosen: dict[frozenset, tuple] = {}
    for rid, kind in rows:
        reaction = store.get_reaction(rid, species)
        members = reaction.reactants + reaction.products
        if reaction.atom_map is None or any(s.key not in ok for s in members):
            continue
        if sum(p.radicals for p in reaction.products) != reaction.reactants[0].radicals:
            continue
        dG = sum(ok[p.key] for p in reaction.products) - ok[reaction.reactants[0].key]
        pair = frozenset(s.key for s in members)
        if pair not in chosen or dG < chosen[pair][2]:
            chosen[pair] = (reaction, kind, dG)
    return sorted(chosen.values(), key=lambda t: t[0].key)


def balanced_order(items: list[tuple], seed: int = 0) -> list[tuple]:
    """Shuffle within each kind, then interleave the kinds, so any prefix samples them all."""
    rng = random.Random(seed)
    by_kind: dict[str, list] = {}
    for item in items:
        by_kind.setdefault(item[1], []).append(item)
    for group in by_kind.values():
        rng.shuffle(group)
    out, queues = [], [by_kind[k] for k in sorted(by_kind)]
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop())
    return out


def shard_queue(chosen: list[tuple], done: set[str], shard: tuple[int, int], limit: int | None = None) -> list[tuple]:
    """The reactions shard (k, n) runs: every n-th of the whole ``chosen`` order from the k-th,
    less those in ``done`` (reaction keys), at most ``limit``. Shards are cut from the whole order,
    not from what is left, so a shard restarted alone resumes its own share, and shards started at
    different times never run the same reaction."""
    k, n = shard
    queue = [t for t in chosen[k::n] if t[0].key not in done]
    return queue if limit is None else queue[:limit]


def label_barriers(network: str | Path, labels: str | Path, barriers: str | Path, label_level: str,
                   limit: int | None = None, seed: int = 0, retry_failed: bool = False,
                   shard: tuple[int, int] = (0, 1), echo: Callable[[str], None] = lambda m: None,
                   resume_from: Iterable[str | Path] = (), kinds: Iterable[str] = NEB_KINDS,
                   n_images: int = NEB_IMAGES, max_steps: int = NEB_MAX_STEPS,
                   failed_reason: str = "") -> dict:
    """Run NEB for the eligible reactions of ``network`` not yet in ``barriers``; resumable.
    ``kinds``: run only reactions of these kinds (the direction of each pair is chosen among all
    kinds first, so a subset never runs the reverse of a reaction a full run would take).
    ``shard`` (k, n): every n-th eligible reaction from the k-th (``shard_queue``), so n processes
    can share one store without running a reaction twice. ``resume_from``: barrier datasets whose
    reactions the store lacks are added first (``BarrierStore.import_jsonl``). ``n_images`` and
    ``max_steps``: band settings; another image count is another level (``neb_level``), run for
    the reactions no level has settled (``BarrierStore.done``). ``failed_reason``: run only
    reactions stored as failed with a reason that contains it (implies ``retry_failed``)."""
    import numpy as np

    from sei_net.energy.labels import LabelStore
    from sei_net.energy.neb import neb_barrier
    from sei_net.store.db import NetworkStore

    kinds = tuple(kinds)
    check_band_settings(n_images, max_steps)
    unknown = sorted(set(kinds) - set(NEB_KINDS))
    if unknown:
        raise ValueError(f"reaction kind(s) {', '.join(unknown)} not run by NEB; valid: {', '.join(NEB_KINDS)}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with NetworkStore.open(network, readonly=True) as net, LabelStore(labels) as lab, \
            BarrierStore(barriers) as out:
        for path in resume_from:
            out.import_jsonl(path)
        todo_done = out.done(neb_level(n_images), retry_failed or bool(failed_reason), failed_reason)
        chosen = [t for t in balanced_order(eligible_reactions(net, lab, label_level), seed) if t[1] in kinds]
        if failed_reason:  # only reactions stored as failed with that reason
            stored = out.keys()
            chosen = [t for t in chosen if t[0].key in stored]
        eligible = len(chosen)
        queue = shard_queue(chosen, todo_done, shard, limit)
        for n, (reaction, kind, _) in enumerate(queue, 1):
            rec_r = lab.get(reaction.reactants[0].key, label_level)
            rec_p = [lab.get(p.key, label_level) for p in reaction.products]
            record = neb_barrier(reaction, np.asarray(rec_r.coords), [np.asarray(p.coords) for p in rec_p],
                                 rec_r.G, rec_r.E, temperature=rec_r.temperature, n_images=n_images,
                                 max_steps=max_steps)
            out.put(record, kind)
            echo(f"[{n}/{len(queue)}] {kind} {record.status} {record.reason} ({record.seconds:.1f} s)")
        return {"eligible": eligible, "run": len(queue), "counts": out.counts()}
