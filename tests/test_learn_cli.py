"""sei-net train and sei-net score end to end on the reference labels and the mrnet network."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")

from sei_net.cli import app  # noqa: E402
from sei_net.constants import ORACLE_MAX_HEAVY  # noqa: E402
from sei_net.learn.card import card_markdown  # noqa: E402
from sei_net.learn.domain import Domain, atom_environments  # noqa: E402
from sei_net.store import NetworkStore  # noqa: E402

runner = CliRunner()
LABELS = Path(__file__).parents[1] / "data" / "labels" / "gfn2_reference_species.jsonl.gz"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("learn")
    net = tmp / "mrnet.db"
    res = runner.invoke(app, ["import", "mrnet", str(shared_data / "mrnet" / "ronalds_MoleculeEntry.json"),
                              "--reactions", "-o", str(net)])
    assert res.exit_code == 0, res.output
    model = tmp / "m.pt"
    res = runner.invoke(app, ["train", str(LABELS), "-o", str(model), "--network", str(net), "--members", "2",
                              "--epochs", "4", "--hidden", "16", "--layers", "2", "--device", "cpu", "--json"])
    assert res.exit_code == 0, res.output
    return net, model, json.loads(res.stdout)


def test_train_reports_held_out_metrics(trained):
    _, model, report = trained
    assert model.exists()
    assert not model.with_suffix(".members").exists()   # member checkpoints go once the model is written
    sizes = report["sizes"]
    assert sum(sizes.values()) >= 50 and sizes["test"] >= 5
    species = report["test"]["species"]
    assert species["n"] == sizes["test"]
    assert species["mae"] > 0 and 0 <= species["coverage_95"] <= 1
    assert report["n_labelled_reactions"] > 0
    assert report["oracle"] == "gfn2"
    # by default coordination_changed labels train on the graph they relaxed to, none on their start graph
    counts = report["label_counts"]
    assert report["coordination"] == "rekey" and counts["rekey"]["coordination_changed"] > 0
    assert "coordination_changed" not in counts and counts["ok"] + counts.get("rekeyed", 0) == sum(sizes.values())


def test_the_card_rebuilds_the_split_the_model_was_tested_on(trained):
    from sei_net.learn.ensemble import EnergyEnsemble
    from sei_net.learn.fit import split_of_card

    _, model, report = trained
    card = EnergyEnsemble.load(model, device="cpu").card
    assert card["pin_atoms"] is True and card["oracle_max_heavy"] == ORACLE_MAX_HEAVY
    data, parts = split_of_card(card)
    assert {k: len(v) for k, v in parts.items()} == report["sizes"]
    assert not set(parts["test"]) & set(parts["train"])
    assert all(data.n_atoms[i] > 1 and data.n_heavy[i] > ORACLE_MAX_HEAVY for i in parts["test"])
    assert f"species of at most {ORACLE_MAX_HEAVY} heavy atoms" in card_markdown(card, "energy model")
    domain = Domain.of_card(card)                       # the atom environments of the training part
    assert domain is not None and not domain.outside([data.species[i] for i in parts["train"]]).any()
    assert domain.environments == {e for i in parts["train"] for e in atom_environments(data.species[i])}
    with pytest.raises(ValueError, match="label files changed"):
        split_of_card({**card, "sizes": {**card["sizes"], "test": card["sizes"]["test"] + 1}})


def test_no_pin_small_splits_as_models_before_the_rule(tmp_path):
    """--no-pin-small: small species may be held out again (the shipped model's recipe), and the
    card says so, so that its split is rebuilt the same way."""
    from sei_net.learn.ensemble import EnergyEnsemble
    from sei_net.learn.fit import split_of_card

    model = tmp_path / "m.pt"
    res = runner.invoke(app, ["train", str(LABELS), "-o", str(model), "--members", "1", "--epochs", "2",
                              "--hidden", "8", "--layers", "1", "--device", "cpu", "--no-pin-small", "--json"])
    assert res.exit_code == 0, res.output
    card = EnergyEnsemble.load(model, device="cpu").card
    assert card["oracle_max_heavy"] is None
    data, parts = split_of_card(card)
    assert {k: len(v) for k, v in parts.items()} == json.loads(res.stdout)["sizes"]
    held_out = np.concatenate([parts["val"], parts["cal"], parts["test"]])
    assert any(1 < data.n_atoms[i] and data.n_heavy[i] <= ORACLE_MAX_HEAVY for i in held_out)


def test_score_writes_every_species_with_uncertainty(trained):
    from sei_net.learn.ensemble import EnergyEnsemble
    from sei_net.learn.fit import split_of_card

    net, model, _ = trained
    data, parts = split_of_card(EnergyEnsemble.load(model, device="cpu").card)
    res = runner.invoke(app, ["score", str(net), "--model", str(model), "--device", "cpu", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["source"] == "gfn2-surrogate"
    novelty = out["novelty"]                                  # the card keeps the calibration threshold
    assert novelty["predicted"] == out["scored"] - out["oracle_labels_kept"] and novelty["calibration_fraction"] == 0.1
    with NetworkStore.open(net, readonly=True) as store:
        rows = store.energies("gfn2-surrogate")
        assert len(rows) == out["scored"] == store.info()["species"] - out["skipped_unknown_elements"]
        key_of = {sid: key for key, sid in store.species_ids.items()}
    domain = out["domain"]                    # species outside the model's domain are named, never trained ones
    flagged = [r for r in rows if "outside_domain" in r["data"]]
    assert domain["outside"] == len(flagged) and 0 < len(flagged) < domain["predicted"]
    trained_keys = {data.keys[i] for i in parts["train"]}
    assert not trained_keys & {key_of[r["species_id"]] for r in flagged}
    for r in flagged:
        assert r["data"]["origin"] == "surrogate" and r["data"]["outside_domain"]
    for r in rows:
        assert len(r["members"]) == 2 and np.isclose(r["G"], np.mean(r["members"]))
        parts = r["data"]["epistemic_var"] + r["data"]["aleatoric_var"]
        assert r["sigma"] > 0 and np.isclose(parts, r["sigma"] ** 2, rtol=1e-6)
        # the stored members carry the calibrated uncertainty that path probabilities read
        assert np.isclose(np.std(r["members"]), r["sigma"], rtol=1e-6)
    res = runner.invoke(app, ["paths", str(net), "--from", "EC", "--from", "Li+", "--to", "LEDC",
                              "--source", "gfn2-surrogate", "--json"])
    assert res.exit_code == 0, res.output


@pytest.fixture(scope="module")
def trained_with_maps(tmp_path_factory):
    """A tiny model on 400 EC/LiPF6 labels: enough calibration species for a species map."""
    import gzip

    tmp = tmp_path_factory.mktemp("maps")
    labels = tmp / "labels.jsonl.gz"
    with gzip.open(Path(__file__).parents[1] / "data" / "labels" / "gfn2_ec_lipf6.jsonl.gz", "rt") as f:
        lines = [next(f) for _ in range(400)]
    with gzip.open(labels, "wt") as f:
        f.writelines(lines)
    model = tmp / "m.pt"
    res = runner.invoke(app, ["train", str(labels), "-o", str(model), "--members", "2", "--epochs", "3",
                              "--hidden", "16", "--layers", "2", "--device", "cpu", "--json"])
    assert res.exit_code == 0, res.output
    return model, json.loads(res.stdout)


def test_recalibrate_repairs_broken_maps_reproduces_training_and_keeps_the_members(trained_with_maps, tmp_path):
    from sei_net.learn.ensemble import EnergyEnsemble

    model, report = trained_with_maps
    assert report["variance_blend"] is False and report["calibration_points"]["species"] >= 10
    broken = EnergyEnsemble.load(model, device="cpu")
    broken.calibration["species"].knots_f = broken.calibration["species"].knots_f * 100.0   # sigma x10
    broken.save(tmp_path / "broken.pt")
    fixed, blended = tmp_path / "fixed.pt", tmp_path / "blend.pt"
    res = runner.invoke(app, ["recalibrate", str(tmp_path / "broken.pt"), "-o", str(fixed), "--json"])
    assert res.exit_code == 0, res.output
    again = json.loads(res.stdout)
    for what, m in report["test"].items():                        # the same maps, the same figures
        assert again["test"][what] == pytest.approx(m)
    res = runner.invoke(app, ["recalibrate", str(fixed), "-o", str(blended), "--blend", "--json"])
    assert res.exit_code == 0, res.output
    original, by_sum, by_blend = (EnergyEnsemble.load(p, device="cpu") for p in (model, fixed, blended))
    for a, b in zip(original.members, by_blend.members):          # members untouched
        assert all(np.array_equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert by_sum.calibration["species"].blend is None and by_sum.card["variance_blend"] is False
    assert by_blend.calibration["species"].blend is not None and by_blend.card["variance_blend"] is True
    assert by_blend.card["recalibrated"] and "recalibrated" not in original.card
    assert by_blend.card["test_resampled"]["draws"] > 1 and by_blend.card["test_resampled"]["blend"] is True
    res = runner.invoke(app, ["recalibrate", str(model), "-o", str(fixed)])
    assert res.exit_code == 2 and "give --force" in res.output and res.output.count("\n") == 1


def test_bad_model_and_split_are_one_line_errors(trained, tmp_path):
    net, _, _ = trained
    res = runner.invoke(app, ["score", str(net), "--model", str(tmp_path / "none.pt")])
    assert res.exit_code == 2 and "does not exist" in res.output and res.output.count("\n") == 1
    res = runner.invoke(app, ["train", str(LABELS), "-o", str(tmp_path / "x.pt"), "--split", "bogus"])
    assert res.exit_code == 2 and "valid splits" in res.output
    res = runner.invoke(app, ["train", str(LABELS), "-o", str(tmp_path / "x.pt"), "--coordination", "move"])
    assert res.exit_code == 2 and "valid: keep, rekey, drop" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "x.pt").exists()


def test_score_keeps_oracle_labels_where_present(trained):
    from sei_net.learn.dataset import load_labels

    net, model, _ = trained
    res = runner.invoke(app, ["score", str(net), "--model", str(model), "--labels", str(LABELS), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    oracle = dict(zip(*(lambda d: (d.keys, d.G))(load_labels([LABELS]))))
    with NetworkStore.open(net, readonly=True) as store:
        species = store.all_species()
        rows = store.energies("gfn2-surrogate")
    kept = [r for r in rows if species[r["species_id"]].key in oracle]
    assert kept and out["oracle_labels_kept"] == len(kept)
    for r in kept:
        assert r["G"] == oracle[species[r["species_id"]].key] and r["sigma"] == 0.0
        assert np.all(r["members"] == r["G"]) and r["data"]["origin"] == "oracle"
    assert all(r["sigma"] > 0 for r in rows if species[r["species_id"]].key not in oracle)


def test_barrier_commands_name_their_bad_arguments(trained, tmp_path):
    net, _, _ = trained
    res = runner.invoke(app, ["neb", str(net), "--labels", str(tmp_path / "l.db"), "--shard", "2/2"])
    assert res.exit_code == 2 and "--shard" in res.output and res.output.count("\n") == 1
    res = runner.invoke(app, ["train-barriers", str(tmp_path / "none.jsonl.gz"), "-o", str(tmp_path / "b.pt"),
                              "--split", "scaffold"])
    assert res.exit_code == 2 and "valid splits" in res.output
    res = runner.invoke(app, ["train-barriers", str(tmp_path / "none.jsonl.gz"), "-o", str(tmp_path / "b.pt")])
    assert res.exit_code == 2 and "none.jsonl.gz" in res.output and res.output.count("\n") == 1
    fec = Path(__file__).parents[1] / "data" / "barriers" / "gfn2_neb_ec_fec_lipf6.jsonl.gz"
    res = runner.invoke(app, ["train-barriers", str(fec), "-o", str(tmp_path / "b.pt"), "--domain", "redox"])
    assert res.exit_code == 2 and "domain redox is not valid" in res.output and "fragmentation" in res.output
    assert res.output.count("\n") == 1 and not (tmp_path / "b.pt").exists()
    res = runner.invoke(app, ["train-barriers", str(fec), "-o", str(tmp_path / "b.pt"),
                              "--lowest-of", str(tmp_path / "no_repeat.jsonl.gz")])
    assert res.exit_code == 2 and "no_repeat.jsonl.gz" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "b.pt").exists()
    res = runner.invoke(app, ["score", str(net), "--barrier-model", str(tmp_path / "none.pt")])
    assert res.exit_code == 2 and "does not exist" in res.output
    for command in (["neb", str(net), "--labels", str(tmp_path / "l.db")], ["label", str(net)]):
        res = runner.invoke(app, command + ["--resume-from", str(tmp_path / "gone.jsonl.gz")])
        assert res.exit_code == 2 and "gone.jsonl.gz" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "l.db").exists()  # refused before any store was made


def test_neb_reads_the_caches_one_gfn2_level_and_asks_when_there_are_two(trained, tmp_path):
    from sei_net.energy.gfn2 import GFN2Oracle
    from sei_net.energy.labels import LabelStore
    from sei_net.energy.record import EnergyRecord

    net, _, _ = trained
    cache = tmp_path / "two_levels.db"
    with LabelStore(cache) as store:
        store.import_jsonl(LABELS)                      # the committed labels: one conformer
    res = runner.invoke(app, ["neb", str(net), "--labels", str(cache), "--limit", "0", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["label_level"] == GFN2Oracle(n_conformers=1).level_of_theory
    res = runner.invoke(app, ["label", str(net), "--labels", str(cache), "--limit", "0"])   # 3 conformers
    assert res.exit_code == 0 and "0 energies written" in res.stdout
    assert "note: the cache also holds" in res.stderr and "1 conformer" in res.stderr
    with LabelStore(cache) as store:
        three = "GFN2-xTB/GBE(eps=18.5,Still)//same; qRRHO; 3 conformers; T=298.15 K"
        store.put([EnergyRecord("[H]|0|2", three, "ok", E=-10.0, G=-10.0, temperature=298.15)])
    res = runner.invoke(app, ["neb", str(net), "--labels", str(cache), "--limit", "0"])
    assert res.exit_code == 2 and "--conformers" in res.output and res.output.count("\n") == 1
    res = runner.invoke(app, ["neb", str(net), "--labels", str(cache), "--limit", "0", "--conformers", "1"])
    assert res.exit_code == 0, res.output


def test_score_with_the_default_model_keeps_the_shipped_labels(trained, tmp_path):
    """The mrnet species the shipped GFN2 files label keep those values; a model of one's own (another
    level of theory, in general) does not take them, and --no-shipped-labels turns them off."""
    import shutil

    net = tmp_path / "net.db"
    kept = {}
    for flags in ([], ["--no-shipped-labels"], ["--model", str(trained[1])]):
        shutil.copy(trained[0], net)
        res = runner.invoke(app, ["score", str(net), "--device", "cpu", "--json", *flags])
        assert res.exit_code == 0, res.output
        kept[" ".join(flags[:1])] = json.loads(res.stdout)["oracle_labels_kept"]
    assert kept[""] > 0 and kept["--no-shipped-labels"] == 0 and kept["--model"] == 0


def test_score_leaves_species_without_an_oracle_minimum_unscored(trained, tmp_path):
    """A species whose structure rearranged from every starting geometry is not a minimum at the
    oracle's level: it gets no energy and its reactions no dG. A species the oracle failed on for
    another reason (SCF) is predicted, and a usable label in any file beats a no-minimum record."""
    import gzip
    import shutil

    from sei_net.kinetics.hypergraph import HyperGraph, species_energies
    from sei_net.learn.dataset import load_labels, oracle_verdicts

    net, model, _ = trained
    net_copy = tmp_path / "net.db"
    shutil.copy(net, net_copy)
    reference = load_labels([LABELS])
    known_ghosts = oracle_verdicts([LABELS], reference.level_of_theory)[1]
    with NetworkStore.open(net_copy, readonly=True) as store:
        species = store.all_species()
        reactions = [store.get_reaction(int(i), species) for i in store.reaction_table()["id"]]
    network_keys, not_new = {s.key for s in species.values()}, set(reference.keys) | known_ghosts
    unlabelled = [s.key for s in species.values() if s.key not in not_new and s.n_atoms > 2]
    labelled = next(k for k in reference.keys if k in network_keys)
    # the ghost: one a reduction makes and that decays on its own, so that composites go through it
    reduced = {s.key for r in reactions if r.electrons == 1 for s in r.products}
    decaying = {r.reactants[0].key for r in reactions if r.electrons == 0 and len(r.reactants) == 1}
    ghost = next(k for k in unlabelled if k in reduced & decaying)
    scf = next(k for k in unlabelled if k != ghost)

    def failed(key, outcomes, reason):
        return {"key": key, "level_of_theory": reference.level_of_theory, "status": "failed", "E": None,
                "G": None, "temperature": 298.15, "coords": None, "seconds": 0.1, "reason": reason,
                "data": {"conformers": outcomes}}

    rearranged = [{"status": "rearranged", "E": -100.0, "converged": True}] * 3
    verdicts = tmp_path / "verdicts.jsonl.gz"
    with gzip.open(verdicts, "wt") as fh:
        for rec in (failed(ghost, rearranged, "RuntimeError: rearranged during optimisation in all 3 conformers"),
                    failed(scf, [], "CalculationFailed: SCF not converged in 500 cycles"),
                    failed(labelled, rearranged, "RuntimeError: rearranged during optimisation in all 3 conformers")):
            fh.write(json.dumps(rec) + "\n")
    runs = [runner.invoke(app, ["score", str(net_copy), "--model", str(model), "--labels", str(LABELS), *more,
                                "--json"]) for more in ([], ["--labels", str(verdicts)])]
    assert all(res.exit_code == 0 for res in runs), runs[-1].output
    before, out = (json.loads(res.stdout) for res in runs)
    # the reference file has its own no-minimum records; the added file adds exactly one
    assert out["no_minimum_unscored"] == before["no_minimum_unscored"] + 1
    assert out["scored"] == before["scored"] - 1 and "no minimum" in out["level_of_theory"]
    with NetworkStore.open(net_copy, readonly=True) as store:
        by_key = {species[r["species_id"]].key: r for r in store.energies("gfn2-surrogate")}
        graph = HyperGraph.from_store(store)
        energies = species_energies(store, graph.n_species, "gfn2-surrogate")
    assert ghost not in by_key
    assert by_key[scf]["data"]["origin"] == "surrogate" and np.isfinite(by_key[scf]["G"])
    assert by_key[labelled]["data"]["origin"] == "oracle"
    ghost_id = next(i for i, s in species.items() if s.key == ghost)
    touching = np.flatnonzero(abs(graph.stoichiometry())[:, ghost_id].toarray().ravel() > 0)
    dG = graph.reaction_dG(energies.G, -1.4)
    assert len(touching) and np.all(np.isnan(dG[touching]))
    assert np.isfinite(dG).sum() > 0
    # electron transfers into a species without a minimum are joined with its decays
    # (generate.dissociative): the composites hold scored species only, so they stay in the kinetics
    from sei_net.generate.dissociative import RULE

    store_reactions = _reactions(net_copy)
    joined = np.array([r.rule == RULE for r in store_reactions])
    assert joined.sum() == out["dissociative_transfers"]["reactions"] >= before["dissociative_transfers"]["reactions"]
    assert np.all(np.isfinite(dG[joined])) and out["dissociative_transfers"]["added"] > 0
    # scoring again without the verdict removes the composites through that species only
    res = runner.invoke(app, ["score", str(net_copy), "--model", str(model), "--labels", str(LABELS), "--json"])
    again = json.loads(res.stdout)["dissociative_transfers"]
    assert again["reactions"] == before["dissociative_transfers"]["reactions"]
    assert again["removed"] == out["dissociative_transfers"]["added"]
    assert len(_reactions(net_copy)) == len(store_reactions) - again["removed"]


def _reactions(path):
    with NetworkStore.open(path, readonly=True) as store:
        return [store.get_reaction(int(i)) for i in store.reaction_table()["id"]]


def test_adapt_fine_tunes_on_new_species_and_refuses_known_ones(trained, tmp_path):
    import gzip

    from sei_net.learn.dataset import load_labels
    from sei_net.learn.ensemble import EnergyEnsemble

    _, model, report = trained
    new = tmp_path / "new.jsonl.gz"
    source = Path(__file__).parents[1] / "data" / "labels" / "gfn2_ec_lipf6_part9.jsonl.gz"
    with gzip.open(source, "rt") as f:
        lines = [line for line in f if '"status":"ok"' in line and "F" not in line.split('"')[3]
                 and "P" not in line.split('"')[3]][:30]
    with gzip.open(new, "wt") as f:
        f.writelines(lines)
    adapted = tmp_path / "adapted.pt"
    res = runner.invoke(app, ["adapt", str(model), str(new), "-o", str(adapted), "--epochs", "30", "--lr", "3e-3",
                              "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    labels = load_labels([new])
    assert len(out["adapted"]["keys"]) + out["adapted"]["left_out_known"] == len(labels) >= 20
    assert set(out["test"]) == set(report["test"])               # the own test part measured again
    before, after = (EnergyEnsemble.load(p, device="cpu") for p in (model, adapted))
    assert after.card["adapted"]["labels"] == [str(new)] and "adapted" not in before.card
    errors = {name: np.abs(m.predict(labels.species).mean - labels.G).mean() for name, m in
              (("before", before), ("after", after))}
    assert errors["after"] < 0.7 * errors["before"], errors
    # the domain grows by the environments of the species it was fine-tuned on, and by nothing else
    grown, old = Domain.of_card(after.card).environments, Domain.of_card(before.card).environments
    fresh = {e for k in out["adapted"]["keys"] for e in atom_environments(labels.species[labels.keys.index(k)])}
    assert grown == old | fresh and grown > old
    res = runner.invoke(app, ["adapt", str(model), str(LABELS), "-o", str(tmp_path / "again.pt")])
    assert res.exit_code == 2 and "already in the model's split" in res.output and res.output.count("\n") == 1
    res = runner.invoke(app, ["adapt", str(model), str(new), "-o", str(adapted)])
    assert res.exit_code == 2 and "give --force" in res.output and res.output.count("\n") == 1


def test_recalibrate_and_adapt_take_the_default_model_and_name_missing_networks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)            # the shipped card names out/labelling/... relative to the repository
    for args in (["recalibrate", "default", "-o", "x.pt"], ["adapt", "default", str(LABELS), "-o", "x.pt"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 2 and "make networks" in res.output and res.output.count("\n") == 1, res.output
    assert not (tmp_path / "x.pt").exists()


def test_the_domain_example_splits_the_unseen_species_into_inside_and_outside(trained, tmp_path, load_example):
    """examples/applicability_domain.py on the tiny model: the species rows with and without the
    species outside add up to the row over all of them."""
    import gzip

    _, model, _ = trained
    unseen = tmp_path / "unseen.jsonl.gz"
    with gzip.open(Path(__file__).parents[1] / "data" / "labels" / "gfn2_ec_lipf6_part9.jsonl.gz", "rt") as f:
        lines = [line for line in f if '"status":"ok"' in line][:60]
    with gzip.open(unseen, "wt") as f:
        f.writelines(lines)
    empty = tmp_path / "empty.db"         # species rows only: two members of a tiny model can cancel in a reaction
    NetworkStore.create(empty).close()
    example = load_example("applicability_domain")
    result = example.main([str(model), str(unseen), "--network", str(empty), "--out", str(tmp_path / "domain")])
    u = result["unseen_network"]
    n_out = u["outside"]
    assert 0 < n_out < u["n"] <= 60           # a model trained on 72 reference species meets new environments
    every, inside, outside = (u[k]["species"] for k in ("every species predicted", "outside at oracle labels",
                                                         "outside only"))
    assert inside["n"] == u["n"] - n_out and outside["n"] == n_out
    assert every["mae"] * every["n"] == pytest.approx(inside["mae"] * inside["n"] + outside["mae"] * outside["n"])
    assert (tmp_path / "domain.md").exists() and sum(n for _, n, _ in result["outside_environments"]) >= n_out
