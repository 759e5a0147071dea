"""NEB barriers on the GFN2-xTB surface: one saddle seen from both sides, and refusals."""

import itertools

import numpy as np
import pytest

pytest.importorskip("tblite")

from sei_net.chem.reaction import Reaction  # noqa: E402
from sei_net.chem.species import Species  # noqa: E402
from sei_net.energy.gfn2 import GFN2Oracle  # noqa: E402
from sei_net.energy.neb import neb_barrier  # noqa: E402


def _least_change_map(a: Species, *products: Species) -> list[int]:
    """Product-atom -> reactant-atom map with the fewest bond changes (brute force, tiny species)."""
    elements, bonds = [], []
    for p in products:
        bonds += [(i + len(elements), j + len(elements)) for i, j, _ in p.bonds]
        elements += p.elements
    ra = {(min(i, j), max(i, j)) for i, j, _ in a.bonds}
    best = None
    for perm in itertools.permutations(range(a.n_atoms)):
        if any(a.elements[p] != elements[i] for i, p in enumerate(perm)):
            continue
        rb = {(min(perm[i], perm[j]), max(perm[i], perm[j])) for i, j in bonds}
        if best is None or len(ra ^ rb) < best[0]:
            best = (len(ra ^ rb), list(perm))
    return best[1]


@pytest.fixture(scope="module")
def methoxy_shift():
    """CH3O* -> *CH2OH (1,2-H shift) with both species labelled by the oracle."""
    a, b = Species.from_smiles("C[O]"), Species.from_smiles("[CH2]O")
    oracle = GFN2Oracle(n_conformers=2)
    la, lb = oracle.compute(a), oracle.compute(b)
    assert la.status == lb.status == "ok"
    return Reaction([a], [b], kind="concerted", atom_map=_least_change_map(a, b)), la, lb


def test_forward_and_reverse_neb_find_one_saddle_and_differ_by_the_reaction_energy(methoxy_shift):
    reaction, la, lb = methoxy_shift
    fwd = neb_barrier(reaction, np.array(la.coords), [np.array(lb.coords)], la.G, la.E)
    rev = neb_barrier(reaction.reversed(), np.array(lb.coords), [np.array(la.coords)], lb.G, lb.E)
    assert fwd.status == rev.status == "ok", (fwd.reason, rev.reason)
    # an H transfer: one hard imaginary mode, the same from both sides
    assert fwd.imaginary_cm < -1000 and abs(fwd.imaginary_cm - rev.imaginary_cm) < 20
    assert len(fwd.data["imaginary_cm"]) == 1
    # microscopic reversibility: two independent NEBs over one saddle
    assert fwd.dE_act - rev.dE_act == pytest.approx(fwd.dE_reaction, abs=0.02)
    # the band's product end is a product minimum relaxed on its own ('pulled and pushed'), not the
    # label's geometry: the same energy to the optimisers' tolerance, and no saddle 0.26 eV up
    assert fwd.dE_reaction == pytest.approx(lb.E - la.E, abs=0.01)
    assert fwd.dE_act > max(0.0, fwd.dE_reaction) + 0.5  # a real barrier, not a plateau
    # the free-energy barrier uses the same treatment as the species: the same saddle's G
    assert (la.G + fwd.dG_act) == pytest.approx(lb.G + rev.dG_act, abs=0.02)


def test_neb_refuses_what_it_cannot_do_with_a_reason():
    a, b, c = Species.from_smiles("CO"), Species.from_smiles("[CH3]"), Species.from_smiles("[OH]")
    coords = np.zeros((a.n_atoms, 3))
    homolysis = Reaction([a], [b, c], kind="fragmentation", atom_map=_least_change_map(a, b, c))
    rec = neb_barrier(homolysis, coords, [np.zeros((b.n_atoms, 3)), np.zeros((c.n_atoms, 3))], 0.0, 0.0)
    assert rec.status == "failed" and "spin" in rec.reason
    no_map = Reaction([a], [a], kind="concerted")
    rec = neb_barrier(no_map, coords, [coords], 0.0, 0.0)
    assert rec.status == "failed" and "atom map" in rec.reason


