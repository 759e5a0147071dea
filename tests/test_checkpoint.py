"""Energy-ensemble training resumes from its finished members and never mixes in another run's."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import sei_net.learn.ensemble as ensemble_module  # noqa: E402
from sei_net.learn.card import card_markdown, failed_members  # noqa: E402
from sei_net.learn.checkpoint import MemberCheckpoints, remove_checkpoints  # noqa: E402
from sei_net.learn.dataset import load_labels, random_split  # noqa: E402
from sei_net.learn.ensemble import EnergyEnsemble  # noqa: E402
from sei_net.learn.train import TrainConfig  # noqa: E402

LABELS = Path(__file__).parents[1] / "data" / "labels" / "gfn2_reference_species.jsonl.gz"
CONFIG = TrainConfig(hidden=16, layers=2, epochs=6, batch_size=16)


@pytest.fixture(scope="module")
def parts():
    data = load_labels([LABELS])
    split = random_split(len(data), {"train": 0.8, "val": 0.2}, seed=0)
    return data, data.subset(split["train"]), data.subset(split["val"])


def _count_training(monkeypatch) -> list[int]:
    """Record the seed of every member that is actually trained."""
    trained, real = [], ensemble_module.train_member

    def counting(*args, **kwargs):
        trained.append(args[4])
        return real(*args, **kwargs)

    monkeypatch.setattr(ensemble_module, "train_member", counting)
    return trained


def test_a_killed_training_resumes_at_the_first_missing_member(parts, tmp_path, monkeypatch):
    data, train, val = parts
    torch.set_num_threads(1)
    folder = tmp_path / "ckpt"
    trained = _count_training(monkeypatch)
    first = EnergyEnsemble.train(train, val, 3, CONFIG, seed=5, device="cpu", checkpoint=folder)
    assert trained == [5, 6, 7]
    assert sorted(p.name for p in folder.glob("member_*.pt")) == ["member_0.pt", "member_1.pt", "member_2.pt"]
    # a run killed during member 2: members 0 and 1 are on disk, member 2 is not
    (folder / "member_2.pt").unlink()
    trained.clear()
    resumed = EnergyEnsemble.train(train, val, 3, CONFIG, seed=5, device="cpu", checkpoint=folder)
    assert trained == [7]
    a, b = first.predict(data.species).members, resumed.predict(data.species).members
    assert np.allclose(a[:, :2], b[:, :2], atol=1e-9)   # loaded, bit for bit what was trained
    assert resumed.card["members"][:2] == first.card["members"][:2]


def test_a_folder_of_another_run_is_refused_and_left_alone(parts, tmp_path):
    _, train, val = parts
    folder = tmp_path / "ckpt"
    EnergyEnsemble.train(train, val, 1, CONFIG, seed=0, device="cpu", checkpoint=folder)
    before = (folder / "member_0.pt").read_bytes()
    other = TrainConfig(hidden=16, layers=2, epochs=7, batch_size=16)
    with pytest.raises(ValueError, match="another training run"):
        EnergyEnsemble.train(train, val, 1, other, seed=0, device="cpu", checkpoint=folder)
    with pytest.raises(ValueError, match="another training run"):
        EnergyEnsemble.train(val, train, 1, CONFIG, seed=0, device="cpu", checkpoint=folder)
    assert (folder / "member_0.pt").read_bytes() == before
    stranger = tmp_path / "photos"
    stranger.mkdir()
    (stranger / "cat.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="not a sei_net checkpoint folder"):
        MemberCheckpoints(stranger, "abc")
    remove_checkpoints(folder)
    assert not folder.exists()


def test_a_member_that_failed_to_learn_is_trained_again_with_another_seed(parts, monkeypatch):
    """Member 1's first attempt early-stops at the validation MSE of a constant prediction (as a
    real member once did); it is retrained with seed + 1000, and the card keeps the failed attempt.
    The tiny members here run out of epochs far above that MSE: under-trained, not failed, kept."""
    _, train, val = parts
    trained, real = [], ensemble_module.train_member

    def first_attempt_of_seed_6_fails(*args, **kwargs):
        trained.append(args[4])
        model, history = real(*args, **kwargs)
        if trained.count(6) == 1 and args[4] == 6:
            history = [{**h, "val_mse": 0.96} for h in history[:-1]]  # stopped before the last epoch
        return model, history

    monkeypatch.setattr(ensemble_module, "train_member", first_attempt_of_seed_6_fails)
    ens = EnergyEnsemble.train(train, val, 3, CONFIG, seed=5, device="cpu")
    assert trained == [5, 6, 1006, 7]
    members = ens.card["members"]
    assert [m["seed"] for m in members] == [5, 1006, 7]
    [failure] = members[1]["failed_attempts"]
    assert failure["seed"] == 6 and failure["val_mse"] == 0.96
    assert "validation MSE 0.960" in failed_members(ens.card)[0]
    assert "failed_attempts" not in members[0] and members[1]["val_mse"] != 0.96
    assert members[0]["val_mse"] > ensemble_module.FAILED_MEMBER_VAL_MSE  # under-trained, not retried


def _broken(model, shift_eV: float, y_scale: float):
    """The model with every atom's readout raised by shift_eV: each training label missed by more."""
    with torch.no_grad():
        model.atom_readout[-1].bias += shift_eV / y_scale
    return model


