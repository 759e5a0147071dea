"""Concerted dissociative electron transfer through species without a minimum (generate.dissociative)."""

from collections import Counter

import numpy as np
import pytest

from sei_net.chem import Species
from sei_net.generate import build_network
from sei_net.generate.dissociative import RULE, add_dissociative_transfers, compose, dissociative_transfers
from sei_net.recipe import parse_recipe

RO = Species.from_smiles("[CH2]COC(=O)[O-]")           # ring-opened EC radical anion
DIANION = Species.from_smiles("[CH2-]COC(=O)[O-]")     # its reduction product: no GFN2 minimum
C2H4, CO3 = Species.from_smiles("C=C"), Species.from_smiles("O=C([O-])[O-]")


@pytest.fixture(scope="module")
def ro_net(tmp_path_factory):
    """Two generations from the ring-opened EC radical anion: its reduction to the dianion, then
    the dianion's fragmentations (C2H4 + CO3 2- among them)."""
    recipe = parse_recipe({"name": "ro", "species": [{"smiles": RO.smiles, "concentration": 1.0}],
                           "limits": {"max_generations": 2}})
    net = build_network(recipe, tmp_path_factory.mktemp("ro") / "ro.db")
    yield net
    net.close()


def _sides(r):
    return tuple(sorted(s.key for s in r.reactants)), tuple(sorted(s.key for s in r.products)), r.electrons


def test_the_two_electron_route_to_carbonate_and_ethylene_becomes_one_step(ro_net):
    reactions = ro_net.reactions()
    joined = dissociative_transfers(reactions, {DIANION.key})
    route = [r for r in joined if _sides(r) == ((RO.key,), tuple(sorted((C2H4.key, CO3.key))), 1)]
    # an electron transfer concerted with the decay's bond change: its kind, the transfer's electrons
    assert len(route) == 1 and route[0].kind == "fragmentation" and route[0].rule == RULE
    step = route[0]
    # the atom map is chemically right, checked on the graphs: the carbonate C comes from the
    # reactant's C with three O neighbours, and ethylene's two C from the two C bonded to each other
    reactant = step.reactants[0]
    neighbours = {i: set() for i in range(reactant.n_atoms)}
    for i, j, _ in reactant.bonds:
        neighbours[i].add(j)
        neighbours[j].add(i)
    carbonyl = next(i for i, e in enumerate(reactant.elements)
                    if e == "C" and sum(reactant.elements[j] == "O" for j in neighbours[i]) == 3)
    offset = 0
    for product in step.products:
        carbons = [step.atom_map[offset + i] for i, e in enumerate(product.elements) if e == "C"]
        if product.key == CO3.key:
            assert carbons == [carbonyl]
        else:
            assert len(carbons) == 2 and carbons[1] in neighbours[carbons[0]] and carbonyl not in carbons
        offset += product.n_atoms
    # every composite is the sum of its two steps (Hess: the same species balance), has its reverse,
    # and none holds the species without a minimum
    by_sides = Counter(_sides(r) for r in reactions)
    for r in joined:
        assert DIANION.key not in {s.key for s in r.reactants + r.products}
        assert r.reversed().key in {x.key for x in joined}
    into = [r for r in reactions if r.electrons == 1 and _sides(r) == ((RO.key,), (DIANION.key,), 1)]
    assert len(into) == 1 and by_sides[_sides(into[0])] == 1
    decays = [r for r in reactions if r.reactants == (DIANION,) and r.electrons == 0]
    assert {_sides(compose(into[0], d, DIANION))[1] for d in decays} == \
        {_sides(r)[1] for r in joined if r.electrons == 1}


def test_nothing_is_joined_through_species_that_have_a_minimum(ro_net):
    assert dissociative_transfers(ro_net.reactions(), set()) == []
    # the one electron transfer that makes the seed is the dianion's oxidation: only reductions
    # start a composite (an oxidation through a species without a minimum is uphill at a negative
    # electrode, and its reverse a three-body association), so none goes through the seed
    assert any(r.products == (RO,) and r.electrons == -1 for r in ro_net.reactions())
    assert dissociative_transfers(ro_net.reactions(), {RO.key}) == []


def test_compose_refuses_steps_that_do_not_meet_at_the_species(ro_net):
    reactions = ro_net.reactions()
    into = next(r for r in reactions if _sides(r) == ((RO.key,), (DIANION.key,), 1))
    other = next(r for r in reactions if r.reactants == (RO,) and r.electrons == 0)
    with pytest.raises(ValueError, match="only reactant"):
        compose(into, other, DIANION)