def test_eligible_reactions_one_direction_per_pair_spin_conserving_and_labelled(tmp_path):
    from sei_net.energy.barrier_labels import NEB_KINDS, BarrierStore, balanced_order, eligible_reactions
    from sei_net.energy.labels import LabelStore
    from sei_net.energy.neb import NEB_LEVEL, BarrierRecord
    from sei_net.energy.record import EnergyRecord
    from sei_net.generate import build_network

    with build_network("ec_lipf6", tmp_path / "ec.db", max_generations=2) as net:
        species = list(net.species().values())
        rng = np.random.default_rng(0)
        G = {s.key: float(rng.normal(-100, 10)) for s in species}
        unlabelled = species[0].key
        with LabelStore(tmp_path / "labels.db") as labels:
            labels.put([EnergyRecord(k, "L", "ok", E=g, G=g) for k, g in G.items() if k != unlabelled])
            chosen = eligible_reactions(net.store, labels, "L")
    assert chosen
    pairs = [frozenset(s.key for s in r.reactants + r.products) for r, _, _ in chosen]
    assert len(pairs) == len(set(pairs))  # one direction of each forward/reverse pair
    for reaction, kind, dG in chosen:
        assert kind in NEB_KINDS and len(reaction.reactants) == 1 and reaction.electrons == 0
        assert sum(p.radicals for p in reaction.products) == reaction.reactants[0].radicals
        assert unlabelled not in {s.key for s in reaction.reactants + reaction.products}
        assert dG == pytest.approx(sum(G[p.key] for p in reaction.products) - G[reaction.reactants[0].key])
        if len(reaction.products) == 1:  # both directions are eligible: the exergonic one is run
            assert dG <= 0

    order = balanced_order(chosen, seed=1)
    assert sorted(r.key for r, _, _ in order) == sorted(r.key for r, _, _ in chosen)
    n_kinds = len({k for _, k, _ in chosen})
    assert len({k for _, k, _ in order[:n_kinds]}) == n_kinds  # every prefix samples every kind

    with BarrierStore(tmp_path / "b.db") as store:
        store.put(BarrierRecord("r1", "failed", reason="x"), "concerted")
        store.put(BarrierRecord("r2", "ok", dG_act=0.5), "ring_opening")
        assert store.done() == {"r1", "r2"} and store.done(retry_failed=True) == {"r2"}
        assert store.done(NEB_LEVEL + " other") == {"r2"}  # settled at another level: not run again


def test_image_count_is_part_of_the_level_and_a_rerun_takes_only_the_unsettled(tmp_path):
    from sei_net.energy.barrier_labels import BarrierStore
    from sei_net.energy.neb import NEB_LEVEL, BarrierRecord, neb_barrier, neb_level

    assert neb_level(7) == NEB_LEVEL and "11 images" in neb_level(11) and neb_level(11) != NEB_LEVEL
    a = Species.from_smiles("CO")
    no_map = Reaction([a], [a], kind="concerted")
    rec = neb_barrier(no_map, np.zeros((a.n_atoms, 3)), [np.zeros((a.n_atoms, 3))], 0.0, 0.0, n_images=11,
                      max_steps=1500)
    assert rec.level_of_theory == neb_level(11) and rec.n_images == 11 and rec.data["max_steps"] == 1500
    with pytest.raises(ValueError, match="images 2 is not valid; give 3 or more"):
        neb_barrier(no_map, np.zeros((a.n_atoms, 3)), [np.zeros((a.n_atoms, 3))], 0.0, 0.0, n_images=2)

    more = neb_level(11)
    with BarrierStore(tmp_path / "b.db") as store:
        store.put(BarrierRecord("stuck", "failed", reason="did not converge"), "concerted")
        store.put(BarrierRecord("fine", "ok", dG_act=0.5), "concerted")
        store.put(BarrierRecord("flat", "barrierless"), "fragmentation")
        store.put(BarrierRecord("scf", "failed", reason="SCF not converged in 500 cycles"), "concerted")
        assert store.done(more) == {"fine", "flat"}  # failures of the other level run at this one
        assert store.done(more, failed_reason="did not converge") == {"fine", "flat", "scf"}
        assert store.done(NEB_LEVEL, True, "did not converge") == {"fine", "flat", "scf"}
        assert store.done(NEB_LEVEL) == {"fine", "flat", "scf", "stuck"}
        store.put(BarrierRecord("stuck", "ok", dG_act=0.7, n_images=11, level_of_theory=more), "concerted")
        assert store.done(more, retry_failed=True) == {"fine", "flat", "stuck"}
        assert store.done(NEB_LEVEL, retry_failed=True) == {"fine", "flat", "stuck"}  # settled at 11 images
        assert store.keys() == {"fine", "flat", "scf", "stuck"}
        # both results are kept, the newer last, so a dataset built from the store prefers it
        assert [r["level_of_theory"] for _, r in store.records() if r["reaction_key"] == "stuck"] == [NEB_LEVEL, more]


