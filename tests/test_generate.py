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
    rows = ec_net.store.conn.execute(
        "SELECT reason FROM decisions WHERE kind = 'species' AND kept = 0").fetchall()
    reasons = " | ".join(r[0] for r in rows)
    assert "charge" in reasons and rows


@pytest.mark.parametrize("data, message", [
    ({"rules": [{"name": "x", "class": "teleport"}]}, "class 'teleport' is not valid"),
    ({"rules": [{"name": "x", "class": "bond_breaking", "pairs": ["C-Xx"]}]}, "not an element pair"),
    ({"rules": [{"name": "x", "class": "bond_breaking"}]}, "needs 'pairs'"),
    ({"rules": [{"name": "x", "class": "redox", "colour": 1}]}, "unknown option"),
    ({"filters": {"charge_window": [2, -2]}, "rules": [{"name": "x", "class": "redox"}]}, "charge_window"),
])
def test_bad_rule_libraries_name_the_key(data, message):
    with pytest.raises(RuleError, match=message):
        parse_rules(data, "r.yaml")


def test_shipped_rule_library_is_valid():
    from sei_net.resources import find_resource

    data = yaml.safe_load(find_resource("reactions", "default.yaml").read_text())
    rules = parse_rules(data)
    assert {r.cls for r in rules.rules} >= {"redox", "bond_breaking", "coordination", "group_transfer"}
