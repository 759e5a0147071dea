"""Network store: round trips, deduplication, transactions, kill -9 safety, clear errors."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from sei_net.chem import Species
from sei_net.store import NetworkStore, NotANetworkError, UnknownSpeciesError
from sei_net.store.schema import SCHEMA_VERSION
from sei_net.testing import random_alkanes, random_reactions


@pytest.fixture
def alkanes():
    return random_alkanes(8, 400, seed=1)


def test_species_and_reactions_round_trip(tmp_path, alkanes):
    rxns = random_reactions(alkanes, 300, seed=2)
    ec = Species.from_smiles("O=C1OCCO1", name="EC").with_coords(np.arange(30.0).reshape(10, 3))
    with NetworkStore.create(tmp_path / "n.db") as store:
        store.add_species([ec])
        ids = store.add_reactions(rxns)
        assert len(set(ids)) == len(rxns)
        assert store.add_reactions(rxns[:10]) == ids[:10]  # duplicates are found, not re-added
    with NetworkStore.open(tmp_path / "n.db", readonly=True) as store:
        info = store.info()
        assert info["species"] == len(alkanes) + 1 and info["reactions"] == 300
        back = store.get_species(store.find_species("EC"))
        assert back.key == ec.key and np.allclose(back.coords, ec.coords)
        species = store.all_species()
        for rid in (ids[0], ids[137], ids[-1]):
            r = store.get_reaction(rid, species)
            assert r.key == rxns[ids.index(rid)].key
        table = store.reaction_table()
        n_r = np.diff(table["reactant_ptr"])
        assert np.array_equal(n_r, [len(r.reactants) for r in rxns])


def test_energies_rates_and_state_round_trip(tmp_path):
    sp = [Species.from_smiles(s) for s in ("O=C1OCCO1", "[Li+]")]
    with NetworkStore.create(tmp_path / "n.db") as store:
        a, b = store.add_species(sp)
        store.set_energies([{"species_id": a, "source": "test", "level_of_theory": "none", "G": -1.5,
                             "sigma": 0.1, "members": np.array([-1.4, -1.6])}])
        store.set_initial_state("s", {a: 5, b: 7})
        assert store.initial_state("s") == {a: 5, b: 7}
        e = store.energies("test")[0]
        assert e["G"] == -1.5 and np.allclose(e["members"], [-1.4, -1.6])
        assert store.info()["energy_sources"] == {"test": 1}


def test_failed_transaction_leaves_nothing(tmp_path, alkanes):
    rxns = random_reactions(alkanes, 50, seed=3)
    with NetworkStore.create(tmp_path / "n.db") as store:
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.add_reactions(rxns)
                raise RuntimeError("boom")
        assert store.info()["reactions"] == 0 and store.info()["species"] == 0
        store.add_reactions(rxns)  # id cache was reset: a retry works
        assert store.info()["reactions"] == 50


def test_find_species_errors_are_clear(tmp_path):
    with NetworkStore.create(tmp_path / "n.db") as store:
        store.add_species([Species.from_smiles("O=C1OCCO1", name="EC")])
        assert store.find_species("C1COC(=O)O1") == store.find_species("EC")
        with pytest.raises(UnknownSpeciesError, match="is not in n.db"):
            store.find_species("[Li]OC(=O)OCCOC(=O)O[Li]")   # valid SMILES, absent species
        with pytest.raises(UnknownSpeciesError, match="neither a species name .* nor a valid SMILES"):
            store.find_species("LEDC")                       # unknown name
        with pytest.raises(UnknownSpeciesError, match="nor a valid SMILES"):
            store.find_species("C1CC(")


def test_opening_something_else_is_a_clear_error(tmp_path):
    with pytest.raises(NotANetworkError, match="does not exist"):
        NetworkStore.open(tmp_path / "missing.db")
    (tmp_path / "text.db").write_text("hello")
    with pytest.raises(NotANetworkError, match="not a sei_net network"):
        NetworkStore.open(tmp_path / "text.db")
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE x (a)").connection.close()
    with pytest.raises(NotANetworkError, match="not a sei_net network"):
        NetworkStore.open(tmp_path / "other.db")
    NetworkStore.create(tmp_path / "n.db").close()
    with pytest.raises(FileExistsError):
        NetworkStore.create(tmp_path / "n.db")
    with NetworkStore.open(tmp_path / "n.db") as store:
        assert store.schema_version == SCHEMA_VERSION


WRITER = textwrap.dedent("""
    import sys
    from sei_net.store import NetworkStore
    from sei_net.testing import random_alkanes, random_reactions
    path, batch = sys.argv[1], int(sys.argv[2])
    rxns = random_reactions(random_alkanes(8, 400, seed=1), 40 * batch, seed=5)
    store = NetworkStore.open(path)
    done = store.info()["reactions"]
    for start in range(done, len(rxns), batch):
        store.add_reactions(rxns[start:start + batch])
        print(start + batch, flush=True)
    print("finished", flush=True)
""")


def test_kill_minus_nine_leaves_a_consistent_resumable_file(tmp_path):
    path = tmp_path / "k.db"
    NetworkStore.create(path).close()
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    batch = 500
    proc = subprocess.Popen([sys.executable, str(script), str(path), str(batch)],
                            stdout=subprocess.PIPE, text=True)
    lines = 0
    deadline = time.time() + 120
    while lines < 3 and time.time() < deadline:  # let it commit a few batches, then kill mid-write
        if proc.stdout.readline():
            lines += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert lines >= 3
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    n = conn.execute("SELECT COUNT(*) FROM reactions").fetchone()[0]
    assert n % batch == 0 and n >= 3 * batch  # only whole transactions survive
    orphans = conn.execute(
        "SELECT COUNT(*) FROM reactions r WHERE (SELECT COUNT(*) FROM participants p "
        "WHERE p.reaction_id = r.id) != r.n_reactants + r.n_products").fetchone()[0]
    assert orphans == 0
    conn.close()
    # resume: the writer continues from what is stored and finishes with every reaction once
    out = subprocess.run([sys.executable, str(script), str(path), str(batch)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip().endswith("finished")
    with NetworkStore.open(path, readonly=True) as store:
        assert store.info()["reactions"] == 40 * batch
