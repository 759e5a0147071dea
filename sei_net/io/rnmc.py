"""RNMC networks: import (rn.sqlite + initial_state.sqlite + mol-entry names) and export.

RNMC (BlauGroup/RNMC, GMC) reads two SQLite files. ``rn.sqlite`` holds ``metadata`` and
``reactions`` (at most two reactants and two products, -1 for none, rate, dG, dG_barrier,
is_redox); ``initial_state.sqlite`` holds ``initial_state``, ``trajectories``, ``factors``,
``interrupt_state`` and ``interrupt_cutoff``. RNMC species ids are 0-based positions in its
species list; sei_net keeps that order (store id = RNMC id + 1 for an imported network).
RNMC rates are in RNMC's own units (propensity k n for A, k nA nB for A + B, factor_duplicate k n(n-1)
for A + A; time not volume-scaled).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species
from sei_net.io.entries import HARTREE_TO_EV, load_entries
from sei_net.store import NetworkStore

RNMC_LEVEL = "DFT (RNMC SEI example network, as published)"
RNMC_RATE_UNITS = "RNMC units (propensity k*n, k*nA*nB, factor_duplicate*k*n*(n-1)); time not volume-scaled"

RN_SCHEMA = """
CREATE TABLE metadata (
        number_of_species   INTEGER NOT NULL,
        number_of_reactions INTEGER NOT NULL
);
CREATE TABLE reactions (
        reaction_id         INTEGER NOT NULL PRIMARY KEY,
        number_of_reactants INTEGER NOT NULL,
        number_of_products  INTEGER NOT NULL,
        reactant_1          INTEGER NOT NULL,
        reactant_2          INTEGER NOT NULL,
        product_1           INTEGER NOT NULL,
        product_2           INTEGER NOT NULL,
        rate                REAL NOT NULL,
        dG                  REAL NOT NULL,
        dG_barrier          REAL NOT NULL,
        is_redox            INTEGER NOT NULL
);
"""

STATE_SCHEMA = """
CREATE TABLE initial_state (
        species_id             INTEGER NOT NULL PRIMARY KEY,
        count                  INTEGER NOT NULL
);
CREATE TABLE trajectories (
        seed         INTEGER NOT NULL,
        step         INTEGER NOT NULL,
        reaction_id  INTEGER NOT NULL,
        time         REAL NOT NULL
);
CREATE TABLE factors (
        factor_zero      REAL NOT NULL,
        factor_two       REAL NOT NULL,
        factor_duplicate REAL NOT NULL
);
CREATE TABLE interrupt_state (
        seed                    INTEGER NOT NULL,
        species_id              INTEGER NOT NULL,
        count                   INTEGER NOT NULL
);
CREATE TABLE interrupt_cutoff (
        seed                    INTEGER NOT NULL,
        step                    INTEGER NOT NULL,
        time                    REAL NOT NULL
);
"""


def _open_sqlite(path: Path, what: str, table: str) -> sqlite3.Connection:
    if not path.is_file():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        conn.execute(f"SELECT * FROM {table} LIMIT 1")
    except sqlite3.DatabaseError:
        conn.close()
        raise ValueError(f"{str(path)!r} is not an RNMC {what} (no '{table}' table)") from None
    return conn


def classify(reactants: list[Species], products: list[Species], electrons: int) -> str:
    """Reaction kind from its participants (used for imported reactions without an atom map)."""
    if electrons:
        return "redox"
    bare_li = lambda side: any(s.n_atoms == 1 and s.elements[0] == "Li" for s in side)  # noqa: E731
    if len(reactants) == 1 and len(products) == 2:
        return "decoordination" if bare_li(products) else "fragmentation"
    if len(reactants) == 2 and len(products) == 1:
        return "coordination" if bare_li(reactants) else "recombination"
    return "concerted"


def import_rnmc(rn_path: str | Path, out: str | Path, state_path: str | Path | None = None,
                names_path: str | Path | None = None, overwrite: bool = False,
                potential: float = 0.0) -> NetworkStore:
    """Create ``out`` from an RNMC network. ``names_path`` is the mol-entries JSON whose order is
    RNMC's species order (required: RNMC files hold no structures). Free energies from the entries
    are stored as source 'rnmc' (eV, 298.15 K); rates, dG and barriers as rate source 'rnmc';
    the initial state as initial state 'rnmc' and the factors in meta 'rnmc_factors'.
    Reactions that RNMC marks non-redox but that change the charge are stored balanced with the
    electrons they need and listed in meta 'import_warnings'."""
    rn_path = Path(rn_path)
    conn = _open_sqlite(rn_path, "reaction network file", "reactions")
    if names_path is None:
        raise ValueError("RNMC files hold no structures: pass the mol-entries JSON with --names")
    entries = load_entries(names_path)
    n_species, n_reactions = conn.execute(
        "SELECT number_of_species, number_of_reactions FROM metadata").fetchone()
    if n_species != len(entries):
        raise ValueError(f"{str(rn_path)!r} has {n_species} species but {str(names_path)!r} lists "
                         f"{len(entries)} entries; give the entries file of this network")
    species = [Species.from_entry(e, name=e.get("name")) for e in entries]
    keys = [s.key for s in species]
    if len(set(keys)) != len(keys):
        dup = [s.name for s in species if keys.count(s.key) > 1]
        raise ValueError(f"entries {dup} are the same species (same graph, charge, multiplicity)")
    rows = conn.execute(
        "SELECT reaction_id, reactant_1, reactant_2, product_1, product_2, rate, dG, dG_barrier, "
        "is_redox FROM reactions ORDER BY reaction_id").fetchall()
    conn.close()

    reactions, rate_rows = [], []
    warnings = []
    for rid, r1, r2, p1, p2, rate, dg, barrier, is_redox in rows:
        rs = [species[i] for i in (r1, r2) if i >= 0]
        ps = [species[i] for i in (p1, p2) if i >= 0]
        # electrons needed for charge balance; RNMC's is_redox is kept for a faithful export
        electrons = sum(s.charge for s in rs) - sum(s.charge for s in ps)
        data = {"units": RNMC_RATE_UNITS, "rnmc_id": rid, "rnmc_is_redox": is_redox}
        if bool(electrons) != bool(is_redox):
            data["source_charge_imbalance"] = electrons
            warnings.append(f"RNMC reaction {rid} ({' + '.join(s.name for s in rs)} -> "
                            f"{' + '.join(s.name for s in ps)}) is marked non-redox but changes the "
                            f"charge by {electrons:+d}; stored balanced with {electrons} electron(s)")
        reactions.append(Reaction(rs, ps, electrons, classify(rs, ps, electrons), rule="rnmc"))
        rate_rows.append((rate, dg, barrier, data))

    store = NetworkStore.create(out, overwrite=overwrite, name=rn_path.stem)
    prov = store.provenance_id("importer", "rnmc", {"file": rn_path.name})
    with store.transaction():
        sids = store.add_species(species, provenance=prov)
        store.set_energies(
            {"species_id": sid, "source": "rnmc", "level_of_theory": RNMC_LEVEL,
             "G": e["free_energy"], "E": e["energy"] * HARTREE_TO_EV, "temperature": 298.15,
             "data": {"entry": e.get("name"), "rnmc_index": i}}
            for i, (sid, e) in enumerate(zip(sids, entries)))
        rids = store.add_reactions(reactions, provenance=prov)
        if len(set(rids)) != len(rids):
            raise ValueError(f"{str(rn_path)!r} lists the same reaction twice")
        store.set_rates(
            {"reaction_id": r, "source": "rnmc", "rate": rate, "dG": dg, "barrier": barrier,
             "potential": potential, "temperature": 298.15, "data": data}
            for r, (rate, dg, barrier, data) in zip(rids, rate_rows))
        meta = {"imported_from": rn_path.name, "potential": potential, "import_warnings": warnings}
        if state_path is not None:
            sconn = _open_sqlite(Path(state_path), "initial state file", "initial_state")
            counts = dict(sconn.execute("SELECT species_id, count FROM initial_state"))
            factors = sconn.execute("SELECT factor_zero, factor_two, factor_duplicate FROM factors").fetchone()
            sconn.close()
            store.set_initial_state("rnmc", {sids[i]: c for i, c in counts.items() if c})
            if factors:
                meta["rnmc_factors"] = list(factors)
        store.set_meta(meta)
    return store


def export_rnmc(store: NetworkStore, out_dir: str | Path, rate_source: str = "rnmc",
                initial_state: str | None = None, factors: tuple[float, float, float] | None = None
                ) -> tuple[Path, Path]:
    """Write ``rn.sqlite`` and ``initial_state.sqlite`` for RNMC's GMC into ``out_dir``.

    Species ids are store ids - 1 in id order; reactions need at most two reactants and two
    products and a rate from ``rate_source``. Returns the two paths."""
    rates = store.rates(rate_source)
    if not rates:
        raise ValueError(f"network {store.path.name} has no rates from source {rate_source!r} "
                         "(RNMC needs a rate for every reaction)")
    species_ids = [r[0] for r in store.conn.execute("SELECT id FROM species ORDER BY id")]
    index = {sid: i for i, sid in enumerate(species_ids)}
    table = store.reaction_table()
    rows = []
    for t, rid in enumerate(table["id"]):
        rs = table["reactant_species"][table["reactant_ptr"][t]:table["reactant_ptr"][t + 1]]
        ps = table["product_species"][table["product_ptr"][t]:table["product_ptr"][t + 1]]
        if len(rs) > 2 or len(ps) > 2:
            raise ValueError(f"reaction {rid} has {len(rs)} reactants and {len(ps)} products; "
                             "RNMC takes at most two of each")
        if int(rid) not in rates:
            raise ValueError(f"reaction {rid} has no rate from source {rate_source!r}")
        rt = rates[int(rid)]
        r_ids = [index[int(s)] for s in rs] + [-1] * (2 - len(rs))
        p_ids = [index[int(s)] for s in ps] + [-1] * (2 - len(ps))
        rows.append((len(rows), len(rs), len(ps), *r_ids, *p_ids, rt["rate"],
                     rt["dG"] if rt["dG"] is not None else 0.0,
                     rt["barrier"] if rt["barrier"] is not None else 0.0,
                     int((rt["data"] or {}).get("rnmc_is_redox", table["electrons"][t] != 0))))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rn, st = out_dir / "rn.sqlite", out_dir / "initial_state.sqlite"
    for p in (rn, st):
        if p.exists():
            p.unlink()
    with sqlite3.connect(rn) as c:
        c.executescript(RN_SCHEMA)
        c.execute("INSERT INTO metadata VALUES (?, ?)", (len(species_ids), len(rows)))
        c.executemany("INSERT INTO reactions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    c.close()
    if factors is None:
        import json

        meta = store.get_meta("rnmc_factors")
        factors = tuple(json.loads(meta)) if meta else (1.0, 1.0, 0.5)
    counts = store.initial_state(initial_state) if initial_state else {}
    with sqlite3.connect(st) as c:
        c.executescript(STATE_SCHEMA)
        c.executemany("INSERT INTO initial_state VALUES (?, ?)",
                      [(index[sid], int(counts.get(sid, 0))) for sid in species_ids])
        c.execute("INSERT INTO factors VALUES (?, ?, ?)", tuple(float(f) for f in factors))
    c.close()
    return rn, st


def read_rnmc_reactions(rn_path: str | Path) -> np.ndarray:
    """RNMC reactions as a structured array (for comparisons and tests)."""
    conn = _open_sqlite(Path(rn_path), "reaction network file", "reactions")
    rows = conn.execute("SELECT reactant_1, reactant_2, product_1, product_2, rate, dG, dG_barrier, "
                        "is_redox FROM reactions ORDER BY reaction_id").fetchall()
    conn.close()
    dtype = [("r1", "i8"), ("r2", "i8"), ("p1", "i8"), ("p2", "i8"), ("rate", "f8"), ("dG", "f8"),
             ("barrier", "f8"), ("is_redox", "i8")]
    return np.array(rows, dtype=dtype)