def test_shards_partition_the_work_and_keep_their_share_when_restarted():
    from types import SimpleNamespace

    from sei_net.energy.barrier_labels import shard_queue

    chosen = [(SimpleNamespace(key=f"r{i}"), "fragmentation", 0.0) for i in range(11)]
    def keys(queue):
        return [t[0].key for t in queue]
    first = [keys(shard_queue(chosen, set(), (k, 3))) for k in range(3)]
    assert sorted(sum(first, [])) == sorted(t[0].key for t in chosen)   # every reaction, in one shard only
    # shard 0 ran three of its reactions and shard 1 one, then shard 1 is restarted alone: it resumes
    # its own share and takes nothing of shard 0's, whatever the others got through
    done = set(first[0][:3]) | {first[1][0]}
    assert keys(shard_queue(chosen, done, (1, 3))) == first[1][1:]
    assert keys(shard_queue(chosen, done, (0, 3))) == first[0][3:]
    assert keys(shard_queue(chosen, done, (2, 3), limit=2)) == first[2][:2]


def test_label_barriers_refuses_a_kind_neb_does_not_run(tmp_path):
    from sei_net.energy.barrier_labels import label_barriers

    with pytest.raises(ValueError, match="redox.*valid: ring_opening"):
        label_barriers(tmp_path / "n.db", tmp_path / "l.db", tmp_path / "b.db", "L", kinds=("concerted", "redox"))
    assert not (tmp_path / "b.db").exists()  # refused before any store is touched


def test_formed_bonds_are_the_product_bonds_the_reactant_lacks():
    from sei_net.energy.neb import broken_bonds, formed_bonds
    from sei_net.learn.external_barriers import map_least_bond_changes

    # 1,5-H shift of the butoxy radical: O takes the H of the terminal carbon
    shift = map_least_bond_changes([Species.from_smiles("CCCC[O]")], [Species.from_smiles("[CH2]CCCO")])
    (o, h), = formed_bonds(shift)
    (c, h2), = broken_bonds(shift)
    elements = shift.reactants[0].elements
    assert {elements[o], elements[h]} == {"O", "H"} and h2 in (o, h)
    # a pure fragmentation forms nothing
    frag = map_least_bond_changes([Species.from_smiles("CC(=O)[O-]")], [Species.from_smiles("[CH3-]"),
                                                                        Species.from_smiles("O=C=O")])
    assert formed_bonds(frag) == [] and len(broken_bonds(frag)) == 1


def test_reactive_conformer_brings_the_far_pair_within_reach_and_keeps_the_reactant():
    from sei_net.energy.geometry import graph_check
    from sei_net.energy.neb import REACH_MARGIN, _covalent_length, formed_bonds, reactive_reactant
    from sei_net.learn.external_barriers import map_least_bond_changes

    a = Species.from_smiles("CCCC[O]")
    shift = map_least_bond_changes([a], [Species.from_smiles("[CH2]CCCO")])
    oracle = GFN2Oracle(n_conformers=1)
    label = oracle.compute(a)
    (o, h), = formed_bonds(shift)
    labelled = a.with_coords(np.array(label.coords)).to_ase()
    labelled.calc = oracle._calculator(a)
    d0 = labelled.get_distance(o, h)
    assert d0 > _covalent_length(a.elements, o, h) + REACH_MARGIN  # the extended chain: out of reach
    reactive = reactive_reactant(shift, labelled, lambda: oracle._calculator(a))
    assert reactive is not None
    assert reactive.get_distance(o, h) < d0 - 1.0
    assert graph_check(a, reactive.get_positions())[0] != "rearranged"
    # a minimum of its own: no force left beyond the optimiser's tolerance (eV/Å)
    assert np.abs(reactive.get_forces()).max() < 0.05
    # the labelled geometry is untouched, so barriers stay measured from it
    assert np.allclose(labelled.get_positions(), label.coords)


def test_band_is_given_up_when_its_scf_keeps_needing_retries():
    from ase import Atoms
    from ase.calculators.lj import LennardJones
    from ase.mep import NEB

    from sei_net.energy.neb import MAX_SCF_RESCUES, _optimise_band

    class Troubled(LennardJones):
        rescues = MAX_SCF_RESCUES  # every image has already needed this many SCF retries

    a = Atoms("Ar2", positions=[(0, 0, 0), (3.0, 0, 0)])
    b = Atoms("Ar2", positions=[(0, 0, 0), (4.0, 0, 0)])
    images = [a] + [a.copy() for _ in range(3)] + [b]
    for im in images:
        im.calc = Troubled()
    neb = NEB(images, method="improvedtangent")
    neb.interpolate()
    with pytest.raises(RuntimeError, match="SCF unstable"):
        _optimise_band(neb, images, 0.05, 100)
    for im in images:
        im.calc.rescues = 0
    assert _optimise_band(neb, images, 0.05, 200)  # the same band converges when the SCF behaves


