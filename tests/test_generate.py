"""Network generation: rule validation, balanced atom-mapped reactions, reachable chemistry, resume."""

import numpy as np
import pytest
import yaml

from sei_net.chem import Species
from sei_net.generate import RuleError, build_network
from sei_net.generate.rules import parse_rules
from sei_net.recipe import parse_recipe

EC_MINUS = Species.from_smiles("O=C1OCCO1", charge=-1, multiplicity=2)
LIEC_PLUS = Species.from_smiles("[Li+]<-O=C1OCCO1")
EC_RO_MINUS = Species.from_smiles("[CH2]COC(=O)[O-]")       # ring-opened EC radical anion
LIEC_RO = Species.from_smiles("[Li]OC(=O)OC[CH2]")          # ring-opened LiEC radical
LEDC = Species.from_smiles("[Li]OC(=O)OCCOC(=O)O[Li]")
C2H4 = Species.from_smiles("C=C")


@pytest.fixture(scope="module")
def ec_net(tmp_path_factory):
    net = build_network("ec_lipf6", tmp_path_factory.mktemp("g") / "ec.db", max_generations=2)
    yield net
    net.close()


def keyset(net):
    return {s.key for s in net.species().values()}


def test_generated_reactions_are_balanced_with_valid_atom_maps(ec_net):
    reactions = ec_net.reactions()  # get_reaction rebuilds each Reaction, re-checking balance
    assert len(reactions) > 100
    mapped = 0
    for r in reactions:
        if r.atom_map is None:
            continue
        mapped += 1
        r_el = [e for s in r.reactants for e in s.elements]
        p_el = [e for s in r.products for e in s.elements]
        assert [r_el[j] for j in r.atom_map] == p_el
        assert np.array_equal(np.sort(r.atom_map), np.arange(len(r_el)))
    assert mapped == len(reactions)
    keys = [r.key for r in reactions]
    assert len(set(keys)) == len(keys)
    assert {r.reversed().key for r in reactions} == set(keys)  # every reaction has its reverse


def test_first_steps_of_ec_reduction_are_reached(ec_net):
    keys = keyset(ec_net)
    assert {EC_MINUS.key, LIEC_PLUS.key, EC_RO_MINUS.key} <= keys
    eqs = {(tuple(sorted(s.key for s in r.reactants)), tuple(sorted(s.key for s in r.products)), r.electrons)
           for r in ec_net.reactions()}
    ec = Species.from_smiles("O=C1OCCO1").key
    assert ((ec,), (EC_MINUS.key,), 1) in eqs                                # EC + e- -> EC.-
    assert ((EC_MINUS.key,), (EC_RO_MINUS.key,), 0) in eqs                   # ring opening
    li = Species.from_smiles("[Li+]").key
    assert (tuple(sorted((ec, li))), (LIEC_PLUS.key,), 0) in eqs             # Li+ coordination


def test_group_transfer_makes_ledc_and_ethylene(tmp_path):
    recipe = parse_recipe({"name": "liec_ro", "species": [{"smiles": "[Li]OC(=O)OC[CH2]", "concentration": 1}],
                           "limits": {"max_generations": 1}})
    with build_network(recipe, tmp_path / "ro.db") as net:
        found = [r for r in net.reactions()
                 if sorted(s.key for s in r.reactants) == [LIEC_RO.key] * 2
                 and sorted(s.key for s in r.products) == sorted([LEDC.key, C2H4.key])]
    assert len(found) == 1 and found[0].kind == "concerted" and found[0].rule == "group_transfer"


# ------------------------------------------------------------------ chemistry the generator must reach
TARGETS = {  # built here from SMILES, independently of the generator
    "EC radical anion": EC_MINUS,
    "LiEC (closed ring)": Species.from_smiles("[Li+]<-O=C1OCCO1", charge=0, multiplicity=2),
    "LiEC ring-opened (ethylene C-O homolysis)": LIEC_RO,
    "ring-opened carbonate radical anion": EC_RO_MINUS,
    "LEDC": LEDC,
    "LEMC": Species.from_smiles("OCCOC(=O)O[Li]"),
    "C2H4": C2H4,
    "CO": Species.from_smiles("[C-]#[O+]"),
    "CO3 2-": Species.from_smiles("[O-]C(=O)[O-]"),
    "Li2CO3": Species.from_smiles("[Li]OC(=O)O[Li]"),
    "alkoxide from the alternative (acyl C-O) ring opening": Species.from_smiles("[O-]CCO[C]=O"),
}


