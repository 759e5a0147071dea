"""Reactions: balance checked at creation, canonical direction-aware keys, atom maps."""

import numpy as np
import pytest

from sei_net.chem import BalanceError, Reaction, Species

EC = Species.from_smiles("O=C1OCCO1", name="EC")
EC_MINUS = Species.from_smiles("O=C1OCCO1", charge=-1, multiplicity=2)
LI = Species.from_smiles("[Li+]")
LIEC = Species.from_smiles("[Li+]<-O=C1OCCO1", charge=0, multiplicity=2)
LIEC_RO = Species.from_smiles("[Li]OC(=O)OC[CH2]")
LEDC = Species.from_smiles("[Li]OC(=O)OCCOC(=O)O[Li]")
C2H4 = Species.from_smiles("C=C")


def test_balanced_reactions_are_accepted():
    assert Reaction([EC], [EC_MINUS], electrons=1, kind="redox").electrons == 1
    assert Reaction([EC_MINUS, LI], [LIEC], kind="coordination")
    r = Reaction([LIEC_RO, LIEC_RO], [LEDC, C2H4], kind="concerted")
    reac, prod = r.stoichiometry()
    assert reac == {LIEC_RO: 2} and prod == {LEDC: 1, C2H4: 1}


def test_unbalanced_elements_or_charge_are_errors():
    with pytest.raises(BalanceError, match="elements"):
        Reaction([LIEC_RO], [LEDC, C2H4])
    with pytest.raises(BalanceError, match="charge"):
        Reaction([EC], [EC_MINUS], electrons=0)        # the electron is missing
    with pytest.raises(BalanceError, match="charge"):
        Reaction([EC], [EC_MINUS], electrons=-1)       # wrong sign
    with pytest.raises(ValueError, match="kind"):
        Reaction([EC], [EC_MINUS], electrons=1, kind="magic")


def test_key_is_canonical_and_direction_aware():
    a = Reaction([EC_MINUS, LI], [LIEC], kind="coordination")
    b = Reaction([LI, EC_MINUS], [LIEC], kind="coordination")
    assert a.key == b.key
    assert a.reversed().key != a.key
    assert a.reversed().reversed().key == a.key
    red = Reaction([EC], [EC_MINUS], electrons=1, kind="redox")
    assert red.reversed().electrons == -1


def test_atom_map_is_validated_and_follows_canonical_order():
    # Li+ + EC- -> LiEC with an identity-by-element map built from explicit atom positions
    reactants = [LI, EC_MINUS]
    product = LIEC
    r_el = [e for s in reactants for e in s.elements]
    used = set()
    amap = []
    for el in product.elements:
        j = next(k for k, e in enumerate(r_el) if e == el and k not in used)
        used.add(j)
        amap.append(j)
    rx = Reaction(reactants, [product], kind="coordination", atom_map=amap)
    sorted_el = [e for s in rx.reactants for e in s.elements]
    assert [sorted_el[j] for j in rx.atom_map] == list(product.elements)
    with pytest.raises(BalanceError, match="bijection"):
        Reaction(reactants, [product], kind="coordination", atom_map=[0] * product.n_atoms)
    bad = list(amap)
    i = next(k for k, e in enumerate(product.elements) if e == "Li")
    j = next(k for k, e in enumerate(product.elements) if e == "C")
    bad[i], bad[j] = bad[j], bad[i]
    with pytest.raises(BalanceError, match="changes elements"):
        Reaction(reactants, [product], kind="coordination", atom_map=bad)
    back = rx.reversed()
    back_el = [e for s in back.reactants for e in s.elements]
    fwd_el = [e for s in back.products for e in s.elements]
    assert [back_el[j] for j in back.atom_map] == fwd_el
    assert np.array_equal(np.sort(back.atom_map), np.arange(len(fwd_el)))
    # the unchecked fast path agrees with building the reverse through the checking constructor
    checked = Reaction(rx.products, rx.reactants, -rx.electrons, "decoordination", np.argsort(rx.atom_map))
    assert (checked.key, checked.reactants, checked.products, checked.electrons, checked.kind) == \
        (back.key, back.reactants, back.products, back.electrons, back.kind)
    assert np.array_equal(checked.atom_map, back.atom_map) and not back.atom_map.flags.writeable