def test_the_store_holds_exactly_the_composites_of_the_latest_verdicts(ro_net, tmp_path):
    import shutil

    from sei_net.store import NetworkStore

    path = tmp_path / "copy.db"
    ro_net.store.conn.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(ro_net.store.path, path)
    with NetworkStore.open(path) as store:
        before = store.n_reactions()
        first = add_dissociative_transfers(store, {DIANION.key})
        assert first["added"] == first["reactions"] > 0 and first["removed"] == 0
        assert store.n_reactions() == before + first["added"]
        rid = store.conn.execute("SELECT r.id FROM reactions r JOIN provenance p ON p.id = r.provenance_id "
                                 "WHERE p.name = ? LIMIT 1", (RULE,)).fetchone()[0]
        store.set_rates([{"reaction_id": rid, "source": "test", "rate": 1.0}])
        again = add_dissociative_transfers(store, {DIANION.key})
        assert again == {"reactions": first["reactions"], "added": 0, "removed": 0}
        # the species got a minimum: its composites go, with their rates
        gone = add_dissociative_transfers(store, set())
        assert gone == {"reactions": 0, "added": 0, "removed": first["reactions"]}
        assert store.n_reactions() == before and store.rates("test") == {}
        for r in (store.get_reaction(i) for (i,) in store.conn.execute("SELECT id FROM reactions")):
            assert r.rule != RULE
        # a composite some generator rule made already is left to that rule: not added, not removed
        made = dissociative_transfers(ro_net.reactions(), {DIANION.key})[0]
        store.add_reactions([made], provenance=store.provenance_id("rule", "by_hand"))
        third = add_dissociative_transfers(store, {DIANION.key})
        assert third["reactions"] == third["added"] == first["reactions"] - 1
        add_dissociative_transfers(store, set())
        assert store.n_reactions() == before + 1


def test_both_directions_of_a_composite_get_the_same_marcus_lambda(ro_net, tmp_path):
    """The reverse (associative oxidation B + C -> A + e-) takes the radius of its lone product A,
    as the forward step takes A's: forward minus reverse barrier is exactly dG."""
    import shutil

    from sei_net.kinetics.query import PathQuery
    from sei_net.kinetics.rates import outer_reorganisation
    from sei_net.store import NetworkStore

    path = tmp_path / "copy.db"
    ro_net.store.conn.execute("PRAGMA wal_checkpoint(FULL)")
    shutil.copy(ro_net.store.path, path)
    with NetworkStore.open(path) as store:
        add_dissociative_transfers(store, {DIANION.key})
        species = store.all_species()
        rng = np.random.default_rng(0)
        store.set_energies([{"species_id": i, "source": "test", "level_of_theory": "random", "G": float(g)}
                            for i, g in zip(species, rng.normal(-500.0, 5.0, len(species)))])
        query = PathQuery.prepare(store, source="test", electron_free_energy=-1.4)
    table = query.graph
    keys = {}
    for r in range(table.n_reactions):
        rs = tuple(sorted(species[int(s)].key for s in table.r_species[table.r_ptr[r]:table.r_ptr[r + 1]]))
        ps = tuple(sorted(species[int(s)].key for s in table.p_species[table.p_ptr[r]:table.p_ptr[r + 1]]))
        keys[(rs, ps, int(table.electrons[r]))] = r
    fwd = keys[((RO.key,), tuple(sorted((C2H4.key, CO3.key))), 1)]
    back = keys[(tuple(sorted((C2H4.key, CO3.key))), (RO.key,), -1)]
    assert query.radius[fwd] == query.radius[back] > 0
    barrier, dG = query.scores.barrier, query.scores.dG
    assert barrier[fwd] - barrier[back] == pytest.approx(dG[fwd], abs=1e-9)
    # Saveant: the intrinsic barrier (at dG = 0) is the transfer's, lambda_outer/4, plus the bond
    # change's BEP intercept; a plain transfer of the same species has only the first
    model = query.rate_model
    outer = outer_reorganisation(query.radius[fwd], dielectric=model.dielectric,
                                 refractive_index=model.refractive_index)
    e0 = model.bep["fragmentation"][0]
    assert e0 > 0
    lam = outer + 4 * e0
    assert barrier[fwd] == pytest.approx(lam / 4 * (1 + dG[fwd] / lam) ** 2, rel=1e-9)
    zero = model.barriers(np.zeros(2), np.array(["fragmentation", "redox"], dtype=object), np.ones(2),
                          np.full(2, query.radius[fwd]))
    assert zero == pytest.approx([outer / 4 + e0, outer / 4], rel=1e-9)


def test_decays_are_chained_through_a_second_species_without_a_minimum(tmp_path):
    """EC.- + e- -> EC 2- (no minimum) -> [CH2-]CH2OCO2- (no minimum) -> C2H4 + CO3 2-: one
    concerted step, of the harder of its kinds (ring opening), only when both have no minimum."""
    ec_minus, ec_dianion = Species.from_smiles("[O-][C]1OCCO1"), Species.from_smiles("[O-][C-]1OCCO1")
    recipe = parse_recipe({"name": "ecm", "species": [{"smiles": ec_minus.smiles, "concentration": 1.0}],
                           "limits": {"max_generations": 3}})
    with build_network(recipe, tmp_path / "ecm.db") as net:
        reactions = net.reactions()
    route = ((ec_minus.key,), tuple(sorted((C2H4.key, CO3.key))), 1)
    both = {_sides(r): r for r in dissociative_transfers(reactions, {ec_dianion.key, DIANION.key})}
    assert both[route].kind == "ring_opening"
    assert route not in {_sides(r) for r in dissociative_transfers(reactions, {ec_dianion.key, DIANION.key},
                                                                   max_decays=1)}
    # with a minimum for the open-chain dianion the chain stops there: EC.- + e- -> [CH2-]CH2OCO2-
    first_only = {_sides(r) for r in dissociative_transfers(reactions, {ec_dianion.key})}
    assert route not in first_only and ((ec_minus.key,), (DIANION.key,), 1) in first_only
