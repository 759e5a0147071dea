"""Barrier surrogate: the physical form, the condensed graph of reaction, baselines and training."""

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sei_net.generate import build_network  # noqa: E402
from sei_net.learn.barrier_data import (barrier_target, load_barrier_dataset, reaction_from_dict,  # noqa: E402
                                        reaction_to_dict)
from sei_net.learn.barrier_ensemble import BARRIER_LOSSES, BarrierEnsemble, BarrierTrainConfig  # noqa: E402
from sei_net.learn.barrier_fit import barrier_split, fit_bep  # noqa: E402
from sei_net.learn.barrier_model import BarrierNet, clipped_marcus  # noqa: E402
from sei_net.learn.reaction_graph import condensed_graph, reaction_class  # noqa: E402


def test_clipped_marcus_never_below_max_zero_dg_and_obeys_detailed_balance():
    rng = np.random.default_rng(0)
    dG = torch.from_numpy(rng.uniform(-4, 4, 5000))
    lam = torch.from_numpy(rng.uniform(0.01, 5, 5000))
    fwd, rev = clipped_marcus(dG, lam), clipped_marcus(-dG, lam)
    assert torch.all(fwd >= torch.clamp(dG, min=0) - 1e-12)
    assert torch.allclose(fwd - rev, dG, atol=1e-12)  # same TS seen from both sides
    assert torch.allclose(clipped_marcus(torch.zeros(3, dtype=torch.float64), lam[:3]), lam[:3] / 4)
    # continuous with a continuous slope where the branches meet (dG = +-lambda)
    lam1 = torch.tensor(1.3, dtype=torch.float64)
    for edge, slope in ((1.3, 1.0), (-1.3, 0.0)):
        x = torch.tensor([edge - 1e-6, edge + 1e-6], dtype=torch.float64, requires_grad=True)
        y = clipped_marcus(x, lam1)
        assert abs(float((y[1] - y[0]).detach())) < 1e-5
        (g,) = torch.autograd.grad(y.sum(), x)
        assert torch.allclose(g, torch.tensor([slope, slope], dtype=torch.float64), atol=1e-5)


def test_condensed_graph_is_the_same_for_a_reaction_and_its_reverse(mapped_reactions):
    checked = 0
    for r in mapped_reactions[:200]:
        g, gr = condensed_graph(r), condensed_graph(r.reversed())
        assert np.array_equal(np.sort(g.atoms, axis=0), np.sort(gr.atoms, axis=0))
        assert np.array_equal(np.sort(g.bond_features, axis=0), np.sort(gr.bond_features, axis=0))
        assert np.array_equal(g.globals, gr.globals)
        assert g.centre.sum() == gr.centre.sum()
        if r.kind != "redox":
            assert g.centre.sum() >= 2  # a bond changes: its two atoms are the centre
        checked += 1
    assert checked >= 50


def test_barrier_network_gives_forward_minus_reverse_equal_to_dg(mapped_reactions):
    """Detailed balance of the model itself: one lambda for both directions."""
    torch.manual_seed(0)
    ens = BarrierEnsemble([BarrierNet(16, 2).eval(), BarrierNet(16, 2).eval()], "test")
    sample = mapped_reactions[:60]
    dG = np.random.default_rng(1).normal(0, 1, len(sample))
    fwd = ens.predict(sample, dG).members
    rev = ens.predict([r.reversed() for r in sample], -dG).members
    assert np.allclose(fwd - rev, dG[:, None], atol=1e-5)
    assert np.all(fwd >= np.maximum(dG, 0)[:, None] - 1e-6)


def test_reaction_round_trips_through_its_dict(mapped_reactions):
    for r in mapped_reactions[:30]:
        back = reaction_from_dict(reaction_to_dict(r))
        assert back.key == r.key and np.array_equal(back.atom_map, r.atom_map)


def test_barrier_targets_never_fall_below_the_reaction_free_energy():
    assert barrier_target("ok", 0.5, 0.3) == 0.5  # TS below the separated products
    assert barrier_target("ok", -0.5, 0.3) == 0.3
    assert barrier_target("barrierless", -0.4, None) == 0.0
    assert barrier_target("barrierless", 0.7, None) == 0.7
    with pytest.raises(ValueError, match="usable"):
        barrier_target("failed", 0.1, None)