def test_barrierless_from_a_strained_reactive_conformer_is_not_a_zero_barrier():
    from sei_net.energy.neb import BarrierRecord, _barrierless

    rec = BarrierRecord("r", "failed")
    _barrierless(rec, e_start=-10.0, e_end=-10.5, e_label=-10.0)  # from the labelled reactant itself
    assert rec.status == "barrierless" and rec.dE_act == 0.0
    _barrierless(rec, e_start=-10.1, e_end=-9.8, e_label=-10.0)  # a lower conformer: endergonic step
    assert rec.dE_act == pytest.approx(0.2)
    with pytest.raises(RuntimeError, match="0.40 eV above"):
        _barrierless(BarrierRecord("r", "failed"), e_start=-9.6, e_end=-11.0, e_label=-10.0)


def test_path_check_names_what_an_image_far_above_both_ends_can_mean():
    from sei_net.energy.neb import MAX_IMAGE_EXCESS, _check_path

    energies = np.array([0.0, 1.0, MAX_IMAGE_EXCESS + 1.5, 1.0, -0.5])
    with pytest.raises(RuntimeError, match=r"5\.5 eV above both ends \(SCF state\)"):
        _check_path(energies, 0.0, -0.5)
    with pytest.raises(RuntimeError, match="runaway climbing image"):
        _check_path(energies, 0.0, -0.5, climbing=True)
    _check_path(np.array([0.0, MAX_IMAGE_EXCESS - 0.1, -0.5]), 0.0, -0.5)  # a high but possible barrier


def test_push_restraint_is_the_gradient_of_its_energy_and_holds_atoms_apart():
    from ase import Atoms
    from ase.calculators.lj import LennardJones

    from ase.optimize import BFGS

    from sei_net.energy.neb import PUSH_KICK, RESTRAINT_K, _push_apart, relax

    atoms = Atoms("Ar3", positions=[(0, 0, 0), (1.2, 0.3, 0), (0, 3.0, 0)])
    push = _push_apart(0, 1, RESTRAINT_K, 2.5)
    forces = np.zeros((3, 3))
    push.adjust_forces(atoms, forces)
    # force = -d(energy)/d(position), by central differences
    for atom, axis in itertools.product((0, 1), range(3)):
        moved = []
        for step in (1e-5, -1e-5):
            a = atoms.copy()
            a.positions[atom, axis] += step
            moved.append(push.adjust_potential_energy(a))
        assert forces[atom, axis] == pytest.approx(-(moved[0] - moved[1]) / 2e-5, abs=1e-6)
    assert np.allclose(forces[2], 0.0) and np.allclose(forces.sum(axis=0), 0.0)  # no net force
    # beyond r_min it does nothing
    far = _push_apart(0, 2, RESTRAINT_K, 2.5)
    assert far.adjust_potential_energy(atoms) == 0.0
    # a force-free system minimised under the push ends with the pair r_min apart, the third atom still
    atoms.calc = LennardJones(epsilon=0.0)
    atoms.set_constraint(push)
    BFGS(atoms, logfile=None).run(fmax=0.01, steps=100)
    assert atoms.get_distance(0, 1) == pytest.approx(2.5, abs=0.01)
    assert np.allclose(atoms.positions[2], (0, 3.0, 0))
    # relax() kicks a pushed geometry off symmetric points before its free relaxation: by PUSH_KICK
    atoms.set_constraint()
    before = atoms.positions.copy()
    relax(atoms, push=[(0, 1, 2.5)])
    kick = np.linalg.norm(atoms.positions - before, axis=1)
    assert 0.0 < kick.max() < 5 * PUSH_KICK


def test_a_shifted_atom_pushed_off_its_donor_gives_the_product_complex():
    """1,5-H shift of the ethyl carbonate radical, O-centred to C-centred: the product guess that
    pulls the H to the O and pushes it off its carbon relaxes to the products' bond graph."""
    from sei_net.energy.neb import PUSH_MARGIN, _covalent_length, product_complex_status, product_guesses, relax
    from sei_net.learn.external_barriers import map_least_bond_changes

    shift = map_least_bond_changes([Species.from_smiles("[O]C(=O)OCC")], [Species.from_smiles("O=C(O)O[CH]C")])
    a, b = shift.reactants[0], shift.products[0]
    oracle = GFN2Oracle(n_conformers=1)
    la, lb = oracle.compute(a), oracle.compute(b)
    guesses = {g[0]: g for g in product_guesses(shift, np.array(la.coords), [np.array(lb.coords)])}
    assert list(guesses) == ["pulled", "pulled and pushed", "stretched", "aligned products"]
    _, coords, pull, push = guesses["pulled and pushed"]
    (c, h, r_push), = push
    assert r_push == pytest.approx(_covalent_length(a.elements, c, h) + PUSH_MARGIN)
    trial = a.with_coords(coords).to_ase()
    trial.calc = oracle._calculator(a)
    relax(trial, pull, push=push)
    assert product_complex_status(shift, trial.get_positions()) == "ok"
    # a reaction that forms no bond gets neither pulled guess
    frag = map_least_bond_changes([Species.from_smiles("CC(=O)[O-]")], [Species.from_smiles("[CH3-]"),
                                                                        Species.from_smiles("O=C=O")])
    assert [g[0] for g in product_guesses(frag, np.zeros((7, 3)), [np.zeros((4, 3)), np.zeros((3, 3))])][:1] \
        == ["stretched"]


