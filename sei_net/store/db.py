"""NetworkStore: one SQLite file per reaction network.

WAL journal, foreign keys on, a schema version with ordered migrations, and every write inside a
transaction: a process killed mid-write leaves the file at its last committed state, so a build
resumes and loses nothing. Energies eV, temperatures K, potentials V vs Li/Li+.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species
from sei_net.store.schema import FORMAT_NAME, MIGRATIONS, SCHEMA_VERSION


class NotANetworkError(ValueError):
    """The file is missing, not SQLite, or not a sei_net network."""


class UnknownSpeciesError(KeyError):
    """No species matches a name, SMILES or key."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it one clean line
        return str(self.args[0])


def _pack(arr: np.ndarray | None, dtype) -> bytes | None:
    return None if arr is None else np.ascontiguousarray(arr, dtype=dtype).tobytes()


def _statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (semicolons in comments are safe)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


class NetworkStore:
    """A reaction network in one SQLite file.

    Use ``NetworkStore.create(path)`` for a new file and ``NetworkStore.open(path)`` for an existing
    one; both are context managers.
    """

    def __init__(self, path: str | os.PathLike, conn: sqlite3.Connection, readonly: bool = False):
        self.path = Path(path)
        self.conn = conn
        self.readonly = readonly
        self._species_ids: dict[str, int] | None = None
        self._in_tx = False

    # ------------------------------------------------------------------ open / create
    @staticmethod
    def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
        uri = f"file:{path}?mode={'ro' if readonly else 'rwc'}"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=60.0)
        conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @classmethod
    def create(cls, path: str | os.PathLike, overwrite: bool = False, name: str = "") -> "NetworkStore":
        """Create a new network file (refuses to replace an existing one unless ``overwrite``)."""
        path = Path(path)
        if path.exists():
            if not overwrite:
                raise FileExistsError(f"{path} already exists; pass overwrite=True (or --force) to replace it")
            for suffix in ("", "-wal", "-shm"):
                p = Path(str(path) + suffix)
                if p.exists():
                    p.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path, cls._connect(path, False))
        store._migrate()
        with store.transaction():
            store.conn.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                [("format", FORMAT_NAME), ("name", name), ("created", f"{time.time():.3f}")],
            )
        return store

    @classmethod
    def open(cls, path: str | os.PathLike, readonly: bool = False) -> "NetworkStore":
        """Open an existing network file; raises NotANetworkError with a one-line reason."""
        path = Path(path)
        if not path.is_file():
            raise NotANetworkError(f"network file {str(path)!r} does not exist; build one with "
                                   "'sei-net build RECIPE -o NET.db' or 'sei-net import ...'")
        try:
            conn = cls._connect(path, readonly)
            row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        except sqlite3.DatabaseError:
            raise NotANetworkError(f"{str(path)!r} is not a sei_net network (not an SQLite file with a "
                                   "sei_net schema)") from None
        if row is None or row[0] != FORMAT_NAME:
            conn.close()
            raise NotANetworkError(f"{str(path)!r} is an SQLite file but not a sei_net network")
        store = cls(path, conn, readonly)
        if not readonly:
            store._migrate()
        elif store.schema_version != SCHEMA_VERSION:
            raise NotANetworkError(f"{str(path)!r} has schema version {store.schema_version}; open it "
                                   f"writable once to migrate to version {SCHEMA_VERSION}")
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "NetworkStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise NotANetworkError(f"{str(self.path)!r} has schema version {version}, newer than this "
                                   f"sei_net ({SCHEMA_VERSION}); upgrade sei_net")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _statements(MIGRATIONS[target - 1]):
                    self.conn.execute(statement)
                self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                                  (str(target),))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT); rolled back on any exception.
        Nested use joins the outer transaction."""
        if self._in_tx:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._in_tx = True
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._species_ids = None  # cached ids may name rolled-back rows
            raise
        else:
            self.conn.execute("COMMIT")
        finally:
            self._in_tx = False

    # ------------------------------------------------------------------ metadata
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, items: dict[str, object]) -> None:
        """Store metadata (values JSON-encoded unless already strings)."""
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in items.items()],
            )

    def provenance_id(self, kind: str, name: str, detail: str | dict = "") -> int:
        """Id of a provenance row (rule, importer, ...), created on first use."""
        if not isinstance(detail, str):
            detail = json.dumps(detail, sort_keys=True)
        with self.transaction():
            self.conn.execute("INSERT OR IGNORE INTO provenance(kind, name, detail) VALUES (?, ?, ?)",
                              (kind, name, detail))
            return self.conn.execute(
                "SELECT id FROM provenance WHERE kind = ? AND name = ? AND detail = ?", (kind, name, detail)
            ).fetchone()[0]

    # ------------------------------------------------------------------ species
    @property
    def species_ids(self) -> dict[str, int]:
        """species key -> id (cached)."""
        if self._species_ids is None:
            self._species_ids = dict(self.conn.execute("SELECT key, id FROM species"))
        return self._species_ids

    def add_species(
        self, species: Iterable[Species], provenance: int | None = None, generation: int = 0
    ) -> list[int]:
        """Insert species not yet stored (by key); returns the id of every given species.
        A name given for an already stored, unnamed species is recorded."""
        species = list(species)
        ids = self.species_ids
        rows, names = [], []
        pending: dict[str, int] = {}
        for s in species:
            if s.key in ids or s.key in pending:
                if s.name:
                    names.append((s.name, s.key))
                continue
            pending[s.key] = len(rows)
            graph = json.dumps({"elements": list(s.elements), "bonds": [list(b) for b in s.bonds]},
                               separators=(",", ":"))
            rows.append((s.key, s.name, s.smiles, s.formula, s.charge, s.multiplicity, s.n_atoms,
                         s.n_heavy, graph, _pack(s.coords, np.float64), generation, provenance))
        with self.transaction():
            if rows:
                start = (self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM species").fetchone()[0])
                self.conn.executemany(
                    "INSERT INTO species(key, name, smiles, formula, charge, multiplicity, n_atoms, "
                    "n_heavy, graph, coords, generation, provenance_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                for key, t in pending.items():
                    ids[key] = start + 1 + t
            if names:
                self.conn.executemany(
                    "UPDATE species SET name = ? WHERE key = ? AND name IS NULL", names)
        return [ids[s.key] for s in species]

    def _species_from_row(self, row) -> Species:
        sid, key, name, charge, mult, graph, coords = row
        g = json.loads(graph)
        return Species._from_canonical(
            g["elements"], g["bonds"], charge, mult, key, name,
            None if coords is None else np.frombuffer(coords, dtype=np.float64).reshape(-1, 3))

    _SPECIES_COLS = "id, key, name, charge, multiplicity, graph, coords"

    def get_species(self, species_id: int) -> Species:
        row = self.conn.execute(f"SELECT {self._SPECIES_COLS} FROM species WHERE id = ?",
                                (int(species_id),)).fetchone()
        if row is None:
            raise UnknownSpeciesError(f"no species with id {species_id} in {self.path.name}")
        return self._species_from_row(row)

    def all_species(self, max_heavy: int | None = None) -> dict[int, Species]:
        """id -> Species for every stored species (only those of at most ``max_heavy`` heavy atoms,
        when given), in id order."""
        where, args = ("WHERE n_heavy <= ?", (int(max_heavy),)) if max_heavy is not None else ("", ())
        return {row[0]: self._species_from_row(row)
                for row in self.conn.execute(f"SELECT {self._SPECIES_COLS} FROM species {where} ORDER BY id", args)}

    def find_species(self, query: str) -> int:
        """Species id for a name, a species key, or a SMILES (matched by canonical key: charge and
        multiplicity from the SMILES). Raises UnknownSpeciesError with a one-line reason."""
        conn = self.conn
        row = conn.execute("SELECT id FROM species WHERE name = ?", (query,)).fetchall()
        if len(row) == 1:
            return row[0][0]
        if len(row) > 1:
            raise UnknownSpeciesError(f"name {query!r} matches {len(row)} species; use a SMILES or key")
        row = conn.execute("SELECT id FROM species WHERE key = ? OR smiles = ?", (query, query)).fetchone()
        if row:
            return row[0]
        try:
            key = Species.from_smiles(query).key
        except ValueError:
            raise UnknownSpeciesError(
                f"species {query!r} is neither a species name in {self.path.name} nor a valid SMILES "
                "('sei-net species NET' lists the names)") from None
        row = conn.execute("SELECT id FROM species WHERE key = ?", (key,)).fetchone()
        if row:
            return row[0]
        raise UnknownSpeciesError(
            f"species {query!r} is not in {self.path.name}: give a species name, SMILES or key "
            "('sei-net species NET' lists them)")

    # ------------------------------------------------------------------ reactions
    def add_reactions(
        self, reactions: Iterable[Reaction], provenance: int | None = None, generation: int = 0,
        rule_provenance: dict[str, int] | None = None,
    ) -> list[int]:
        """Insert reactions (their species too), skipping ones already stored (by key).
        Returns the id of each given reaction. ``rule_provenance`` maps a reaction's ``rule`` to a
        provenance id, overriding ``provenance``."""
        reactions = list(reactions)
        all_sp = {}
        for r in reactions:
            for s in r.reactants + r.products:
                all_sp.setdefault(s.key, s)
        missing = [s for k, s in all_sp.items() if k not in self.species_ids]
        with self.transaction():
            if missing:
                self.add_species(missing, provenance, generation)
            ids = self.species_ids
            keys = [r.key for r in reactions]
            existing = self._reaction_ids(keys)
            start = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM reactions").fetchone()[0]
            rows, parts, out = [], [], []
            seen: dict[str, int] = {}
            for r in reactions:
                rid = existing.get(r.key) or seen.get(r.key)
                if rid is None:
                    rid = start + 1 + len(rows)
                    seen[r.key] = rid
                    prov = provenance
                    if rule_provenance is not None and r.rule in rule_provenance:
                        prov = rule_provenance[r.rule]
                    rows.append((rid, r.key, r.kind, r.electrons, len(r.reactants), len(r.products),
                                 _pack(r.atom_map, np.int32), generation, prov))
                    parts.extend((rid, 0, p, ids[s.key]) for p, s in enumerate(r.reactants))
                    parts.extend((rid, 1, p, ids[s.key]) for p, s in enumerate(r.products))
                out.append(rid)
            self.conn.executemany(
                "INSERT INTO reactions(id, key, kind, electrons, n_reactants, n_products, atom_map, "
                "generation, provenance_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.conn.executemany(
                "INSERT INTO participants(reaction_id, side, position, species_id) VALUES (?, ?, ?, ?)",
                parts)
        return out

    def _reaction_ids(self, keys: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        if self.conn.execute("SELECT 1 FROM reactions LIMIT 1").fetchone() is None:
            return out
        for i in range(0, len(keys), 900):
            chunk = keys[i:i + 900]
            q = ",".join("?" * len(chunk))
            out.update(self.conn.execute(f"SELECT key, id FROM reactions WHERE key IN ({q})", chunk))
        return out

    def reaction_table(self) -> dict[str, np.ndarray]:
        """All reactions as arrays: ``id``, ``kind`` (str), ``electrons``, and CSR participant lists
        ``reactant_ptr``/``reactant_species`` and ``product_ptr``/``product_species`` (species ids;
        a repeated species repeats)."""
        cur = self.conn.execute("SELECT id, kind, electrons, n_reactants, n_products FROM reactions "
                                "ORDER BY id")
        rows = cur.fetchall()
        n = len(rows)
        rid = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        kind = np.array([r[1] for r in rows], dtype=object)
        electrons = np.fromiter((r[2] for r in rows), dtype=np.int64, count=n)
        n_r = np.fromiter((r[3] for r in rows), dtype=np.int64, count=n)
        n_p = np.fromiter((r[4] for r in rows), dtype=np.int64, count=n)
        part = self.conn.execute("SELECT reaction_id, side, species_id FROM participants "
                                 "ORDER BY reaction_id, side, position").fetchall()
        arr = np.array(part, dtype=np.int64).reshape(-1, 3)
        r_mask = arr[:, 1] == 0
        return {
            "id": rid, "kind": kind, "electrons": electrons,
            "reactant_ptr": np.concatenate([[0], np.cumsum(n_r)]),
            "reactant_species": arr[r_mask, 2],
            "product_ptr": np.concatenate([[0], np.cumsum(n_p)]),
            "product_species": arr[~r_mask, 2],
        }

    def get_reaction(self, reaction_id: int, species: dict[int, Species] | None = None) -> Reaction:
        """Rebuild a Reaction object (balance re-checked) from the store."""
        row = self.conn.execute("SELECT kind, electrons, atom_map, provenance_id FROM reactions "
                                "WHERE id = ?", (int(reaction_id),)).fetchone()
        if row is None:
            raise KeyError(f"no reaction with id {reaction_id}")
        kind, electrons, amap, prov = row
        sides: tuple[list, list] = ([], [])
        for side, sid in self.conn.execute(
                "SELECT side, species_id FROM participants WHERE reaction_id = ? ORDER BY side, position",
                (int(reaction_id),)):
            sides[side].append(species[sid] if species else self.get_species(sid))
        rule = None
        if prov is not None:
            rule = self.conn.execute("SELECT name FROM provenance WHERE id = ?", (prov,)).fetchone()[0]
        return Reaction(sides[0], sides[1], electrons, kind,
                        None if amap is None else np.frombuffer(amap, dtype=np.int32), rule)

    # ------------------------------------------------------------------ energies, barriers, rates
    def set_energies(self, rows: Iterable[dict], replace_source: str | None = None) -> int:
        """Upsert species energies. Each row: species_id, source, level_of_theory, G (eV) and
        optionally E (eV), sigma (eV), members (eV array), temperature (K), data (dict). With
        ``replace_source``, that source's stored rows go first, in the same transaction: the rows
        are its whole new set (a species it no longer covers keeps no stale energy)."""
        vals = [(int(r["species_id"]), r["source"], r["level_of_theory"], float(r["G"]), r.get("E"),
                 r.get("sigma"), _pack(r.get("members"), np.float64), r.get("temperature"),
                 json.dumps(r["data"]) if r.get("data") is not None else None) for r in rows]
        with self.transaction():
            if replace_source is not None:
                self.conn.execute("DELETE FROM energies WHERE source = ?", (replace_source,))
            self.conn.executemany(
                "INSERT OR REPLACE INTO energies(species_id, source, level_of_theory, G, E, sigma, "
                "members, temperature, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", vals)
        return len(vals)

    def drop_other_levels(self, source: str, level_of_theory: str) -> int:
        """Delete the ``source`` energies at any other level of theory than ``level_of_theory``, so
        that one source never mixes levels; returns how many went."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM energies WHERE source = ? AND level_of_theory != ?",
                                    (source, level_of_theory))
        return cur.rowcount

    def energies(self, source: str | None = None) -> list[dict]:
        """Stored energies (all sources, or one), as dicts with members decoded."""
        sql = ("SELECT species_id, source, level_of_theory, G, E, sigma, members, temperature, data "
               "FROM energies")
        args: tuple = ()
        if source is not None:
            sql += " WHERE source = ?"
            args = (source,)
        out = []
        for sid, src, lot, g, e, sigma, members, temp, data in self.conn.execute(sql + " ORDER BY species_id", args):
            out.append({"species_id": sid, "source": src, "level_of_theory": lot, "G": g, "E": e,
                        "sigma": sigma,
                        "members": None if members is None else np.frombuffer(members, np.float64),
                        "temperature": temp, "data": None if data is None else json.loads(data)})
        return out

    def set_barriers(self, rows: Iterable[dict]) -> int:
        """Upsert reaction barriers. Each row: reaction_id, source, level_of_theory, value (eV) and
        optionally sigma (eV), members (eV array), data (dict: what ``value`` means, units)."""
        vals = [(int(r["reaction_id"]), r["source"], r["level_of_theory"], float(r["value"]), r.get("sigma"),
                 _pack(r.get("members"), np.float64), json.dumps(r["data"]) if r.get("data") is not None else None)
                for r in rows]
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO barriers(reaction_id, source, level_of_theory, value, sigma, members, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", vals)
        return len(vals)

    def barriers(self, source: str) -> dict[int, dict]:
        """reaction id -> {value, sigma, members (array or None), level_of_theory, data} for one source."""
        return {rid: {"value": v, "sigma": sg, "members": None if m is None else np.frombuffer(m, np.float64),
                      "level_of_theory": lot, "data": None if d is None else json.loads(d)}
                for rid, lot, v, sg, m, d in self.conn.execute(
                    "SELECT reaction_id, level_of_theory, value, sigma, members, data FROM barriers "
                    "WHERE source = ? ORDER BY reaction_id", (source,))}

    def set_rates(self, rows: Iterable[dict]) -> int:
        """Upsert reaction rate constants: reaction_id, source, rate, and optionally dG (eV),
        barrier (eV), temperature (K), potential (V vs Li/Li+), data (dict, with 'units')."""
        vals = [(int(r["reaction_id"]), r["source"], float(r["rate"]), r.get("dG"), r.get("barrier"),
                 r.get("temperature"), r.get("potential"),
                 json.dumps(r["data"]) if r.get("data") is not None else None) for r in rows]
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO rates(reaction_id, source, rate, dG, barrier, temperature, "
                "potential, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", vals)
        return len(vals)

    def rates(self, source: str) -> dict[int, dict]:
        """reaction id -> {rate, dG, barrier, temperature, potential, data} for one source."""
        return {rid: {"rate": rate, "dG": dg, "barrier": bar, "temperature": t, "potential": u,
                      "data": None if d is None else json.loads(d)}
                for rid, rate, dg, bar, t, u, d in self.conn.execute(
                    "SELECT reaction_id, rate, dG, barrier, temperature, potential, data FROM rates "
                    "WHERE source = ? ORDER BY reaction_id", (source,))}

    def set_initial_state(self, name: str, counts: dict[int, int]) -> None:
        """Store a named initial state (species id -> molecule count), replacing one of that name."""
        with self.transaction():
            self.conn.execute("DELETE FROM initial_states WHERE name = ?", (name,))
            self.conn.executemany("INSERT INTO initial_states(name, species_id, count) VALUES (?, ?, ?)",
                                  [(name, int(k), int(v)) for k, v in counts.items()])

    def initial_state(self, name: str) -> dict[int, int]:
        return dict(self.conn.execute(
            "SELECT species_id, count FROM initial_states WHERE name = ? ORDER BY species_id", (name,)))

    # ------------------------------------------------------------------ runs
    def start_run(self, kind: str, params: dict) -> int:
        with self.transaction():
            cur = self.conn.execute(
                "INSERT INTO runs(kind, status, started, params) VALUES (?, 'running', ?, ?)",
                (kind, time.time(), json.dumps(params)))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, results: dict, status: str = "done") -> None:
        with self.transaction():
            self.conn.execute("UPDATE runs SET status = ?, finished = ?, results = ? WHERE id = ?",
                              (status, time.time(), json.dumps(results), run_id))

    # ------------------------------------------------------------------ summary
    def n_reactions(self) -> int:
        """Number of stored reactions."""
        return self.conn.execute("SELECT COUNT(*) FROM reactions").fetchone()[0]

    def energy_sources(self) -> dict[str, int]:
        """Energy source -> number of species with an energy from it."""
        return dict(self.conn.execute("SELECT source, COUNT(*) FROM energies GROUP BY source ORDER BY source"))

    def rate_sources(self) -> dict[str, int]:
        """Rate source -> number of reactions with a rate from it."""
        return dict(self.conn.execute("SELECT source, COUNT(*) FROM rates GROUP BY source ORDER BY source"))

    def initial_state_names(self) -> list[str]:
        """Names of the stored initial states."""
        return [r[0] for r in self.conn.execute("SELECT DISTINCT name FROM initial_states ORDER BY name")]

    def info(self) -> dict:
        """{"species", "reactions", "kinds": {kind: n}, "energy_sources": {source: n}, ...}."""
        c = self.conn
        return {
            "name": self.get_meta("name", ""),
            "schema_version": self.schema_version,
            "species": c.execute("SELECT COUNT(*) FROM species").fetchone()[0],
            "reactions": self.n_reactions(),
            "kinds": dict(c.execute("SELECT kind, COUNT(*) FROM reactions GROUP BY kind ORDER BY kind")),
            "energy_sources": self.energy_sources(),
            "barrier_sources": dict(c.execute(
                "SELECT source, COUNT(*) FROM barriers GROUP BY source ORDER BY source")),
            "rate_sources": self.rate_sources(),
            "initial_states": self.initial_state_names(),
        }
