"""The label cache: one SQLite file of oracle results keyed by (species key, level of theory).

Shared between networks, so a species is never computed twice at one level of theory. Failed
records are kept with their reason and are recomputed only on request.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
from pathlib import Path
from typing import Iterable

from sei_net.chem.convert import NOT_EMBEDDABLE
from sei_net.energy.record import EnergyRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    key TEXT NOT NULL,               -- species key
    level TEXT NOT NULL,             -- level of theory
    status TEXT NOT NULL,            -- ok | coordination_changed | failed
    E REAL,                          -- electronic energy, eV
    G REAL,                          -- free energy, eV (1 mol/L)
    temperature REAL,                -- K
    seconds REAL,                    -- wall time of the calculation, s
    reason TEXT,
    record TEXT NOT NULL,            -- the whole EnergyRecord as JSON
    created REAL NOT NULL,           -- unix time, s
    PRIMARY KEY (key, level)
) WITHOUT ROWID;
"""


def _open_text(path: str | Path, mode: str):
    """A text file, gzip-compressed when its name ends in .gz."""
    return (gzip.open if Path(path).suffix == ".gz" else open)(path, mode)


class LabelStore:
    """Oracle results on disk; every ``put`` is its own committed transaction (kill-safe)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.conn = sqlite3.connect(self.path, timeout=60)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "LabelStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def put(self, records: Iterable[EnergyRecord], replace: bool = True) -> int:
        """Store records; with ``replace=False`` a (key, level) already stored is kept as it is.
        Returns the number of rows written."""
        rows = [(r.key, r.level_of_theory, r.status, r.E, r.G, r.temperature, r.seconds, r.reason,
                 json.dumps(r.to_dict()), time.time()) for r in records]
        verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
        with self.conn:
            before = self.conn.total_changes
            self.conn.executemany(f"{verb} INTO labels VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return self.conn.total_changes - before

    def get(self, key: str, level: str) -> EnergyRecord | None:
        row = self.conn.execute("SELECT record FROM labels WHERE key = ? AND level = ?", (key, level)).fetchone()
        return EnergyRecord.from_dict(json.loads(row[0])) if row else None

    def records(self, level: str | None = None) -> list[EnergyRecord]:
        sql, args = "SELECT record FROM labels", ()
        if level is not None:
            sql, args = sql + " WHERE level = ?", (level,)
        return [EnergyRecord.from_dict(json.loads(r[0])) for r in self.conn.execute(sql + " ORDER BY key", args)]

    def usable(self, level: str) -> list[tuple]:
        """(key, status, E, G, temperature, n_imaginary) of the usable records at ``level``, read
        from the columns (the stored geometries and frequencies are not parsed)."""
        return self.conn.execute(
            "SELECT key, status, E, G, temperature, json_extract(record, '$.data.n_imaginary') "
            "FROM labels WHERE level = ? AND status != 'failed' AND G IS NOT NULL ORDER BY key",
            (level,)).fetchall()

    def geometries(self, level: str, status: str) -> list[tuple[str, float, list]]:
        """(key, G in eV, optimised coordinates in Å) of the records of one status at ``level``."""
        return [(k, G, json.loads(xyz)) for k, G, xyz in self.conn.execute(
            "SELECT key, G, json_extract(record, '$.coords') FROM labels "
            "WHERE level = ? AND status = ? AND G IS NOT NULL ORDER BY key", (level, status))]

    def no_minimum(self, level: str) -> list[str]:
        """Keys of the failed records at ``level`` whose structure rearranged (covalent bonds
        changed) from every starting geometry tried: the oracle found no minimum for that graph."""
        out = []
        for key, outcomes in self.conn.execute(
                "SELECT key, json_extract(record, '$.data.conformers') FROM labels "
                "WHERE level = ? AND status = 'failed' ORDER BY key", (level,)):
            outcomes = json.loads(outcomes) if outcomes else []
            if outcomes and all(o.get("status") == "rearranged" for o in outcomes):
                out.append(key)
        return out

    def not_embeddable(self, level: str) -> list[str]:
        """Keys of the failed records at ``level`` that RDKit found no 3D embedding for
        (``chem.convert.NOT_EMBEDDABLE``): asking the same oracle again gives the same answer."""
        return [key for (key,) in self.conn.execute(
            "SELECT key FROM labels WHERE level = ? AND status = 'failed' AND instr(reason, ?) > 0 ORDER BY key",
            (level, NOT_EMBEDDABLE))]

    def todo(self, keys: Iterable[str], level: str, retry_failed: bool = False) -> list[str]:
        """The keys with no record at ``level`` (and the failed ones with ``retry_failed``)."""
        done = {k: s for k, s in self.conn.execute("SELECT key, status FROM labels WHERE level = ?", (level,))}
        return [k for k in keys if k not in done or (retry_failed and done[k] == "failed")]

    def export_jsonl(self, path: str | Path, level: str | None = None,
                     exclude: Iterable[str | Path] = ()) -> int:
        """Write the records (one JSON object per line, gzip when the name ends in .gz), leaving out
        those whose (key, level) is in any of the earlier exports ``exclude``: a dataset grows by
        files that each hold only new records."""
        done = set()
        for earlier in exclude:
            with _open_text(earlier, "rt") as fh:
                done |= {(d["key"], d["level_of_theory"]) for d in map(json.loads, filter(str.strip, fh))}
        records = [r for r in self.records(level) if (r.key, r.level_of_theory) not in done]
        with _open_text(path, "wt") as fh:
            for rec in records:
                fh.write(json.dumps(rec.to_dict(), separators=(",", ":")) + "\n")
        return len(records)

    def import_jsonl(self, path: str | Path, replace: bool = True) -> int:
        """Add records from an export; a record with the same key and level already stored is
        replaced, or kept with ``replace=False`` (resuming from a committed export). Returns the
        number of records written."""
        with _open_text(path, "rt") as fh:
            records = [EnergyRecord.from_dict(json.loads(line)) for line in fh if line.strip()]
        return self.put(records, replace)

    def levels(self) -> set[str]:
        """The levels of theory present."""
        return {r[0] for r in self.conn.execute("SELECT DISTINCT level FROM labels")}

    def keys(self) -> set[str]:
        """Species keys with a record at any level (failed ones included)."""
        return {r[0] for r in self.conn.execute("SELECT key FROM labels")}

    def counts(self, level: str) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM labels WHERE level = ? GROUP BY status",
                                      (level,)))
