"""An energy model's applicability domain: atom environments read from the graph, and what lies outside."""

from __future__ import annotations

from sei_net import Species
from sei_net.learn.domain import DEFINITION, Domain, atom_environments, describe_domain

EC = Species.from_smiles("O=C1OCCO1")
PROPANOL, BUTANOL, GLYCOL = (Species.from_smiles(s) for s in ("CCCO", "CCCCO", "OCCO"))
ACETYLIDE = Species.from_smiles("[C-]#C")


def test_environments_say_what_the_graph_holds_at_each_atom():
    envs = set(atom_environments(EC))
    # the carbonyl carbon: three neighbours, sp2, in the five-ring, no H; one double bond out of the ring
    assert "C d3 q0 r0 sp2 ring H0 [double, single ring5, single ring5]" in envs
    assert "O d1 q0 r0 sp2 chain H0 [double]" in envs                      # the carbonyl oxygen
    assert "C d4 q0 r0 sp3 ring H2 [single, single, single ring5, single ring5]" in envs   # a CH2 of the ring
    assert len(atom_environments(EC)) == EC.n_atoms
    # the bare carbon of the acetylide anion: one neighbour, triple bond, charge -1, no H
    assert "C d1 q-1 r0 sp chain H0 [triple]" in atom_environments(ACETYLIDE)


def test_atom_order_does_not_change_the_environments():
    assert sorted(atom_environments(Species.from_smiles("OCCC"))) == sorted(atom_environments(PROPANOL))
    assert sorted(atom_environments(Species.from_smiles("C1COC(=O)O1"))) == sorted(atom_environments(EC))


def test_new_species_of_known_environments_are_inside_and_a_new_bond_kind_is_not():
    domain = Domain.of_species([PROPANOL, EC])
    assert domain.novel(BUTANOL) == [] and domain.novel(GLYCOL) == []     # never trained, nothing new in them
    assert not domain.outside([BUTANOL, GLYCOL, PROPANOL, EC]).any()
    novel = domain.novel(ACETYLIDE)
    assert novel and all("triple" in e for e in novel)                     # the C#C bond is what is new
    assert domain.outside([BUTANOL, ACETYLIDE]).tolist() == [False, True]


def test_the_card_keeps_the_domain_under_its_definition():
    domain = Domain.of_species([PROPANOL])
    stored = domain.to_card()
    assert stored["definition"] == DEFINITION and len(stored["codes"]) == len(stored["environments"])
    assert set(stored["environments"]) == domain.environments == set(atom_environments(PROPANOL))
    assert Domain.of_card({"domain": stored}).codes == domain.codes
    assert Domain.of_card({}) is None                                       # a model from before domains
    assert Domain.of_card({"domain": {**stored, "definition": "another"}}) is None


def test_the_scoring_line_names_what_lies_outside():
    assert describe_domain(None) is None
    assert describe_domain({"predicted": 10, "outside": 0, "environments": []}) is None
    line = describe_domain({"predicted": 10, "outside": 2, "environments": [["C d1 q-1 r0 sp chain H0 [triple]", 2]]})
    assert "2 of the 10 predicted species" in line and "triple" in line and "\n" not in line


def test_codes_and_readable_environments_name_the_same_things():
    from sei_net.learn.domain import _codes, environment_text
    from sei_net.learn.features import featurise

    species = [EC, PROPANOL, BUTANOL, GLYCOL, ACETYLIDE, Species.from_smiles("[O-]C(=O)OCCOC(=O)[O-]"),
               Species.from_smiles("FC1COC(=O)O1"), Species.from_smiles("[CH2]COC(=O)[O]")]
    codes = {c for sp in species for c in _codes(featurise(sp))}
    texts = {environment_text(c) for c in codes}
    assert len(texts) == len(codes) > 15          # the readable form loses nothing the codes tell apart
