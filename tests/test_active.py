"""Active learning: what gets picked, and one real round with the GFN2 oracle."""

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")

from sei_net.cli import app  # noqa: E402
from sei_net.energy.labels import LabelStore  # noqa: E402
from sei_net.learn.active import path_relevance, select_for_labelling  # noqa: E402

runner = CliRunner()
REFERENCE_LABELS = Path(__file__).parents[1] / "data" / "labels" / "gfn2_reference_species.jsonl.gz"


def tiny_network(folder: Path) -> Path:
    """EC and Li+, one generation: a network of a few species, built in FOLDER."""
    recipe = folder / "tiny.yaml"
    recipe.write_text("name: tiny\nspecies: [{smiles: 'O=C1OCCO1', concentration: 14.0},\n"
                      "  {smiles: '[Li+]', concentration: 1.0}]\nlimits: {max_generations: 1}\n")
    net = folder / "tiny.db"
    assert runner.invoke(app, ["build", str(recipe), "-o", str(net)]).exit_code == 0
    return net


def test_selection_takes_relevant_uncertain_candidates_first():
    sigma = np.array([0.9, 0.1, 0.5, 0.3, 0.8, np.nan, 0.7])
    relevant = np.array([0, 1, 1, 1, 0, 1, 0], dtype=bool)
    candidate = np.array([1, 1, 1, 0, 1, 1, 1], dtype=bool)
    assert select_for_labelling(sigma, relevant, candidate, 4).tolist() == [2, 1, 0, 4]
    assert select_for_labelling(sigma, relevant, candidate & False, 4).tolist() == []


def test_path_relevance_marks_the_best_path_to_ledc(shared_data, tmp_path):
    from sei_net.kinetics.query import PathQuery
    from sei_net.store import NetworkStore

    net = tmp_path / "mr.db"
    res = runner.invoke(app, ["import", "mrnet", str(shared_data / "mrnet" / "ronalds_MoleculeEntry.json"),
                              "--reactions", "-o", str(net)])
    assert res.exit_code == 0
    with NetworkStore.open(net, readonly=True) as store:
        q = PathQuery.prepare(store, electron_free_energy=-2.15)
        start = [q.species_id("EC"), q.species_id("Li+")]
        relevant = path_relevance(q, start, top=5)
        ledc_path = q.paths(start, q.species_id("LEDC"), 1)[0]
        on_path = {s for r, _ in ledc_path.steps for s, _ in q.graph.reactants(r) + q.graph.products(r)}
        assert all(relevant[s] for s in on_path)
        assert relevant.sum() < len(q.species)  # a selection, not everything


@pytest.mark.slow
def test_one_round_labels_the_picked_species_and_resumes(tmp_path):
    pytest.importorskip("tblite")
    net = tiny_network(tmp_path)
    labels = tmp_path / "labels.db"
    args = ["learn", str(net), "--labels", str(labels), "-o", str(tmp_path / "al"), "--rounds", "1",
            "--batch", "2", "--extra-labels", str(REFERENCE_LABELS), "--members", "2", "--epochs", "4",
            "--device", "cpu", "--conformers", "1", "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    curve = json.loads(res.stdout)["learning_curve"]
    assert [c["round"] for c in curve] == [0, 1] and curve[0]["picked"] == 2
    rounds = json.loads((tmp_path / "al" / "learning_curve.json").read_text())
    with LabelStore(labels) as cache:
        stored = {k for k, *_ in cache.conn.execute("SELECT key FROM labels")}
    assert set(rounds[0]["picked"]) == stored  # exactly the picked species went to the oracle
    assert not list((tmp_path / "al").glob("*.members"))  # member checkpoints go once a round's model is saved
    reference = {json.loads(line)["key"] for line in __import__("gzip").open(REFERENCE_LABELS, "rt")}
    assert not stored & reference  # never a species that already had a label
    again = runner.invoke(app, args)  # resumes: both rounds are in the curve, nothing is redone
    assert again.exit_code == 0 and json.loads(again.stdout)["learning_curve"] == curve


def test_labels_at_another_level_than_the_oracle_are_refused_before_any_work(tmp_path):
    net = tmp_path / "net.db"
    net.touch()  # never opened: the level check comes first
    res = runner.invoke(app, ["learn", str(net), "--labels", str(tmp_path / "labels.db"), "-o", str(tmp_path / "al"),
                              "--extra-labels", str(REFERENCE_LABELS)])   # committed: 1 conformer; oracle: 3
    assert res.exit_code == 2 and "--conformers 1" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "al").exists() and not (tmp_path / "labels.db").exists()


@pytest.fixture(scope="module")
def tiny_net_and_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("finetune")
    net = tiny_network(tmp)
    model = tmp / "base.pt"
    res = runner.invoke(app, ["train", str(REFERENCE_LABELS), "-o", str(model), "--network", str(net), "--members", "2",
                              "--epochs", "4", "--hidden", "16", "--layers", "2", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    return net, model


@pytest.mark.slow
def test_a_fine_tuning_round_starts_from_the_model_and_learns_the_picked_labels(tiny_net_and_model, tmp_path):
    pytest.importorskip("tblite")
    import torch

    from sei_net.learn.dataset import load_labels
    from sei_net.learn.ensemble import EnergyEnsemble

    net, model = tiny_net_and_model
    labels, out = tmp_path / "labels.db", tmp_path / "al"
    res = runner.invoke(app, ["learn", str(net), "--labels", str(labels), "-o", str(out), "--rounds", "1",
                              "--batch", "2", "--extra-labels", str(REFERENCE_LABELS), "--conformers", "1",
                              "--fine-tune", str(model), "--json"])
    assert res.exit_code == 0, res.output
    curve = json.loads(res.stdout)["learning_curve"]
    base, first, second = (EnergyEnsemble.load(p, device="cpu") for p in (model, out / "round_0.pt", out / "round_1.pt"))
    for a, b in zip(base.members, first.members):                   # round 0 is the model as it is
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    picked = set(json.loads((out / "learning_curve.json").read_text())[0]["picked"])
    with LabelStore(labels) as cache:
        assert {k for k, *_ in cache.conn.execute("SELECT key FROM labels")} == picked
    # round 1 learned what round 0 picked (each on the graph it relaxed to), and nothing the model knew
    adapted = set(second.card["adapted"]["keys"])
    assert adapted and adapted <= set(load_labels([labels, REFERENCE_LABELS], coordination="rekey").keys)
    assert not adapted & set(load_labels([REFERENCE_LABELS]).keys)
    assert curve[1]["labels"] == curve[0]["labels"] + len(second.card["adapted"]["keys"])
    assert any(not torch.equal(x, y) for x, y in zip(base.members[0].state_dict().values(),
                                                     second.members[0].state_dict().values()))


def test_fine_tuning_a_model_of_another_level_is_refused_before_any_work(tiny_net_and_model, tmp_path):
    net, model = tiny_net_and_model
    res = runner.invoke(app, ["learn", str(net), "--labels", str(tmp_path / "labels.db"), "-o", str(tmp_path / "al"),
                              "--fine-tune", str(model)])                  # the model: 1 conformer; the oracle: 3
    assert res.exit_code == 2 and "--conformers 1" in res.output and res.output.count("\n") == 1
    assert not (tmp_path / "al").exists() and not (tmp_path / "labels.db").exists()