def test_bep_fit_recovers_known_parameters():
    rng = np.random.default_rng(3)
    dG = rng.uniform(-2, 2, 400)
    classes = np.where(np.arange(400) % 2 == 0, "concerted", "ring")
    truth = {"concerted": (0.8, 0.35), "ring": (0.25, 0.6)}
    y = np.array([max(0.0, d, truth[c][0] + truth[c][1] * d) for d, c in zip(dG, classes)])
    fitted = fit_bep(classes, dG, y + rng.normal(0, 0.01, 400))
    for c, (e0, a) in truth.items():
        assert abs(fitted[c][0] - e0) <= 0.02 and abs(fitted[c][1] - a) <= 0.05


def test_hard_split_tests_on_the_largest_reactants():
    n_heavy = np.random.default_rng(0).integers(3, 13, 200)
    parts = barrier_split("hard", n_heavy)
    assert n_heavy[parts["test"]].min() >= n_heavy[parts["train"]].max()  # no smaller test reactant
    assert sorted(np.concatenate(list(parts.values()))) == list(range(200))
    with pytest.raises(ValueError, match="valid splits"):
        barrier_split("scaffold", n_heavy)


def _class_barriers(class_barriers, rng):
    """The synthetic class-lambda labels (conftest ``class_barriers``) with CGRs for the reactions."""
    sample, *rest = class_barriers(rng)
    return ([condensed_graph(r) for r in sample], *rest)


def test_tiny_barrier_ensemble_learns_class_dependent_intrinsic_barriers(class_barriers):
    """Synthetic labels from a known lambda per class: the ensemble must beat the best single
    lambda (what a model blind to the reaction would learn), on reactions it never saw."""
    graphs, dG, y, test, val, train = _class_barriers(class_barriers, np.random.default_rng(0))
    ens = BarrierEnsemble.train(graphs, dG, y, train, val, "synthetic", n_members=2,
                                config=BarrierTrainConfig(hidden=16, layers=2, epochs=60, patience=60, lr=5e-3), device="cpu")
    pred = ens.predict_graphs([graphs[i] for i in test], dG[test]).mean
    best_constant = min(np.abs(clipped_marcus(torch.from_numpy(dG[test]), torch.tensor(c)).numpy() - y[test]).mean()
                        for c in np.linspace(0.05, 6, 120))
    assert np.abs(pred - y[test]).mean() < 0.5 * best_constant


def test_anchored_member_starts_from_the_per_class_marcus_fit_and_keeps_detailed_balance(class_barriers,
                                                                                         tmp_path):
    """Labels from a known lambda per class: the per-class fit recovers each lambda, and an
    anchored member before any training step predicts exactly those barriers."""
    from sei_net.learn.barrier_ensemble import train_barrier_member
    from sei_net.learn.barrier_model import CLASS_COLUMNS, fit_class_lambdas
    from sei_net.learn.reaction_graph import REACTION_CLASSES

    graphs, dG, y, test, val, train = _class_barriers(class_barriers, np.random.default_rng(2))
    onehot = torch.from_numpy(np.stack([g.globals[CLASS_COLUMNS] for g in graphs]))
    lam = fit_class_lambdas(onehot[train], torch.from_numpy(dG[train]), torch.from_numpy(y[train]))
    for cls, true in {"ring": 1.2, "concerted": 4.0, "fragmentation": 0.3}.items():
        assert float(lam[REACTION_CLASSES.index(cls)]) == pytest.approx(true, abs=0.011)
    untrained = BarrierTrainConfig(hidden=16, layers=2, epochs=0, anchored=True)
    model, _ = train_barrier_member(graphs, dG, y, train, val, 0, untrained)
    ens = BarrierEnsemble([model.eval()], "synthetic")
    pred = ens.predict_graphs([graphs[i] for i in test], dG[test]).mean
    assert np.allclose(pred, y[test], atol=0.02)  # the baseline, up to the fit's 0.01 eV grid
    fwd = ens.predict_graphs([graphs[i] for i in test], dG[test]).members
    rev = ens.predict_graphs([graphs[i] for i in test], -dG[test]).members  # same CGR for the reverse
    assert np.allclose(fwd - rev, dG[test][:, None], atol=1e-5)
    ens.save(tmp_path / "anchored.pt")  # the class lambdas travel with the model file
    loaded = BarrierEnsemble.load(tmp_path / "anchored.pt", device="cpu")
    assert np.allclose(loaded.predict_graphs([graphs[i] for i in test], dG[test]).mean, pred)