@pytest.fixture(scope="module")
def ec_li_net(tmp_path_factory):
    """EC + Li+ (+ electrons at the electrode), four generations of the default rules."""
    recipe = parse_recipe({"name": "ec_li", "species": [{"smiles": "O=C1OCCO1", "concentration": 14.0},
                                                        {"smiles": "[Li+]", "concentration": 1.0}],
                           "limits": {"max_generations": 4, "max_species": 50000,
                                      "max_reactions": 500000, "max_heavy_atoms": 12}})
    net = build_network(recipe, tmp_path_factory.mktemp("ec_li") / "ec_li.db")
    yield net
    net.close()


def _equations(net):
    """Set of (sorted reactant keys, sorted product keys, electrons) from the reaction table."""
    table = net.store.reaction_table()
    key_of = {sid: s.key for sid, s in net.species().items()}
    rp, rs, pp, ps = (table[k] for k in ("reactant_ptr", "reactant_species", "product_ptr", "product_species"))
    return {(tuple(sorted(key_of[x] for x in rs[rp[i]:rp[i + 1]])),
             tuple(sorted(key_of[x] for x in ps[pp[i]:pp[i + 1]])), int(table["electrons"][i]))
            for i in range(len(table["id"]))}


def test_sei_products_of_ec_reduction_are_in_the_network(ec_li_net):
    keys = keyset(ec_li_net)
    missing = [name for name, sp in TARGETS.items() if sp.key not in keys]
    assert not missing


def test_sei_products_are_reachable_from_ec_and_li_by_balanced_reactions(ec_li_net):
    """Forward closure over the hypergraph: a product is reachable once all reactants of one of its
    reactions are (electrons are supplied by the electrode)."""
    table = ec_li_net.store.reaction_table()
    species = ec_li_net.species()
    seeds = {Species.from_smiles("O=C1OCCO1").key, Species.from_smiles("[Li+]").key}
    reached = {sid for sid, s in species.items() if s.key in seeds}
    rp, rs, pp, ps = (table[k] for k in ("reactant_ptr", "reactant_species", "product_ptr", "product_species"))
    changed = True
    while changed:
        changed = False
        for i in range(len(table["id"])):
            if set(rs[rp[i]:rp[i + 1]].tolist()) <= reached:
                new = set(ps[pp[i]:pp[i + 1]].tolist()) - reached
                if new:
                    reached |= new
                    changed = True
    reached_keys = {species[sid].key for sid in reached}
    assert all(sp.key in reached_keys for sp in TARGETS.values())


def test_the_textbook_steps_of_ec_reduction_are_reactions(ec_li_net):
    eq = _equations(ec_li_net)
    k = {name: sp.key for name, sp in TARGETS.items()}
    li = Species.from_smiles("[Li+]").key
    liec = k["LiEC (closed ring)"]
    ro = k["LiEC ring-opened (ethylene C-O homolysis)"]
    steps = {
        "EC- + Li+ -> LiEC": ((tuple(sorted((EC_MINUS.key, li))), (liec,), 0)),
        "LiEC ring opening": (((liec,), (ro,), 0)),
        "2 LiEC_RO -> LEDC + C2H4": (((ro, ro), tuple(sorted((LEDC.key, C2H4.key))), 0)),
        "LiCO3- + Li+ -> Li2CO3": ((tuple(sorted((Species.from_smiles("[Li]OC(=O)[O-]").key, li))),
                                    (k["Li2CO3"],), 0)),
        "CO3 2- + C2H4 from the doubly reduced ring-opened EC": (
            ((Species.from_smiles("[CH2-]COC(=O)[O-]").key,), tuple(sorted((k["CO3 2-"], C2H4.key))), 0)),
        "alkoxide radical anion -> CO + alkoxy radical anion": (
            ((k["alkoxide from the alternative (acyl C-O) ring opening"],),
             tuple(sorted((k["CO"], Species.from_smiles("[O-]CC[O]").key))), 0)),
    }
    missing = [name for name, equation in steps.items() if equation not in eq]
    assert not missing


# ------------------------------------------------------------------ operators one by one
def _rule(cls, **options):
    return parse_rules({"rules": [{"name": cls, "class": cls, **options}]}).rules[0]


def _products(cands):
    return {tuple(sorted(p.key for p in c.products)) for c in cands}


