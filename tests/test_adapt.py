"""Fine-tuning an energy ensemble on new labels (``sei_net.learn.adapt``)."""

import numpy as np
import pytest
import torch

from sei_net.learn.adapt import AdaptConfig, fine_tune
from sei_net.learn.dataset import load_labels, random_split
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.features import featurise
from sei_net.learn.train import TrainConfig
from tests.test_learn_cli import LABELS


@pytest.fixture(scope="module")
def old_and_new():
    """A tiny ensemble trained on part of the reference species, and species it never saw (of
    elements it knows): labels to adapt to."""
    data = load_labels([LABELS])
    parts = random_split(len(data), {"train": 0.6, "val": 0.1, "new": 0.3}, seed=0)
    torch.set_num_threads(1)
    ens = EnergyEnsemble.train(data.subset(parts["train"]), data.subset(parts["val"]), n_members=2,
                               config=TrainConfig(hidden=16, layers=2, epochs=40, batch_size=16, lr=3e-3,
                                                  warmup_fraction=0.5), device="cpu")
    new = data.subset(parts["new"])
    known = ens.baseline.knows(np.stack([featurise(s).composition for s in new.species]))
    return ens, data.subset(parts["train"]), new.subset(np.flatnonzero(known))


def mae(ens, data):
    return float(np.mean(np.abs(ens.predict(data.species).mean - data.G)))


def test_fine_tuning_learns_new_chemistry_and_keeps_the_old(old_and_new):
    ens, old, new = old_and_new
    assert len(new) >= 10 and len(old) >= 30
    config = AdaptConfig(epochs=100, lr=3e-3, replay=len(old), batch_size=16)
    tuned = fine_tune(ens, new, old, config, seed=0)
    assert mae(tuned, new) < 0.5 * mae(ens, new)                 # the new labels are learned
    assert mae(tuned, old) < 1.5 * mae(ens, old) + 0.05         # the replayed ones are not lost
    control = fine_tune(ens, new.subset(np.arange(0)), old, config, seed=0)   # replay alone
    assert mae(control, new) > 2.0 * mae(tuned, new)             # the labels, not the epochs, did it
    # the original is untouched, and the copy keeps its baseline, scaling and maps
    assert mae(ens, new) == pytest.approx(mae(ens, new))
    assert tuned.baseline is ens.baseline and tuned.y_std == ens.y_std and tuned.calibration == ens.calibration


def test_fine_tuning_starts_from_the_trained_members_and_workers_do_not_change_them(old_and_new):
    ens, old, new = old_and_new
    still = fine_tune(ens, new, old, AdaptConfig(epochs=1, lr=1e-12, replay=10), seed=0)
    assert np.allclose(still.predict(new.species).members, ens.predict(new.species).members, atol=1e-5)
    config = AdaptConfig(epochs=2, lr=1e-3, replay=20, batch_size=16)
    alone = fine_tune(ens, new, old, config, seed=4).predict(new.species).members
    pooled = fine_tune(ens, new, old, config, seed=4, workers=2).predict(new.species).members
    assert np.allclose(alone, pooled, atol=1e-6)
    assert not np.allclose(alone, ens.predict(new.species).members, atol=1e-3)


def test_an_anchor_that_pulls_all_the_way_back_leaves_the_members_as_trained(old_and_new):
    ens, old, new = old_and_new
    config = dict(epochs=3, lr=1e-3, replay=20, batch_size=16, weight_decay=0.0)
    pulled = fine_tune(ens, new, old, AdaptConfig(**config, anchor=1e6), seed=2)   # lr * anchor >= 1: a full pull
    free = fine_tune(ens, new, old, AdaptConfig(**config), seed=2)
    before = ens.predict(new.species).members
    assert np.allclose(pulled.predict(new.species).members, before, atol=1e-6)
    assert not np.allclose(free.predict(new.species).members, before, atol=1e-3)


def test_bad_settings_are_refused(old_and_new):
    ens, old, new = old_and_new
    with pytest.raises(ValueError, match="not valid"):
        fine_tune(ens, new, old, AdaptConfig(epochs=0))
    with pytest.raises(ValueError, match="workers=0"):
        fine_tune(ens, new, old, workers=0)
    lithium = [i for i, s in enumerate(old.species) if "Li" in s.elements]
    stranger = EnergyEnsemble(ens.members, type(ens.baseline)(ens.baseline.coef, ("H", "C", "O")),
                              ens.y_mean, ens.y_std, ens.level_of_theory)
    with pytest.raises(ValueError, match="no term for"):     # Li unknown: no baseline term to adapt
        fine_tune(stranger, old.subset(lithium[:1]), old)


def test_the_retrospective_example_picks_by_disagreement_or_at_random(load_example):
    example = load_example("adapt_unseen_network")
    pool, sigma = np.array([10, 11, 12, 13, 14]), np.array([0.1, 0.5, 0.2, 0.9, 0.3])
    assert example.pick("disagreement", pool, sigma, 2, np.random.default_rng(0)).tolist() == [13, 11]
    drawn = example.pick("random", pool, sigma, 3, np.random.default_rng(0))
    assert len(set(drawn.tolist())) == 3 and set(drawn.tolist()) <= set(pool.tolist())
    with pytest.raises(ValueError, match="valid: disagreement, random"):
        example.pick("greedy", pool, sigma, 2, np.random.default_rng(0))
