"""Barrier network on species embeddings: centre atoms against the condensed graph, detailed
balance, the cached path against the training path, and a tiny model that learns."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sei_net.learn.barrier_embedding import (EmbeddingBarrierNet, cached_lambdas, prepare_reactions,  # noqa: E402
                                             training_batch)
from sei_net.learn.barrier_ensemble import BarrierEnsemble, BarrierTrainConfig, prepare, take  # noqa: E402
from sei_net.learn.barrier_model import clipped_marcus  # noqa: E402
from sei_net.learn.reaction_graph import condensed_graph  # noqa: E402


def _rows_of(prep, reaction_species, n_atoms_of):
    """Table rows of every atom of a side, in the side's atom order."""
    return np.concatenate([prep.table.atom_start[s] + np.arange(n_atoms_of(s)) for s in reaction_species])


def test_centres_are_the_condensed_graphs_centre_atoms_paired_through_the_atom_map(mapped_reactions):
    """An independent route: the CGR marks the atoms whose bond features change, one reaction at a
    time; the vectorised locator must find the same atoms and pair each with its product atom."""
    reactions = [r for r in mapped_reactions if r.kind != "redox"][:300]
    prep = prepare_reactions(reactions)
    n_atoms = prep.table.n_atoms.__getitem__
    for i, r in enumerate(reactions):
        species_r = prep.reactant_species[prep.reactant_start[i]:prep.reactant_start[i + 1]]
        species_p = prep.product_species[prep.product_start[i]:prep.product_start[i + 1]]
        r_rows, p_rows = _rows_of(prep, species_r, n_atoms), _rows_of(prep, species_p, n_atoms)
        amap = np.asarray(r.atom_map)
        product_of = np.empty_like(amap)
        product_of[amap] = np.arange(len(amap))
        centre = np.flatnonzero(condensed_graph(r).centre)
        mine = prep.centres.reaction == i
        assert set(zip(prep.centres.reactant_row[mine], prep.centres.product_row[mine])) == \
            set(zip(r_rows[centre], p_rows[product_of[centre]]))
        assert len(centre) >= 2      # a bond changes: at least its two atoms


def test_a_reaction_and_its_reverse_get_the_same_lambda(mapped_reactions):
    """Every input pairs the sides symmetrically, so forward minus reverse barrier is exactly dG."""
    torch.manual_seed(0)
    net = EmbeddingBarrierNet(hidden=16, layers=2).eval()
    reactions = [r for r in mapped_reactions if r.kind != "redox"][:200]
    fwd, _ = cached_lambdas(net, prepare_reactions(reactions), "cpu")
    rev, _ = cached_lambdas(net, prepare_reactions([r.reversed() for r in reactions]), "cpu")
    assert np.allclose(fwd, rev, rtol=1e-5, atol=1e-6)
    dG = np.random.default_rng(0).uniform(-1, 1, len(reactions))
    barrier = clipped_marcus(torch.from_numpy(dG), torch.from_numpy(fwd)).numpy()
    barrier_rev = clipped_marcus(torch.from_numpy(-dG), torch.from_numpy(rev)).numpy()
    assert np.allclose(barrier - barrier_rev, dG, atol=1e-5)


def test_cached_scoring_equals_the_training_batches_and_any_subset(mapped_reactions):
    """Species encoded once for all reactions (scoring) give the lambdas that per-batch encoding
    (training) gives, in batches of any size, and a subset gives the rows of the whole."""
    torch.manual_seed(1)
    net = EmbeddingBarrierNet(hidden=16, layers=2).eval()
    reactions = [r for r in mapped_reactions if r.kind != "redox"][:150]
    prep = prepare_reactions(reactions)
    whole, _ = cached_lambdas(net, prep, "cpu")
    small_batches, _ = cached_lambdas(net, prep, "cpu", batch_size=7)
    assert np.allclose(whole, small_batches, rtol=1e-5)
    idx = np.array([5, 3, 120, 0, 77])
    with torch.inference_mode():
        lam, _ = net(*training_batch(prep, idx))
    assert np.allclose(lam.double().numpy(), whole[idx], rtol=1e-5)
    assert np.allclose(cached_lambdas(net, prep.subset(idx), "cpu")[0], whole[idx], rtol=1e-5)
    alone, _ = cached_lambdas(net, prepare_reactions([reactions[i] for i in idx]), "cpu")
    assert np.allclose(alone, whole[idx], rtol=1e-5)


def test_tiny_embedding_ensemble_learns_class_dependent_barriers_and_round_trips(class_barriers, tmp_path):
    """Synthetic labels from a known lambda per class: the ensemble must beat the best single
    lambda on reactions it never saw, and load back to the same predictions."""
    sample, dG, y, test, val, train = class_barriers(np.random.default_rng(0))
    config = BarrierTrainConfig(hidden=16, layers=2, epochs=60, patience=60, lr=5e-3, architecture="species_embedding")
    prep = prepare(sample, config.architecture)
    ens = BarrierEnsemble.train(prep, dG, y, train, val, "synthetic", n_members=2, config=config, device="cpu")
    pred = ens.predict_graphs(take(prep, test), dG[test]).mean
    best_constant = min(np.abs(clipped_marcus(torch.from_numpy(dG[test]), torch.tensor(c)).numpy() - y[test]).mean()
                        for c in np.linspace(0.05, 6, 120))
    assert np.abs(pred - y[test]).mean() < 0.5 * best_constant
    ens.save(tmp_path / "embedding.pt")
    loaded = BarrierEnsemble.load(tmp_path / "embedding.pt", device="cpu")
    assert loaded.architecture == "species_embedding"
    assert np.allclose(loaded.predict([sample[i] for i in test], dG[test]).mean, pred, rtol=1e-5)


def test_bad_architecture_settings_are_refused_in_one_line():
    with pytest.raises(ValueError, match="valid: cgr, species_embedding"):
        BarrierTrainConfig(architecture="transformer")
    with pytest.raises(ValueError, match="'cgr' architecture only"):
        BarrierTrainConfig(architecture="species_embedding", anchored=True)