def test_absolute_loss_shrugs_off_outlying_labels_that_pull_the_squared_loss(class_barriers):
    """A tenth of the training labels 3 eV too high (a failed NEB that looked converged): the
    absolute-error members stay near the clean labels on held-out reactions, the squared-error
    members are pulled up; both see the same data, seeds and epochs."""
    rng = np.random.default_rng(1)
    graphs, dG, clean, test, val, train = _class_barriers(class_barriers, rng)
    noisy = clean.copy()
    noisy[rng.choice(np.concatenate([train, val]), 19, replace=False)] += 3.0
    bias = {}
    for loss in BARRIER_LOSSES:
        config = BarrierTrainConfig(hidden=16, layers=2, epochs=60, patience=60, lr=5e-3, loss=loss)
        ens = BarrierEnsemble.train(graphs, dG, noisy, train, val, "synthetic", n_members=2, config=config,
                                    device="cpu")
        bias[loss] = np.median(ens.predict_graphs([graphs[i] for i in test], dG[test]).mean - clean[test])
    assert abs(bias["absolute"]) < 0.1 and bias["squared"] > bias["absolute"] + 0.1, bias
    with pytest.raises(ValueError, match="valid losses"):
        BarrierTrainConfig(loss="huber")


def test_missing_barrier_dataset_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.jsonl.gz"):
        load_barrier_dataset([tmp_path / "nothere.jsonl.gz"])


def _bond_changes(reaction) -> int:
    """Bonds made or broken under the reaction's atom map."""
    amap = np.asarray(reaction.atom_map)
    before, offset = set(), 0
    for sp in reaction.reactants:
        before |= {(min(i, j) + offset, max(i, j) + offset) for i, j, _ in sp.bonds}
        offset += sp.n_atoms
    after, offset = set(), 0
    for sp in reaction.products:
        after |= {tuple(sorted((int(amap[i + offset]), int(amap[j + offset])))) for i, j, _ in sp.bonds}
        offset += sp.n_atoms
    return len(before ^ after)


def test_least_bond_change_mapper_is_never_worse_than_the_generator(mapped_reactions):
    """The generator's operators know which bonds they changed; the mapper, given only the two
    sides, must find a map with no more bond changes."""
    from sei_net.learn.external_barriers import map_least_bond_changes

    sample = [r for r in mapped_reactions if r.kind != "redox"][:60]
    for r in sample:
        mapped = map_least_bond_changes(list(r.reactants), list(r.products))
        assert mapped is not None and mapped.key == r.key
        assert _bond_changes(mapped) <= _bond_changes(r)


def test_external_dft_transition_states_are_mapped_with_consistent_charges(shared_data):
    from sei_net.learn.external_barriers import load_external_barriers

    xs = load_external_barriers(shared_data / "rnmc_sei" / "20211130_ts.json",
                                shared_data / "rnmc_sei" / "20211130_mol_entries.json")
    assert len(xs) == 29
    mapped = [x for x in xs if x.reaction is not None]
    assert len(mapped) >= 15
    for x in mapped:
        assert sum(s.charge for s in x.reaction.reactants) == sum(s.charge for s in x.reaction.products)
        assert 1 <= _bond_changes(x.reaction) <= 6
    assert all(x.reason for x in xs if x.reaction is None)


def test_numpy_and_torch_clipped_marcus_agree():
    from sei_net.kinetics.rates import clipped_marcus_barrier

    rng = np.random.default_rng(5)
    dG, lam = rng.uniform(-3, 3, 1000), rng.uniform(0.01, 4, 1000)
    assert np.allclose(clipped_marcus_barrier(dG, lam),
                       clipped_marcus(torch.from_numpy(dG), torch.from_numpy(lam)).numpy(), atol=1e-12)