def _stopped_early(history: list[dict]) -> list[dict]:
    return history[:-1]


def test_a_member_that_broke_on_training_labels_is_trained_again(parts, monkeypatch):
    """Member 1's first attempt early-stops with a good validation MSE but a state that misses its
    training labels by more than FAILED_MEMBER_TRAIN_MISS_EV (as a size-split member once missed
    PF6- by 125 eV): it is retrained with seed + 1000, and the card names the missed species."""
    _, train, val = parts
    trained, real = [], ensemble_module.train_member

    def first_attempt_of_seed_6_breaks(*args, **kwargs):
        trained.append(args[4])
        model, history = real(*args, **kwargs)
        if args[4] == 6:
            return _broken(model, 20.0, kwargs.get("y_scale", args[-1])), _stopped_early(history)
        return model, history

    monkeypatch.setattr(ensemble_module, "train_member", first_attempt_of_seed_6_breaks)
    ens = EnergyEnsemble.train(train, val, 2, CONFIG, seed=5, device="cpu")
    assert trained == [5, 6, 1006]
    members = ens.card["members"]
    [failure] = members[1]["failed_attempts"]
    assert failure["seed"] == 6 and failure["max_train_miss_eV"] > ensemble_module.FAILED_MEMBER_TRAIN_MISS_EV
    assert failure["max_train_miss_species"] in train.keys
    assert members[1]["seed"] == 1006 and members[1]["max_train_miss_eV"] < failure["max_train_miss_eV"]
    [line] = failed_members(ens.card)                  # what the card and sei-net train print
    assert line.startswith("Member 1: seed 6 failed") and failure["max_train_miss_species"] in line
    assert line.endswith("kept seed 1006.") and f"- {line}" in card_markdown(ens.card, "model")


def test_a_saved_member_that_fails_the_check_is_trained_again_on_resume(parts, tmp_path, monkeypatch):
    """A checkpointed member (say, saved before the check existed) that misses its training labels
    by more than FAILED_MEMBER_TRAIN_MISS_EV is not loaded but retrained with seed + 1000; the
    healthy one is loaded as it was."""
    data, train, val = parts
    torch.set_num_threads(1)
    folder = tmp_path / "ckpt"
    first = EnergyEnsemble.train(train, val, 2, CONFIG, seed=5, device="cpu", checkpoint=folder)
    saved = MemberCheckpoints(folder, (folder / "fingerprint.txt").read_text().strip())
    state, summary = saved.load(1)
    model = ensemble_module._member_from_state(state, CONFIG, "cpu")
    saved.save(1, _broken(model, 20.0, first.y_std), {**summary, "epochs": summary["epochs"] - 1})
    trained = _count_training(monkeypatch)
    resumed = EnergyEnsemble.train(train, val, 2, CONFIG, seed=5, device="cpu", checkpoint=folder)
    assert trained == [1006]
    a, b = first.predict(data.species).members, resumed.predict(data.species).members
    assert np.allclose(a[:, 0], b[:, 0], atol=1e-9)
    [failure] = resumed.card["members"][1]["failed_attempts"]
    assert failure["seed"] == 6 and failure["max_train_miss_eV"] > ensemble_module.FAILED_MEMBER_TRAIN_MISS_EV