def test_radical_addition_to_a_double_bond():
    from sei_net.generate import operators as op

    methyl, ethylene = Species.from_smiles("[CH3]"), Species.from_smiles("C=C")
    found = _products(op.radical_addition(methyl, ethylene, _rule("radical_addition", pairs=["C-C"])))
    assert found == {(Species.from_smiles("CC[CH2]").key,)}
    # no addition to a saturated molecule
    assert not list(op.radical_addition(methyl, Species.from_smiles("CC"), _rule("radical_addition", pairs=["C-C"])))


def test_nucleophilic_addition_of_an_alkoxide_to_co2_gives_a_carbonate():
    from sei_net.generate import operators as op

    found = _products(op.nucleophilic_addition(Species.from_smiles("C[O-]"), Species.from_smiles("O=C=O"),
                                               _rule("nucleophilic_addition", pairs=["C-O"])))
    assert found == {(Species.from_smiles("COC(=O)[O-]").key,)}


def test_group_transfer_abstracts_only_terminal_atoms_from_closed_shell_molecules():
    from sei_net.generate import operators as op

    rule = _rule("group_transfer", form=["C-H", "C-O"], **{"break": ["C-H", "C-O"]})
    found = _products(op.group_transfer(Species.from_smiles("[CH3]"), Species.from_smiles("COC"), rule))
    # H abstraction from dimethyl ether; no SH2 attack on its oxygen
    assert found == {tuple(sorted((Species.from_smiles("C").key, Species.from_smiles("[CH2]OC").key)))}


def test_radical_shift_moves_the_radical_by_a_1_5_hydrogen_transfer():
    from sei_net.generate import operators as op

    rule = _rule("intramolecular_transfer", form=["C-H"], **{"break": ["C-H"]})
    found = _products(op.intramolecular_transfer(Species.from_smiles("[CH2]CCCCC"), rule))
    # 1-hexyl: the 1,4 shift gives 3-hexyl, the 1,5 shift 2-hexyl; 1,2 and 1,3 shifts are not offered
    assert found == {(Species.from_smiles("CCC[CH]CC").key,), (Species.from_smiles("CCCC[CH]C").key,)}
    # in 1-pentyl the 1,5 shift is degenerate (back to 1-pentyl) and is not a reaction
    pentyl = _products(op.intramolecular_transfer(Species.from_smiles("[CH2]CCCC"), rule))
    assert pentyl == {(Species.from_smiles("CCC[CH]C").key,)}


def test_max_generations_zero_keeps_only_the_listed_species(tmp_path):
    with build_network("ec_lipf6", tmp_path / "z.db", max_generations=0) as net:
        assert net.info()["species"] == 3 and net.info()["reactions"] == 0


def test_resuming_gives_the_same_network_as_one_build(tmp_path, ec_net):
    path = tmp_path / "r.db"
    build_network("ec_lipf6", path, max_generations=1).close()
    with build_network("ec_lipf6", path, max_generations=2) as resumed:
        assert keyset(resumed) == keyset(ec_net)
        assert resumed.info()["reactions"] == ec_net.info()["reactions"]


def test_discarded_candidates_are_explained(ec_net):
    from sei_net.cli import explain
    from sei_net.generate import operators as op
    from sei_net.generate.rules import load_rules
    from sei_net.resources import find_resource

    rows = ec_net.store.conn.execute(
        "SELECT reason FROM decisions WHERE kind = 'species' AND kept = 0").fetchall()
    reasons = " | ".join(r[0] for r in rows)
    assert rows and "Lewis" in reasons                 # structure-based rejections have decision rows
    # a metal-free cation from a heterolytic split of EC is rejected from its composition before it
    # is built: no row, and --why gives the filter's reason
    rule = next(r for r in load_rules(find_resource("reactions", "default")).rules if r.cls == "bond_breaking")
    cations = {p.key for c in op.bond_breaking(Species.from_smiles("O=C1OCCO1"), rule) for p in c.products
               if p.charge > 0 and "Li" not in p.elements}
    assert cations
    for key in cations:
        record = explain(ec_net.store, key)
        assert record["kept"] is False and "without a metal" in record["reason"] and record["generation"] is None


