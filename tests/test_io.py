"""Importers and exporters against the published mrnet and RNMC reference data."""

import json
import sqlite3

import networkx as nx
import numpy as np
import pyarrow.parquet as pq
import pytest

from sei_net.io.entries import free_energy_ev
from sei_net.io.graph_export import export_graphml, export_parquet
from sei_net.io.mrnet import import_mrnet
from sei_net.io.rnmc import export_rnmc, import_rnmc, read_rnmc_reactions


@pytest.fixture(scope="module")
def rnmc_store(tmp_path_factory, shared_data):
    d = shared_data / "rnmc_sei"
    path = tmp_path_factory.mktemp("rnmc") / "rnmc.db"
    store = import_rnmc(d / "rn.sqlite", path, d / "initial_state.sqlite", d / "20211130_mol_entries.json")
    yield store
    store.close()


def test_mrnet_import_names_species_and_computes_free_energies(tmp_path, shared_data, mrnet_entries):
    with import_mrnet(shared_data / "mrnet" / "ronalds_MoleculeEntry.json", tmp_path / "m.db") as store:
        info = store.info()
        assert info["species"] == len(mrnet_entries) == 46
        ledc = store.find_species("LEDC")
        energies = {e["species_id"]: e for e in store.energies("mrnet")}
    entry = next(e for e in mrnet_entries if e["entry_id"] == "LEDC")
    hartree = 27.21139
    expected = hartree * entry["energy"] + 0.0433641 * entry["enthalpy"] - 298.15 * entry["entropy"] * 4.33641e-5
    assert energies[ledc]["G"] == pytest.approx(expected, abs=1e-9)
    # the mrnet data README: Li+ + EC -> LiEC+ has dG = -0.5731 eV
    g = {e["entry_id"]: free_energy_ev(e["energy"], e["enthalpy"], e["entropy"], 298.15) for e in mrnet_entries}
    assert g["LiEC_plus_bi"] - g["Li_plus"] - g["EC"] == pytest.approx(-0.5731, abs=5e-4)


def test_rnmc_import_keeps_species_order_rates_and_initial_state(rnmc_store, shared_data, rnmc_entries):
    info = rnmc_store.info()
    assert (info["species"], info["reactions"]) == (62, 959)
    species = rnmc_store.all_species()
    assert [species[i + 1].name for i in range(62)] == [e["name"] for e in rnmc_entries]
    state = rnmc_store.initial_state("rnmc")
    named = {species[sid].name: n for sid, n in state.items()}
    assert named == {"LiEC_plus": 500, "LEDC": 500, "LEMC": 500, "Li2CO3": 500, "Li_oxalate": 500}
    # dG stored by RNMC equals the difference of the entries' free energies for non-redox reactions
    g = {sid: e["G"] for sid, e in ((e["species_id"], e) for e in rnmc_store.energies("rnmc"))}
    rates = rnmc_store.rates("rnmc")
    table = rnmc_store.reaction_table()
    for t in range(0, len(table["id"]), 37):
        if table["electrons"][t]:
            continue
        rs = table["reactant_species"][table["reactant_ptr"][t]:table["reactant_ptr"][t + 1]]
        ps = table["product_species"][table["product_ptr"][t]:table["product_ptr"][t + 1]]
        dg = sum(g[s] for s in ps) - sum(g[s] for s in rs)
        assert rates[int(table["id"][t])]["dG"] == pytest.approx(dg, abs=1e-6)
    warnings = json.loads(rnmc_store.get_meta("import_warnings"))
    assert len(warnings) == 2 and "942" in warnings[0]


def test_rnmc_round_trip_reproduces_the_network(rnmc_store, shared_data, tmp_path):
    rn, st = export_rnmc(rnmc_store, tmp_path / "out", initial_state="rnmc")
    original = read_rnmc_reactions(shared_data / "rnmc_sei" / "rn.sqlite")
    exported = read_rnmc_reactions(rn)
    assert len(exported) == len(original) == 959

    def canon(rows):
        return [(tuple(sorted((r["r1"], r["r2"]))), tuple(sorted((r["p1"], r["p2"]))), r["rate"], r["dG"],
                 r["barrier"], r["is_redox"]) for r in rows]

    assert canon(exported) == canon(original)
    conn = sqlite3.connect(st)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"initial_state", "trajectories", "factors", "interrupt_state", "interrupt_cutoff"}
    ref = sqlite3.connect(shared_data / "rnmc_sei" / "initial_state.sqlite")
    assert conn.execute("SELECT * FROM factors").fetchall() == ref.execute("SELECT * FROM factors").fetchall()
    counts = dict(conn.execute("SELECT species_id, count FROM initial_state WHERE count > 0"))
    assert counts == dict(ref.execute("SELECT species_id, count FROM initial_state WHERE count > 0"))
    meta = sqlite3.connect(rn).execute("SELECT * FROM metadata").fetchone()
    assert meta == (62, 959)


def test_graphml_and_parquet_exports_read_back(rnmc_store, tmp_path):
    path = export_graphml(rnmc_store, tmp_path / "n.graphml")
    g = nx.read_graphml(path)
    species_nodes = [n for n, d in g.nodes(data=True) if d["bipartite"] == 0]
    reaction_nodes = [n for n, d in g.nodes(data=True) if d["bipartite"] == 1]
    assert (len(species_nodes), len(reaction_nodes)) == (62, 959)
    # every reaction node has in-edges from its reactants and out-edges to its products
    table = rnmc_store.reaction_table()
    n_in = sum(g.in_degree(n) for n in reaction_nodes)
    n_out = sum(g.out_degree(n) for n in reaction_nodes)
    assert n_in == sum(len(np.unique(table["reactant_species"][a:b]))
                       for a, b in zip(table["reactant_ptr"][:-1], table["reactant_ptr"][1:]))
    assert n_out == sum(len(np.unique(table["product_species"][a:b]))
                        for a, b in zip(table["product_ptr"][:-1], table["product_ptr"][1:]))
    files = export_parquet(rnmc_store, tmp_path / "pq")
    tables = {f.stem: pq.read_table(f) for f in files}
    assert tables["species"].num_rows == 62 and tables["reactions"].num_rows == 959
    assert tables["participants"].num_rows == len(table["reactant_species"]) + len(table["product_species"])
    assert tables["rates"].num_rows == 959