def test_a_trained_models_members_put_back_into_a_checkpoint_are_loaded_not_retrained(tmp_path, monkeypatch):
    """scripts/members_to_checkpoint.py writes a model's members under the fingerprint of the run that
    trained them, so training with the same labels, split, settings and seed loads every one."""
    import importlib.util

    from sei_net.learn.dataset import start_graph_bounds
    from sei_net.learn.fit import fit_energy_surrogate, split_of_card

    spec = importlib.util.spec_from_file_location("members_to_checkpoint", Path(__file__).parents[1] / "scripts"
                                                  / "members_to_checkpoint.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    torch.set_num_threads(1)
    model, _ = fit_energy_surrogate([LABELS], n_members=2, config=CONFIG, seed=4, device="cpu")
    model.save(tmp_path / "m.pt")
    folder = tmp_path / "again.members"
    assert script.members_to_checkpoint(tmp_path / "m.pt", folder) == 2
    data, parts = split_of_card(model.card)
    train = data.subset(parts["train"])
    bounds = start_graph_bounds(data, train.keys)
    trained = _count_training(monkeypatch)
    again = EnergyEnsemble.train(train, data.subset(parts["val"]), 2, CONFIG, seed=4, device="cpu",
                                 checkpoint=folder, bounds=bounds)
    assert trained == []
    assert np.allclose(again.predict(data.species).members, model.predict(data.species).members, atol=1e-9)
    with pytest.raises(SystemExit, match="does not exist"):
        script.main([str(tmp_path / "missing.pt"), str(tmp_path / "x.members")])


def test_largest_miss_is_the_largest_error_and_one_sided_for_bounds(parts):
    """largest_miss against a direct forward pass of all graphs in one batch."""
    from sei_net.learn.batching import collate
    from sei_net.learn.features import featurise
    from sei_net.learn.model import EnergyNet
    from sei_net.learn.train import largest_miss

    data, _, _ = parts
    torch.manual_seed(0)
    model = EnergyNet(hidden=16, layers=2).eval()
    graphs = [featurise(s) for s in data.species]
    with torch.no_grad():
        mean = model(collate(graphs))[0].numpy().astype(float)
    y = np.linspace(-1.0, 1.0, len(graphs))
    miss, where = largest_miss(model, graphs, y, "cpu")
    assert where == int(np.argmax(np.abs(mean - y))) and miss == pytest.approx(np.abs(mean - y).max(), abs=1e-5)
    below = mean - 1.0                       # every prediction above its lower bound: no miss
    assert largest_miss(model, graphs, below, "cpu", lower_bounds=True)[0] == 0.0
    above = mean.copy()
    above[3] += 2.0                          # one bound 2 units above its prediction
    miss, where = largest_miss(model, graphs, above, "cpu", lower_bounds=True)
    assert where == 3 and miss == pytest.approx(2.0, abs=1e-4)
    assert largest_miss(model, [], np.array([]), "cpu") == (0.0, -1)


def test_members_trained_in_worker_processes_equal_those_trained_in_turn(parts, tmp_path):
    """workers=2 trains each member in its own one-thread process: same seeds and data order, so
    the same networks (to float rounding) as training them one after another, and both are
    checkpointed."""
    data, train, val = parts
    torch.set_num_threads(1)
    alone = EnergyEnsemble.train(train, val, 2, CONFIG, seed=3, device="cpu")
    folder = tmp_path / "ckpt"
    pooled = EnergyEnsemble.train(train, val, 2, CONFIG, seed=3, device="cpu", checkpoint=folder, workers=2)
    a, b = alone.predict(data.species).members, pooled.predict(data.species).members
    assert np.allclose(a, b, atol=1e-5)
    assert not np.allclose(a[:, 0], a[:, 1], atol=1e-3)          # two different members, not one twice
    assert [m["seed"] for m in pooled.card["members"]] == [3, 4]
    assert sorted(p.name for p in folder.glob("member_*.pt")) == ["member_0.pt", "member_1.pt"]
    with pytest.raises(ValueError, match="workers=0 is not valid"):
        EnergyEnsemble.train(train, val, 2, CONFIG, seed=3, device="cpu", workers=0)