def test_product_complex_with_like_atoms_in_other_roles_is_the_same_products():
    """The carboxyl radical's H shift: the H may land on either O; both give the same product."""
    from sei_net.energy.geometry import starting_geometries
    from sei_net.energy.neb import product_complex_status
    from sei_net.learn.external_barriers import map_least_bond_changes

    shift = map_least_bond_changes([Species.from_smiles("[O]C(=O)OCC")], [Species.from_smiles("O=C(O)O[CH]C")])
    product, amap = shift.products[0], np.asarray(shift.atom_map)
    xyz = np.empty((product.n_atoms, 3))
    xyz[amap] = starting_geometries(product, n=1)[0]  # the product in reactant atom order
    assert product_complex_status(shift, xyz) == "ok"
    # the two O of the carbonyl carbon (reactant numbering) trade places: the H sits on the other O
    nb, el = product.neighbours(), product.elements
    carbon = next(i for i in range(product.n_atoms) if el[i] == "C" and sum(el[j] == "O" for j in nb[i]) == 3)
    o_a, o_b = [int(amap[j]) for j in nb[carbon]  # the C=O and C-OH oxygens
                if all(el[k] == "H" for k in nb[j] if k != carbon)]
    swapped = xyz.copy()
    swapped[[o_a, o_b]] = xyz[[o_b, o_a]]
    assert product_complex_status(shift, swapped) == "equivalent atoms"
    # the reactant's own geometry is not the products at all
    reactant_xyz = starting_geometries(shift.reactants[0], n=1)[0]
    assert product_complex_status(shift, reactant_xyz) == "rearranged"


def test_endpoint_screen_lists_the_shift_that_today_gets_another_product_end(tmp_path, load_example):
    """A concerted record set up from 'aligned products' (the records' code) is listed when today's
    guesses reach the products earlier; a record that already had 'pulled' is not screened."""
    import gzip
    import json

    from sei_net.energy.labels import LabelStore
    from sei_net.learn.barrier_data import reaction_to_dict
    from sei_net.learn.external_barriers import map_least_bond_changes

    screen = load_example("neb_endpoint_screen")
    shift = map_least_bond_changes([Species.from_smiles("[O]C(=O)OCC")], [Species.from_smiles("O=C(O)O[CH]C")])
    other = map_least_bond_changes([Species.from_smiles("CCCC[O]")], [Species.from_smiles("[CH2]CCCO")])
    oracle = GFN2Oracle(n_conformers=1)
    labels = tmp_path / "labels.db"
    with LabelStore(labels) as store:
        store.put(oracle.compute(s) for s in shift.reactants + shift.products)
    level = oracle.level_of_theory
    lines = [{"reaction": reaction_to_dict(shift), "status": "failed", "label_level": level,
              "data": {"product_endpoint": "aligned products"}},
             {"reaction": reaction_to_dict(other), "status": "ok", "label_level": level,
              "data": {"product_endpoint": "pulled"}}]
    source = tmp_path / "records.jsonl.gz"
    with gzip.open(source, "wt") as f:
        f.writelines(json.dumps(d) + "\n" for d in lines)
    keys = tmp_path / "keys.txt"
    crossed = screen.main([str(source), "--labels", str(labels), "--keys", str(keys)])
    (before, now), = crossed  # only the 'aligned products' record was screened
    assert before == "failed, aligned products" and crossed[(before, now)] == 1
    # the H lands on either carboxyl O: a guess the records' code lacked or did not accept
    assert now in ("pulled and pushed", "pulled (equivalent atoms)")
    assert keys.read_text().split() == [shift.key]
    assert not screen.is_new_end("none: CalculationFailed", "aligned products")
    assert not screen.is_new_end("aligned products", "aligned products")