@pytest.mark.parametrize("architecture", ["cgr", "species_embedding"])
def test_learned_barriers_flow_into_rates_with_detailed_balance(architecture, tmp_path):
    """A saved and reloaded barrier ensemble of either architecture scores a network; the path
    query then uses its barriers for non-redox steps, and every forward/reverse pair differs by
    exactly dG."""
    from sei_net.kinetics.query import PathQuery
    from sei_net.learn.barrier_embedding import EmbeddingBarrierNet
    from sei_net.learn.score import load_barrier_model, score_barriers
    from sei_net.store import NetworkStore

    torch.manual_seed(0)
    net_class = EmbeddingBarrierNet if architecture == "species_embedding" else BarrierNet
    BarrierEnsemble([net_class(16, 2).eval() for _ in range(3)], "test").save(tmp_path / "b.pt")
    assert load_barrier_model(tmp_path / "b.pt", "cpu").architecture == architecture
    with build_network("ec_lipf6", tmp_path / "ec.db", max_generations=2) as net:
        store = net.store
        energies = [{"species_id": sid, "source": "test", "level_of_theory": "random", "G": g}
                    for sid, g in zip(net.species(), np.random.default_rng(2).normal(-50, 3, len(net.species())))]
        store.set_energies(energies)
        result = score_barriers(store, load_barrier_model(tmp_path / "b.pt", "cpu"))
        assert result["reactions"] > 100
        q = PathQuery.prepare(store, source="test")
    g = q.graph
    learned = np.isfinite(q.rate_model.intrinsic[:, 0])
    assert learned.sum() == result["reactions"] and not learned[g.electrons != 0].any()
    bimolecular_both_sides = (np.diff(g.r_ptr) > 1) & (np.diff(g.p_ptr) > 1)
    assert bimolecular_both_sides.any() and not learned[bimolecular_both_sides].any()  # outside the NEB domain
    with NetworkStore.open(tmp_path / "ec.db", readonly=True) as store:
        species = store.all_species()
        reactions = [store.get_reaction(int(rid), species) for rid in g.reaction_id]
    index = {r.key: i for i, r in enumerate(reactions)}
    pairs = 0
    for i, r in enumerate(reactions):
        rev = index.get(r.reversed().key)
        if not learned[i] or rev is None:
            continue
        assert q.scores.barrier[i] - q.scores.barrier[rev] == pytest.approx(q.scores.dG[i], abs=1e-6)
        assert q.scores.barrier[i] >= max(0.0, q.scores.dG[i]) - 1e-9
        pairs += 1
    assert pairs > 50
    assert "learned intrinsic barriers" in q.rate_model.describe()


def test_a_barrier_model_speaks_only_for_its_domain_classes(tmp_path):
    from sei_net.constants import BARRIER_SOURCE
    from sei_net.learn.score import load_barrier_model, score_barriers

    torch.manual_seed(0)
    counts = {}
    for name, card in (("all", {}), ("fragmentation", {"trained_classes": ["concerted", "fragmentation", "ring"],
                                                        "domain_classes": ["fragmentation"]})):
        BarrierEnsemble([BarrierNet(16, 2).eval() for _ in range(2)], "test", card=card).save(tmp_path / f"{name}.pt")
        with build_network("ec_lipf6", tmp_path / f"{name}.db", max_generations=2) as net:
            store = net.store
            counts[name] = score_barriers(store, load_barrier_model(tmp_path / f"{name}.pt", "cpu"))["reactions"]
            species = store.all_species()
            kinds = {reaction_class(store.get_reaction(rid, species).kind) for rid in store.barriers(BARRIER_SOURCE)}
        if name == "fragmentation":
            assert kinds == {"fragmentation"}
        else:
            assert {"fragmentation", "ring"} <= kinds
    assert 0 < counts["fragmentation"] < counts["all"]


def test_shipped_barrier_card_matches_the_committed_labels():
    # the card states what the model was trained on (files and repeats): they must still give that many labels,
    # and the model must speak only for the class the docs say (fragmentation)
    from pathlib import Path

    from sei_net.learn.barrier_data import load_barrier_dataset
    from sei_net.learn.score import load_barrier_model

    model = load_barrier_model("default", "cpu")
    root = Path(__file__).resolve().parents[1]
    files = [root / f for f in model.card["datasets"]]
    assert files and all(f.exists() for f in files)
    repeats = [root / f for f in model.card.get("repeats", [])]
    assert all(f.exists() for f in repeats)
    examples = load_barrier_dataset(files, lowest_of=repeats)
    assert len(examples) == model.card["report"]["n_examples"]
    assert {e.status for e in examples} == set(model.card["report"]["statuses"])
    assert model.domain_classes == ["fragmentation"]