def test_adducts_rejected_on_composition_are_skipped_without_changing_the_network(tmp_path, ec_net,
                                                                                monkeypatch):
    """The generator skips Li+ coordination and recombination pairs whose adduct the filters reject
    on composition alone, and any candidate with such a product (operators.product_prefilter);
    building every such product instead gives the same network, and the skipped species are still
    explained, with the reason the full filter gives."""
    from sei_net.cli import explain
    from sei_net.generate import operators as op
    from sei_net.generate.filters import SpeciesFilter
    from sei_net.generate.rules import load_rules
    from sei_net.resources import find_resource

    monkeypatch.setattr(SpeciesFilter, "adduct_reason", lambda self, a, b: None)
    monkeypatch.setattr(SpeciesFilter, "composition_ok", lambda self, elements, charge: True)
    with build_network("ec_lipf6", tmp_path / "all.db", max_generations=2) as every:
        assert keyset(every) == keyset(ec_net)
        reaction_keys = "SELECT key FROM reactions ORDER BY key"
        assert every.store.conn.execute(reaction_keys).fetchall() == ec_net.store.conn.execute(reaction_keys).fetchall()
        n_rows = "SELECT count(*) FROM decisions WHERE kind = 'species'"
        assert every.store.conn.execute(n_rows).fetchone()[0] > ec_net.store.conn.execute(n_rows).fetchone()[0]
    monkeypatch.undo()
    # Li+ on the ring O of LiEC+: charge +2, outside the window; never built in the default build
    rule = next(r for r in load_rules(find_resource("reactions", "default")).rules if r.cls == "coordination")
    li = Species.from_smiles("[Li+]")
    doubly = next(iter(op.coordination(LIEC_PLUS, li, rule))).products[0]
    record = explain(ec_net.store, doubly.key)
    assert record["kept"] is False and "charge +2 outside charge window" in record["reason"]
    assert ec_net.store.conn.execute("SELECT count(*) FROM decisions WHERE key = ?", (doubly.key,)).fetchone()[0] == 0
    with pytest.raises(ValueError, match="never generated"):
        explain(ec_net.store, Species.from_smiles("CCCCO").key)       # passes the filters, no rule makes it


@pytest.mark.parametrize("data, message", [
    ({"rules": [{"name": "x", "class": "teleport"}]}, "class 'teleport' is not valid"),
    ({"rules": [{"name": "x", "class": "bond_breaking", "pairs": ["C-Xx"]}]}, "not an element pair"),
    ({"rules": [{"name": "x", "class": "bond_breaking"}]}, "needs 'pairs'"),
    ({"rules": [{"name": "x", "class": "redox", "colour": 1}]}, "unknown option"),
    ({"filters": {"charge_window": [2, -2]}, "rules": [{"name": "x", "class": "redox"}]}, "charge_window"),
    ({"rules": [{"name": "x", "class": "group_transfer", "form": ["C-H"], "break": ["C-H"],
                 "partners": ["friends"]}]}, "partners must be"),
    ({"rules": [{"name": "x", "class": "radical_coupling", "pairs": ["C-C"], "max_generation_sum": 0}]},
     "max_generation_sum must be a positive integer"),
])
def test_bad_rule_libraries_name_the_key(data, message):
    with pytest.raises(RuleError, match=message):
        parse_rules(data, "r.yaml")


def test_shipped_rule_library_is_valid():
    from sei_net.resources import find_resource

    data = yaml.safe_load(find_resource("reactions", "default.yaml").read_text())
    rules = parse_rules(data)
    assert {r.cls for r in rules.rules} >= {"redox", "bond_breaking", "coordination", "group_transfer"}


BUILDER = """
import sys
from sei_net.generate import build_network
build_network(sys.argv[1], sys.argv[2], max_generations=3).close()
"""


def test_a_build_killed_mid_generation_resumes_to_the_same_network(tmp_path):
    """kill -9 during generation 3; `build` again continues from generation 2 and ends identical to
    an uninterrupted build (and the file stays consistent in between)."""
    import json
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    path = tmp_path / "killed.db"
    script = tmp_path / "builder.py"
    script.write_text(BUILDER)
    proc = subprocess.Popen([sys.executable, str(script), "ec_lipf6", str(path)])
    deadline, done = time.time() + 120, 0
    while done < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
                row = conn.execute("SELECT value FROM meta WHERE key = 'build_state'").fetchone()
            done = json.loads(row[0])["generation_done"] if row else 0
        except (sqlite3.Error, TypeError, ValueError):
            continue
    assert proc.poll() is None, "the build finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT MAX(generation) FROM species").fetchone()[0] == 2  # gen 3 never committed
    conn.close()
    with build_network("ec_lipf6", path, max_generations=3) as resumed, \
            build_network("ec_lipf6", tmp_path / "straight.db", max_generations=3) as straight:
        assert keyset(resumed) == keyset(straight)
        assert resumed.info()["reactions"] == straight.info()["reactions"]
