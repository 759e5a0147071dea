"""Species identity: one key per species whatever the input, different keys for different species."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem

from sei_net.chem import Species, ValenceError
from sei_net.chem.convert import bonds_from_coords
from sei_net.chem.lewis import assign_lewis

SEI_SMILES = [
    "O=C1OCCO1",                        # EC
    "COC(=O)OC",                        # DMC
    "O=C1OCC(F)O1",                     # FEC
    "O=C1OC=CO1",                       # VC
    "[Li]OC(=O)OCCOC(=O)O[Li]",         # LEDC
    "[Li]OC(=O)OC[CH2]",               # ring-opened LiEC radical (LiEC_RO)
    "CCOC(=O)O[Li]",                    # LEMC-like
    "[Li]OC(=O)O[Li]",                  # Li2CO3
    "[Li]F",                            # LiF
    "[Li]O[Li]",                        # Li2O
    "F[P-](F)(F)(F)(F)F",               # PF6-
    "[Li+]",
    "C=C", "[C-]#[O+]", "O=C=O", "[O-]C(=O)[O-]", "[Li]OCC[O]",
]


@pytest.mark.parametrize("smiles", SEI_SMILES)
def test_smiles_round_trip_keeps_key(smiles):
    sp = Species.from_smiles(smiles)
    again = Species.from_smiles(sp.smiles)
    assert again.key == sp.key
    assert (again.charge, again.multiplicity, again.formula) == (sp.charge, sp.multiplicity, sp.formula)


@st.composite
def random_smiles(draw):
    smiles = draw(st.sampled_from(SEI_SMILES))
    seed = draw(st.integers(0, 10_000))
    mol = Chem.MolFromSmiles(smiles)
    Chem.rdBase.SeedRandomNumberGenerator(seed)
    return smiles, Chem.MolToSmiles(mol, doRandom=True, canonical=False)


@settings(max_examples=60, deadline=None)
@given(random_smiles())
def test_key_invariant_under_smiles_randomisation(pair):
    original, randomised = pair
    assert Species.from_smiles(randomised).key == Species.from_smiles(original).key


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SEI_SMILES), st.randoms(use_true_random=False))
def test_key_invariant_under_atom_reordering(smiles, rnd):
    sp = Species.from_smiles(smiles)
    perm = list(range(sp.n_atoms))
    rnd.shuffle(perm)  # perm[new] = old
    inverse = {old: new for new, old in enumerate(perm)}
    elements = [sp.elements[old] for old in perm]
    bonds = [(inverse[i], inverse[j]) for i, j, _ in sp.bonds]
    if rnd.random() < 0.5:
        bonds = bonds[::-1]
    shuffled = Species.from_graph(elements, bonds, sp.charge, sp.multiplicity)
    assert shuffled.key == sp.key
    assert shuffled.elements == sp.elements  # canonical atom order is restored too


def test_same_species_from_every_input_format(mrnet_entries):
    ec = Species.from_smiles("O=C1OCCO1")
    assert Species.from_smiles("C1COC(=O)O1").key == ec.key
    assert Species.from_rdkit(Chem.MolFromSmiles("O=C1OCCO1")).key == ec.key
    atoms = ec.to_ase(seed=3)
    assert Species.from_ase(atoms).key == ec.key
    assert Species.from_pymatgen(ec.to_pymatgen()).key == ec.key
    assert Species.from_pymatgen(ec.to_molecule_graph()).key == ec.key
    entry = next(e for e in mrnet_entries if e["entry_id"] == "EC")
    assert Species.from_entry(entry).key == ec.key
    assert Species.from_dict(ec.to_dict()).key == ec.key
    assert Species.from_rdkit(ec.to_rdkit()).key == ec.key


def test_isomers_charges_and_multiplicities_get_different_keys():
    keys = {
        Species.from_smiles("OCCO").key,                       # ethylene glycol
        Species.from_smiles("COCO").key,                       # methoxymethanol (isomer)
        Species.from_smiles("O=C1OCCO1").key,                  # EC
        Species.from_smiles("O=C1OCCO1", charge=-1, multiplicity=2).key,   # EC radical anion
        Species.from_smiles("O=C1OCCO1", charge=-2, multiplicity=1).key,   # EC dianion
        Species.from_smiles("O=C1OCCO1", charge=-2, multiplicity=3).key,   # triplet dianion
        Species.from_smiles("O=C1OCCO1->[Li+]").key,           # Li+ on the ring oxygen
        Species.from_smiles("[Li+]<-O=C1OCCO1").key,           # Li+ on the carbonyl oxygen
    }
    assert len(keys) == 8


def test_sei_species_are_representable():
    ledc = Species.from_smiles("[Li]OC(=O)OCCOC(=O)O[Li]")
    assert (ledc.formula, ledc.charge, ledc.multiplicity) == ("C4H4Li2O6", 0, 1)
    assert sum(1 for *_, kind in ledc.bonds if kind == 1) == 2  # two coordination bonds
    liec_ro = Species.from_smiles("[Li]OC(=O)OC[CH2]")
    assert (liec_ro.formula, liec_ro.multiplicity) == ("C3H4LiO3", 2)
    assert Species.from_smiles("[Li]F").formula == "FLi"
    assert Species.from_smiles("[Li]OC(=O)O[Li]").formula == "CLi2O3"
    assert Species.from_smiles("[Li+]").charge == 1
    pf6 = Species.from_smiles("F[P-](F)(F)(F)(F)F")
    assert (pf6.formula, pf6.charge) == ("F6P", -1)


def test_every_known_sei_name_is_a_distinct_closed_shell_species():
    """Names label network species by key: two names on one key would hide one of them."""
    from sei_net.chem.known import KNOWN_SEI_SPECIES, known_species_keys

    assert len(known_species_keys()) == len(KNOWN_SEI_SPECIES)
    lmc = Species.from_smiles(KNOWN_SEI_SPECIES["LMC"])
    assert (lmc.formula, lmc.charge, lmc.multiplicity) == ("C2H3LiO3", 0, 1)
    # every named species except the ring-opened radical is closed shell
    assert {n for n, smi in KNOWN_SEI_SPECIES.items() if Species.from_smiles(smi).multiplicity != 1} == {"LiEC_RO"}


@pytest.mark.parametrize("bad", ["C1CC(", "", "not a smiles"])
def test_unparsable_smiles_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="SMILES"):
        Species.from_smiles(bad)


def test_disconnected_and_impossible_inputs_are_rejected():
    with pytest.raises(ValueError, match="disconnected"):
        Species.from_smiles("[Li+].F[P-](F)(F)(F)(F)F")
    with pytest.raises(ValueError, match="multiplicity 2 is impossible"):
        Species.from_smiles("O=C1OCCO1", multiplicity=2)  # 46 electrons cannot be a doublet
    with pytest.raises(ValueError, match="not supported"):
        Species.from_graph(["U"], [], 0, 1)


def test_lewis_structure_is_consistent_with_charge_and_spin(rnmc_entries):
    checked = 0
    for entry in rnmc_entries:
        sp = Species.from_entry(entry)
        try:
            lew = sp.lewis
        except ValueError:
            continue
        checked += 1
        assert sum(lew.formal_charges) == sp.charge
        assert sum(lew.radicals) == sp.multiplicity - 1
        Chem.SanitizeMol(sp.to_rdkit())  # valences are chemically valid
    assert checked >= 60  # all but hypervalent oddities such as H2O radical anion


def test_lewis_rejects_impossible_valence():
    with pytest.raises(ValueError):
        # a carbon with five neighbours has no Lewis structure
        assign_lewis(("C", "H", "H", "H", "H", "H"), tuple((0, i, 0) for i in range(1, 6)), 1, 1)
    with pytest.raises(ValenceError):
        assign_lewis(("F", "F"), ((0, 1, 0),), -3, 2)


def _fragment_graphs(entries, seed=0):
    """Reference species and random fragments of them (one bond removed, largest piece kept),
    each with charges -2..+1 and multiplicities 1..3: feasible and infeasible problems."""
    from sei_net.chem.graph import connected_components

    rng = np.random.default_rng(seed)
    graphs = []
    for entry in entries:
        sp = Species.from_entry(entry)
        graphs.append((sp.elements, sp.bonds))
        if len(sp.bonds) > 1:
            cut = int(rng.integers(len(sp.bonds)))
            rest = sp.bonds[:cut] + sp.bonds[cut + 1:]
            part = max(connected_components(sp.n_atoms, rest), key=len)
            local = {a: t for t, a in enumerate(part)}
            graphs.append((tuple(sp.elements[a] for a in part),
                           tuple((local[i], local[j], k) for i, j, k in rest if i in local and j in local)))
    return [(el, bd, q, m) for el, bd in graphs for q in (-2, -1, 0, 1) for m in (1, 2, 3)]


def test_lewis_search_agrees_with_the_milp(mrnet_entries, rnmc_entries):
    """The branch and bound and the HiGHS MILP are independent exact solvers of one problem."""
    from sei_net.chem import lewis

    feasible = 0
    for problem in _fragment_graphs(list(mrnet_entries) + list(rnmc_entries)):
        try:
            fast = lewis._assign_search(*problem)
        except ValenceError:
            fast = None
        try:
            ref = lewis._assign_milp(*problem)
        except ValenceError:
            assert fast is None, problem
            continue
        feasible += 1
        assert fast is not None, problem
        assert fast.penalty == pytest.approx(ref.penalty, abs=1e-7), problem
        assert sum(fast.formal_charges) == problem[2] and sum(fast.radicals) == problem[3] - 1
    assert feasible > 300


def test_distance_bond_perception_matches_reference_graphs(mrnet_entries, rnmc_entries):
    """bonds_from_coords (covalent radii + Li cutoff) vs the graphs stored by mrnet/RNMC."""
    for entry in list(mrnet_entries) + list(rnmc_entries):
        mol = entry["molecule"]
        el = [s["name"] for s in mol["sites"]]
        xyz = np.array([s["xyz"] for s in mol["sites"]])
        perceived = Species.from_graph(el, bonds_from_coords(el, xyz), mol["charge"], mol["spin_multiplicity"])
        assert perceived.key == Species.from_entry(entry).key, entry.get("entry_id") or entry.get("name")


def test_coordinates_follow_canonical_order():
    sp = Species.from_smiles("O=C1OCCO1").with_coords(None)
    atoms = Species.from_smiles("C1COC(=O)O1").to_ase(seed=1)
    again = Species.from_ase(atoms)
    # every bond of the canonical graph has a bond-like length in the canonical coordinates
    d = [np.linalg.norm(again.coords[i] - again.coords[j]) for i, j, _ in again.bonds]
    assert max(d) < 1.6 and min(d) > 0.9
    assert again.elements == sp.elements


@pytest.mark.parametrize("smiles", SEI_SMILES)
def test_with_charge_equals_canonicalising_the_same_graph_with_that_charge(smiles):
    sp = Species.from_smiles(smiles)
    n_electrons = sum({"H": 1, "Li": 3, "C": 6, "O": 8, "F": 9, "P": 15}[e] for e in sp.elements)
    for charge in (sp.charge - 1, sp.charge + 1, sp.charge - 2):
        fast = sp.with_charge(charge)
        slow = Species.from_graph(sp.elements, sp.bonds, charge)   # canonicalised from scratch
        assert (fast.key, fast.elements, fast.bonds, fast.multiplicity) == \
               (slow.key, slow.elements, slow.bonds, slow.multiplicity)
        assert fast.multiplicity == 1 + (n_electrons - charge) % 2
    with pytest.raises(ValueError, match="negative electron count"):
        sp.with_charge(n_electrons + 1)