def test_the_unseen_barrier_test_leaves_out_training_reactions_in_either_direction(tmp_path, load_example):
    import gzip
    import json

    from sei_net.learn.barrier_data import reaction_to_dict
    from sei_net.learn.score import load_barrier_model

    unseen = load_example("barrier_unseen")
    usable = [r for r in _part4_records() if r["status"] in ("ok", "barrierless")]
    assert len(usable) >= 8
    train, rest = usable[:4], usable[4:]
    flipped = dict(train[0], dG=-train[0]["dG"], status="barrierless", dG_act=None,
                   reaction=reaction_to_dict(reaction_from_dict(train[0]["reaction"]).reversed()))
    for name, records in (("train", train), ("test", [train[1], flipped, *rest])):
        with gzip.open(tmp_path / f"{name}.jsonl.gz", "wt") as f:
            f.writelines(json.dumps(r) + "\n" for r in records)
    with gzip.open(tmp_path / "repeat.jsonl.gz", "wt") as f:   # a repeat labels a reaction of the test file
        f.write(json.dumps(rest[0]) + "\n")
    kept = unseen.unseen_examples([str(tmp_path / "test.jsonl.gz")], [str(tmp_path / "train.jsonl.gz")])
    rest_keys = {reaction_from_dict(r["reaction"]).key for r in rest}
    assert {e.reaction.key for e in kept} == rest_keys          # the same reaction and its reverse left out
    kept_after_repeat = unseen.unseen_examples([str(tmp_path / "test.jsonl.gz")], [str(tmp_path / "train.jsonl.gz")],
                                               [str(tmp_path / "repeat.jsonl.gz")])
    assert {e.reaction.key for e in kept_after_repeat} == rest_keys - {reaction_from_dict(rest[0]["reaction"]).key}
    one, other = (SimpleNamespace(card={"datasets": [str(tmp_path / f"{n}.jsonl.gz")]}) for n in ("train", "repeat"))
    by_both = unseen.unseen_by([one, other], load_barrier_dataset([tmp_path / "test.jsonl.gz"]))
    assert {e.reaction.key for e in by_both} == {e.reaction.key for e in kept_after_repeat}   # unseen by either
    groups = unseen.compare(load_barrier_model("default", "cpu"), kept)
    assert groups["all"]["n"] == len(rest)
    assert sum(groups.get(g, {"n": 0})["n"] for g in ("transition states", "barrierless")) == len(rest)


def test_a_barrier_models_test_part_is_reproduced_from_its_card(load_example):
    from sei_net.learn.score import load_barrier_model

    unseen = load_example("barrier_unseen")
    model = load_barrier_model("default", "cpu")
    held_out = unseen.test_part(model)
    assert len(held_out) == model.card["report"]["sizes"]["test"]
    result = unseen.main(["--test-part"])           # the shipped model on its own test part
    assert result["n"] == len(held_out)
    assert result["groups"]["default"]["all"]["model"] == pytest.approx(model.card["report"]["test"]["model"]["mae"],
                                                                        abs=1e-6)
    same = unseen.paired_comparison(model, model, held_out[:40])      # a model against itself: no difference
    assert same["all"]["n"] == 40 and same["external DFT transition states"]["n"] == model.card["report"]["external"]["n"]
    assert all(r["difference"] == r["low"] == r["high"] == 0.0 for r in same.values())


def test_paired_difference_finds_a_constant_shift_and_brackets_a_noisy_one(load_example):
    unseen = load_example("barrier_unseen")
    base = np.random.default_rng(1).exponential(0.1, 200)
    shifted = unseen.paired_difference(base + 0.05, base)
    assert shifted["difference"] == pytest.approx(0.05) and shifted["low"] == pytest.approx(0.05)
    noisy = unseen.paired_difference(base + np.random.default_rng(2).normal(0.02, 0.05, 200), base)
    assert noisy["low"] < noisy["difference"] < noisy["high"]
    assert noisy["low"] > 0.0 > unseen.paired_difference(base, base + 0.02)["high"]   # resolved either way round


def _part4_records():
    from pathlib import Path

    from sei_net.learn.barrier_data import dataset_lines

    return list(dataset_lines(Path(__file__).parents[1] / "data" / "barriers" /
                              "gfn2_neb_ec_dmc_lipf6_gen4_part4.jsonl.gz"))


def test_neb_repeat_counts_status_changes_and_measures_the_target_disagreement(tmp_path, load_example):
    import gzip
    import json

    repeat_mod = load_example("neb_repeat")
    records = _part4_records()
    # transition states whose barrier sits clear of max(dG, 0): a shifted dG_act shifts the target by as much
    clear = [r for r in records if r["status"] == "ok" and r["dG_act"] > max(r["dG"], 0.0) + 0.05]
    failed = [r for r in records if r["status"] == "failed"]
    assert len(clear) >= 3 and failed
    a, b, c, d = clear[0], clear[1], clear[2], failed[0]
    reference = [a, b, c, d]
    extra = next(r for r in records if r["reaction_key"] not in {x["reaction_key"] for x in reference})
    pulled = dict(a.get("data") or {}, product_endpoint="pulled")
    repeat = [dict(a, dG_act=a["dG_act"] + 0.3, data=pulled), dict(b, dG=b["dG"] + 0.05, dG_act=b["dG_act"] + 0.05),
              dict(c, status="failed", dG_act=None),
              dict(d, status="barrierless", dG_act=None), extra]     # extra: only in the repeat
    for name, rows in (("ref", reference), ("rep", repeat)):
        with gzip.open(tmp_path / f"{name}.jsonl.gz", "wt") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    result = repeat_mod.main([str(tmp_path / "rep.jsonl.gz"), str(tmp_path / "ref.jsonl.gz"),
                              "--out", str(tmp_path / "out")])
    assert result["shared"] == 4
    assert result["status_cross"] == {"ok -> ok": 2, "ok -> failed": 1, "failed -> barrierless": 1}
    both = result["disagreement"]["both ok"]
    assert both["n"] == 2
    assert both["mae"] == pytest.approx(0.175) and both["mean_signed"] == pytest.approx(0.175)
    assert both["within_0.1"] == 0.5
    moved = result["disagreement"][f"dG moved by more than {repeat_mod.DG_MOVED} eV"]   # b's endpoint relabelled
    assert moved["n"] == 1 and moved["mae"] == pytest.approx(0.05)
    switched = result["disagreement"]["ends direct -> reactive"]                  # a's repeat pulled its product
    assert switched["n"] == 1 and switched["mae"] == pytest.approx(0.3)
    assert result["disagreement"]["all"]["n"] == 2            # the failed one in either run is left out
    assert json.loads((tmp_path / "out.json").read_text())["shared"] == 4

    with gzip.open(tmp_path / "other.jsonl.gz", "wt") as f:
        f.write(json.dumps(extra) + "\n")
    with pytest.raises(SystemExit, match="share no reaction"):
        repeat_mod.main([str(tmp_path / "other.jsonl.gz"), str(tmp_path / "ref.jsonl.gz")])


def test_barrier_subnetwork_holds_exactly_the_chosen_reactions_with_their_atom_maps(tmp_path, load_example):
    import gzip
    import json

    import numpy as np

    from sei_net.store.db import NetworkStore

    sub = load_example("barrier_subnetwork")
    records = _part4_records()
    source = tmp_path / "part.jsonl.gz"
    with gzip.open(source, "wt") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    chosen = {reaction_from_dict(r["reaction"]).key: r for r in records if r["status"] == "ok"}
    out = tmp_path / "sub.db"
    assert sub.main([str(source), "--status", "ok", "-o", str(out)]) == len(chosen)
    with NetworkStore.open(out, readonly=True) as net:
        species = net.all_species()
        rebuilt = [net.get_reaction(i, species) for i in net.reaction_table()["id"]]
    assert {r.key for r in rebuilt} == set(chosen)
    for r in rebuilt:
        assert np.array_equal(r.atom_map, chosen[r.key]["reaction"]["atom_map"])
    with pytest.raises(SystemExit, match="exists"):
        sub.main([str(source), "-o", str(out)])
    picked = sorted(chosen)[:2]
    (tmp_path / "keys.txt").write_text("\n".join(picked) + "\n")
    assert sub.main([str(source), "--keys", str(tmp_path / "keys.txt"), "-o", str(tmp_path / "two.db")]) == 2
    with NetworkStore.open(tmp_path / "two.db", readonly=True) as net:
        species = net.all_species()
        assert {net.get_reaction(i, species).key for i in net.reaction_table()["id"]} == set(picked)
    with pytest.raises(SystemExit, match="no reaction of kind"):
        sub.main([str(source), "--kind", "ring_opening", "-o", str(tmp_path / "none.db")])


def test_lowest_of_keeps_the_lower_saddle_adds_recovered_reactions_and_refuses_other_endpoints(tmp_path):
    import gzip
    import json

    records = _part4_records()
    clear = [r for r in records if r["status"] == "ok" and r["dG_act"] > max(r["dG"], 0.0) + 0.2]
    failed = [r for r in records if r["status"] == "failed"]
    assert len(clear) >= 2 and failed
    a, b, f = clear[0], clear[1], failed[0]
    lower_a = dict(a, dG_act=a["dG_act"] - 0.1, n_images=11)
    higher_b = dict(b, dG_act=b["dG_act"] + 0.5, n_images=11)
    recovered = dict(f, status="barrierless", dG_act=None, n_images=11)
    for name, rows in (("main", [a, b, f]), ("repeat", [lower_a, higher_b, recovered]),
                       ("other", [dict(a, dG_act=0.0, label_level="3 conformers")])):
        with gzip.open(tmp_path / f"{name}.jsonl.gz", "wt") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rows)
    plain = {e.record["reaction_key"]: e for e in load_barrier_dataset([tmp_path / "main.jsonl.gz"])}
    both = {e.record["reaction_key"]: e for e in load_barrier_dataset([tmp_path / "main.jsonl.gz"],
                                                                      lowest_of=[tmp_path / "repeat.jsonl.gz"])}
    assert set(plain) == {a["reaction_key"], b["reaction_key"]}
    assert both[a["reaction_key"]].target == pytest.approx(plain[a["reaction_key"]].target - 0.1)
    assert both[a["reaction_key"]].record["n_images"] == 11                     # the lower saddle's record
    assert both[b["reaction_key"]].target == plain[b["reaction_key"]].target    # the higher repeat is not taken
    assert both[f["reaction_key"]].target == pytest.approx(max(f["dG"], 0.0))   # failed at first, usable in the repeat
    with pytest.raises(ValueError, match="same endpoint labels"):
        load_barrier_dataset([tmp_path / "main.jsonl.gz"], lowest_of=[tmp_path / "other.jsonl.gz"])


def test_cyclic_transition_state_size_of_shifts_is_counted_by_hand(load_example):
    from sei_net import Species
    from sei_net.chem.reaction import Reaction

    ts_ring = load_example("concerted_ts_ring")
    methoxy = Reaction([Species.from_smiles("C[O]")], [Species.from_smiles("[CH2]O")], kind="concerted",
                       atom_map=list(range(5)))                  # H4 goes from C0 to O1: a 1,2-shift
    propoxy = Reaction([Species.from_smiles("CCC[O]")], [Species.from_smiles("[CH2]CCO")], kind="concerted",
                       atom_map=list(range(11)))                 # H6 goes from C0 to O1 over C2, C3: a 1,4-shift
    assert ts_ring.shift_descriptor(methoxy) == (3, "H")        # ring C0-O1-H4
    assert ts_ring.shift_descriptor(propoxy) == (5, "H")        # ring C0-C2-C3-O1-H6
    assert ts_ring.shift_descriptor(propoxy.reversed()) == (5, "H")
    chain = [(0, 1), (1, 2), (2, 3)]
    assert ts_ring.smallest_cycle_through(chain, [(1, 2)]) is None             # a tree: a bond breaks, no ring
    square_with_tail = [(0, 1), (1, 2), (2, 3), (0, 3), (3, 4)]
    assert ts_ring.smallest_cycle_through(square_with_tail, [(3, 4), (0, 1)]) == 4
