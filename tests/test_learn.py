"""Surrogate building blocks: features, batching, calibration, metrics, ensembles, training."""

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

torch = pytest.importorskip("torch")

from sei_net.chem.species import Species  # noqa: E402
from sei_net.constants import ORACLE_MAX_HEAVY  # noqa: E402
from sei_net.learn import metrics  # noqa: E402
from sei_net.learn.batching import collate, from_pyg, to_pyg  # noqa: E402
from sei_net.learn.calibration import IsotonicVarianceMap, LogLinearVariance, isotonic_fit  # noqa: E402
from sei_net.learn.dataset import ElementBaseline, load_labels, random_split, size_split  # noqa: E402
from sei_net.learn.ensemble import EnergyEnsemble, EnsemblePrediction, reaction_uncertainty  # noqa: E402
from sei_net.learn.features import ELEMENTS, HYBRIDISATION, featurise  # noqa: E402
from sei_net.learn.fit import make_split  # noqa: E402
from sei_net.learn.model import EnergyNet  # noqa: E402
from sei_net.learn.train import TrainConfig, train_member  # noqa: E402

REFERENCE_LABELS = Path(__file__).parents[1] / "data" / "labels" / "gfn2_reference_species.jsonl.gz"
HYB = {h: i for i, h in enumerate(HYBRIDISATION)}


def _atom_block(graph, a, start, size):
    return graph.atoms[a, start:start + size]


def test_species_key_round_trip_includes_hypervalent_skeletons():
    for smiles, q, m in [("F[P-](F)(F)(F)(F)F", None, None), ("O=C1OCCO1", -1, 2), ("[Li]OC(=O)OC", None, None)]:
        s = Species.from_smiles(smiles, q, m)
        assert Species.from_key(s.key) == s
    with pytest.raises(ValueError, match="skeleton SMILES"):
        Species.from_key("CCO")


def test_features_follow_the_lewis_structure_and_rings():
    ec = Species.from_smiles("O=C1OCCO1")
    g = featurise(ec)
    el = [ELEMENTS[int(np.argmax(r[:len(ELEMENTS) + 1]))] for r in g.atoms]
    assert sorted(el) == sorted(ec.elements)
    hyb_start = len(ELEMENTS) + 1 + 7 + 5 + 6 + 3
    carbonyl_c = next(a for a, e in enumerate(ec.elements)
                      if e == "C" and sum(1 for i, j, _ in ec.bonds if a in (i, j) and "O" in
                                          (ec.elements[i], ec.elements[j])) == 3)
    assert np.argmax(_atom_block(g, carbonyl_c, hyb_start, 5)) == HYB["sp2"]
    ring_flag = g.bond_features[:, 4]
    ring5 = g.bond_features[:, 5 + 2]  # one-hot over (3, 4, 5, 6, 7+)
    assert ring_flag.sum() == 5 and ring5.sum() == 5  # the five ring bonds, all in a 5-ring
    ethoxide = featurise(Species.from_smiles("CC[O-]"))
    o = ELEMENTS.index("O")
    oxygen = int(np.flatnonzero(ethoxide.atoms[:, o])[0])
    fc_start = len(ELEMENTS) + 1 + 7 + 5
    assert np.argmax(_atom_block(ethoxide, oxygen, fc_start, 6)) == 1  # formal charge -1
    limc = featurise(Species.from_smiles("[Li]OC(=O)OC"))
    assert limc.bond_features[:, 3].sum() == 1  # one coordination bond


def test_collate_matches_torch_geometric_batching():
    from torch_geometric.data import Batch

    graphs = [featurise(Species.from_smiles(s)) for s in ["O=C1OCCO1", "[Li]OC(=O)OC", "C=C", "[Li+]"]]
    ours = collate(graphs)
    theirs = from_pyg(Batch.from_data_list([to_pyg(g) for g in graphs]))
    for name in ours.__dataclass_fields__:
        assert torch.equal(getattr(ours, name), getattr(theirs, name)), name


def test_model_output_of_a_species_does_not_depend_on_its_batch():
    torch.manual_seed(0)
    model = EnergyNet(hidden=16, layers=2).eval()
    graphs = [featurise(Species.from_smiles(s)) for s in ["O=C1OCCO1", "[Li]OC(=O)OC", "C=C", "[Li+]"]]
    with torch.no_grad():
        together = model(collate(graphs))
        alone = [model(collate([g])) for g in graphs]
    for k, (mean, var) in enumerate(alone):
        assert torch.allclose(together[0][k], mean[0], atol=1e-5)
        assert torch.allclose(together[1][k], var[0], atol=1e-5)
        assert var[0] > 0


def test_isotonic_fit_pools_adjacent_violators():
    centres, values = isotonic_fit(np.array([1.0, 2, 3, 4]), np.array([1.0, 3, 2, 4]))
    assert np.allclose(values, [1, 2.5, 4]) and np.allclose(centres, [1, 2.5, 4])
    rng = np.random.default_rng(0)
    x, y = rng.random(200), rng.random(200)
    _, v = isotonic_fit(x, y)
    assert np.all(np.diff(v) >= 0)
    assert np.isclose(v.mean() if len(v) == 1 else np.average(v, weights=np.ones_like(v)), v.mean())


def test_isotonic_blocks_hold_at_least_min_block_points_and_stay_monotone():
    rng = np.random.default_rng(0)
    x = np.arange(40.0)
    y = x / 10 + rng.normal(0, 1, 40) ** 2                # noisy squared errors around a rising trend
    plain = isotonic_fit(x, y)[1]
    centres, values = isotonic_fit(x, y, min_block=8)
    assert len(values) <= 40 // 8 < len(plain)
    assert np.all(np.diff(values) >= 0) and np.all(np.diff(centres) > 0)
    one = isotonic_fit(x, y, min_block=40)[1]
    assert len(one) == 1 and np.isclose(one[0], y.mean())   # pooling everything conserves the mean


def test_isotonic_recalibration_repairs_a_known_miscalibration():
    rng = np.random.default_rng(1)

    def draw(n):
        sigma_pred = np.exp(rng.uniform(np.log(0.02), np.log(0.5), n))
        return sigma_pred, rng.normal(0, 2.0 * sigma_pred)  # true spread is twice the predicted one

    s_cal, e_cal = draw(4000)
    fitted = IsotonicVarianceMap.fit(s_cal ** 2, e_cal)
    s_new, e_new = draw(20000)
    before = metrics.regression_report(e_new, s_new)
    after = metrics.regression_report(e_new, np.sqrt(fitted(s_new ** 2)))
    assert before["coverage_95"] < 0.72  # P(|z| < 0.98) = 0.67
    assert before["miscalibration_area"] > 0.15
    assert abs(after["coverage_95"] - 0.95) < 0.015
    assert after["miscalibration_area"] < 0.02
    ratio = fitted(np.array([0.01, 0.04])) / np.array([0.01, 0.04])
    assert np.allclose(ratio, 4.0, rtol=0.2)
    big = fitted(np.array([1.0, 4.0]))  # beyond the calibrated range: still monotone
    assert big[1] > big[0] > fitted(np.array([0.25]))[0]


def _two_part_errors(rng, n, weights):
    """Epistemic and aleatoric variances (eV^2) spanning decades independently, and errors drawn
    from N(0, exp(w0) epistemic^w1 aleatoric^w2)."""
    epistemic = np.exp(rng.uniform(np.log(1e-4), np.log(1e-1), n))
    aleatoric = np.exp(rng.uniform(np.log(1e-3), np.log(1e-1), n))
    variance = np.exp(weights[0]) * epistemic ** weights[1] * aleatoric ** weights[2]
    return epistemic, aleatoric, rng.normal(0.0, np.sqrt(variance))


def test_the_variance_blend_recovers_known_weights_by_maximum_likelihood():
    rng = np.random.default_rng(5)
    truth = np.array([-0.5, 0.2, 0.9])
    epistemic, aleatoric, errors = _two_part_errors(rng, 40000, truth)
    fitted = LogLinearVariance.fit(epistemic, aleatoric, errors)
    # standard errors of the weights here are ~0.01 (Fisher information of a Gaussian variance)
    assert np.allclose(fitted.weights, truth, atol=0.05)
    # one member: no epistemic part to weigh; the fit carries on with the aleatoric part
    alone = LogLinearVariance.fit(np.zeros_like(aleatoric), aleatoric, errors)
    assert alone.weights[1] == 0.0 and 0.5 < alone.weights[2] < 1.3
    with pytest.raises(ValueError, match="at least 10 calibration points"):
        LogLinearVariance.fit(epistemic[:5], aleatoric[:5], errors[:5])


def test_a_blended_map_ranks_and_covers_errors_that_follow_one_part_better_than_the_sum():
    # the errors follow the aleatoric part only; the epistemic part is as large but says nothing
    rng = np.random.default_rng(6)
    truth = np.array([0.0, 0.0, 1.0])
    cal = _two_part_errors(rng, 4000, truth)
    new = _two_part_errors(rng, 20000, truth)
    summed = IsotonicVarianceMap.fit_parts(*cal)
    blended = IsotonicVarianceMap.fit_parts(*cal, blend=True)
    assert summed.blend is None and blended.blend is not None
    s_sum, s_blend = (np.sqrt(m.recalibrate(new[0], new[1])) for m in (summed, blended))
    assert np.allclose(s_sum ** 2, summed(new[0] + new[1]))     # no blend: the map of the sum
    by_sum, by_blend = (metrics.regression_report(new[2], s) for s in (s_sum, s_blend))
    # calibrated errors with the true sigma score spearman_reference; the blend gets there
    assert by_blend["spearman"] > by_sum["spearman"] + 0.1
    assert abs(by_blend["spearman"] - by_blend["spearman_reference"]) < 0.03
    assert abs(by_blend["coverage_95"] - 0.95) < 0.01 and by_blend["miscalibration_area"] < 0.02
    assert by_blend["nll"] < by_sum["nll"]
    again = IsotonicVarianceMap.from_dict(blended.to_dict())
    assert np.allclose(again.recalibrate(new[0], new[1]), s_blend ** 2)
    legacy = {k: v for k, v in blended.to_dict().items() if k != "blend"}  # maps saved before blends
    assert IsotonicVarianceMap.from_dict(legacy).blend is None


def test_metrics_on_calibrated_and_overconfident_gaussians():
    rng = np.random.default_rng(2)
    sigma = np.exp(rng.uniform(-3, 0, 50000))
    errors = rng.normal(0, sigma)
    good = metrics.regression_report(errors, sigma)
    assert good["miscalibration_area"] < 0.01
    assert abs(good["coverage_95"] - 0.95) < 0.005
    assert good["ence"] < 0.05
    assert good["spearman"] > 0.4
    assert abs(good["nll"] - np.mean(np.log(sigma) + 0.5 * np.log(2 * np.pi) + 0.5)) < 0.02
    bad = metrics.regression_report(errors, sigma / 3)
    assert abs(bad["coverage_95"] - (2 * stats.norm.cdf(1.96 / 3) - 1)) < 0.01
    assert abs(bad["ence"] - 2.0) < 0.1  # |RMV - 3 RMV| / RMV
    shuffled = metrics.spearman_error_sigma(errors, rng.permutation(sigma))
    assert abs(shuffled) < 0.02
    # calibrated errors score what the reference says perfectly calibrated ones score
    assert abs(good["spearman"] - good["spearman_reference"]) < 0.02


def test_spearman_reference_matches_the_two_sigma_closed_form_and_its_limits():
    # half the sigma 1, half a: for many points Spearman(|e|, sigma) -> sqrt(12) (arctan(a)/pi - 1/4)
    # (the ranks of sigma are 1/4 and 3/4; P(|Z1| < a |Z2|) = 2 arctan(a) / pi)
    a, n = 3.0, 20000
    sigma = np.repeat([1.0, a], n // 2)
    expected = np.sqrt(12.0) * (np.arctan(a) / np.pi - 0.25)   # 0.511
    ref = metrics.spearman_reference(sigma)
    assert abs(np.median(ref) - expected) < 0.015 and ref.std() < 0.02
    assert np.array_equal(ref, metrics.spearman_reference(sigma))   # seeded
    rng = np.random.default_rng(5)
    alike = 1.0 + 1e-9 * rng.uniform(size=5000)                    # sigma carries no information
    assert abs(np.median(metrics.spearman_reference(alike))) < 0.03
    decades = np.exp(rng.uniform(-23, 23, 5000))                   # sigma decides the error's size
    assert np.median(metrics.spearman_reference(decades)) > 0.95


def test_embedding_distance_matches_brute_force_and_ignores_the_units_of_a_dimension(load_example):
    signals = load_example("off_distribution_signals")
    rng = np.random.default_rng(3)
    reference, query = rng.normal(size=(300, 4)), rng.normal(size=(40, 4)) + 1.0
    got = signals.knn_distance(reference, query, k=3, chunk=7)          # chunks cut the queries
    z_ref = (reference - reference.mean(0)) / reference.std(0)
    z_q = (query - reference.mean(0)) / reference.std(0)
    brute = np.sort(np.linalg.norm(z_q[:, None] - z_ref[None], axis=2), axis=1)[:, :3].mean(axis=1)
    assert np.allclose(got, brute, atol=1e-9)
    units = np.array([1e3, 1.0, 1e-3, 5.0])                            # a dimension in other units
    assert np.allclose(signals.knn_distance(reference * units, query * units, k=3), got, atol=1e-6)
    # members: the distance averages theirs
    both = signals.embedding_distance(np.stack([reference, 2 * reference]), np.stack([query, query]), k=3)
    assert np.allclose(both, (got + signals.knn_distance(2 * reference, query, k=3)) / 2)
    # a query among the references is nearer than one far from them
    assert signals.knn_distance(reference, reference[:1] + 10.0, k=3)[0] > signals.knn_distance(reference, reference[:1], k=3)[0]


def test_motif_split_counts_hand_made_keys(load_example):
    signals = load_example("off_distribution_signals")
    unseen = ["[C][C][O]|0|1", "[CH2][CH2][O]|0|1", "[C]1[C][O]1|0|1", "[CH][CH]|0|1"]
    errors = np.array([-2.0, 0.1, 1.0, -0.3])
    got = signals.motif_split(r"\[C\]1?\[C\]", ["[C][C]|0|1", "[CH3][OH]|0|1"], unseen, errors)
    assert (got["train"], got["n_train"], got["unseen"]) == (1, 2, 2)
    assert got["mae_with"] == pytest.approx(1.5) and got["mae_without"] == pytest.approx(0.2)
    assert got["worst_with"] == 2                       # the two largest errors hold the motif


def test_target_scale_recovers_a_known_underestimate(load_example):
    signals = load_example("off_distribution_signals")
    rng = np.random.default_rng(4)
    variance = np.exp(rng.uniform(-6, 0, 40000))                       # eV^2
    errors = rng.normal(0.0, np.sqrt(2.25 * variance))                 # the variance is 2.25 times too small
    assert signals.target_scale(variance, errors) == pytest.approx(2.25, rel=0.03)
    assert signals.target_scale(variance, rng.normal(0.0, np.sqrt(variance))) == pytest.approx(1.0, rel=0.03)


def test_reaction_uncertainty_is_member_wise_hand_computation():
    # A + B -> C with three members; the members share most of their errors
    members = np.array([[1.0, 2.0, 3.5],    # A
                        [10.0, 10.5, 11.0],  # B
                        [11.2, 12.4, 14.6]])  # C
    member_var = np.array([[0.01, 0.02, 0.03], [0.04, 0.04, 0.04], [0.09, 0.09, 0.09]])
    species = EnsemblePrediction(members, member_var)
    nu = sp.csr_matrix(np.array([[-1.0, -1.0, 1.0]]))
    r = reaction_uncertainty(nu, species)
    dG = np.array([11.2 - 1 - 10, 12.4 - 2 - 10.5, 14.6 - 3.5 - 11.0])  # 0.2, -0.1, 0.1
    assert np.allclose(r.members[0], dG)
    assert np.isclose(r.mean[0], dG.mean())
    assert np.isclose(r.epistemic[0], np.var(dG))
    assert np.isclose(r.aleatoric[0], 0.02 + 0.04 + 0.09)
    summed = species.epistemic.sum()  # what summing species variances would claim
    assert r.epistemic[0] < summed / 20
    two_c = reaction_uncertainty(sp.csr_matrix(np.array([[0.0, -1.0, 2.0]])), species)
    assert np.isclose(two_c.aleatoric[0], 0.04 + 4 * 0.09)



def test_calibrated_members_carry_the_calibrated_variance_and_keep_cancellation():
    # species 0 and 1 share their member errors exactly (related species); 2 has members that agree
    deviation = np.array([-0.2, 0.1, 0.1])
    members = np.array([5.0 + deviation, 7.0 + deviation, [3.0, 3.0, 3.0]])
    member_var = np.full((3, 3), 0.03)
    raw = EnsemblePrediction(members, member_var)
    calibrated = EnsemblePrediction(members, member_var, IsotonicVarianceMap(np.array([10.0, 20.0]),
                                                                            np.array([40.0, 80.0]), 10))
    for pred in (raw, calibrated):                   # no map, and a map that quadruples every variance
        spread = pred.calibrated_members
        assert np.allclose(spread.mean(axis=1), pred.mean)
        assert np.allclose(spread.var(axis=1), pred.variance)   # aleatoric part folded in, species 2 too
        # A -> B: every member has the same shift, so the dG spread is 0 as before the spreading
        dG = spread[1] - spread[0]
        assert np.allclose(dG, 2.0)
        # a reaction with one predicted species has that species' calibrated sigma (labels kept)
        assert np.isclose(np.std(spread[2] - 1.0), pred.sigma[2])
    assert np.isclose(calibrated.calibrated_members.var(axis=1)[0], 4 * (raw.epistemic[0] + 0.03))
    one = EnsemblePrediction(members[:, :1], member_var[:, :1])
    assert np.array_equal(one.calibrated_members, members[:, :1])

def test_element_baseline_recovers_additive_energies():
    rng = np.random.default_rng(3)
    comp = rng.integers(0, 6, size=(50, len(ELEMENTS))).astype(float)
    comp[:, ELEMENTS.index("Si")] = 0
    charge = rng.integers(-2, 2, 50)
    true = rng.normal(size=len(ELEMENTS) + 1)
    true[ELEMENTS.index("Si")] = 0
    G = ElementBaseline.design(comp, charge) @ true
    b = ElementBaseline.fit(comp, charge, G)
    assert np.allclose(b(comp, charge), G)
    assert "Si" not in b.elements
    with_si = comp[:2].copy()
    with_si[0, ELEMENTS.index("Si")] = 1
    assert list(b.knows(with_si)) == [False, True]


def test_splits_partition_and_the_size_split_tests_on_the_largest():
    parts = random_split(103, {"a": 0.7, "b": 0.2, "c": 0.1}, seed=4)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(103))
    assert len(parts["a"]) == 72
    n_heavy = np.arange(100) % 17
    hard = size_split(n_heavy, 0.1, {"train": 0.8, "val": 0.2}, seed=0)
    assert sorted(np.concatenate(list(hard.values())).tolist()) == list(range(100))
    assert n_heavy[hard["test"]].min() >= n_heavy[hard["train"]].max()
    with pytest.raises(ValueError, match="add up to 1"):
        random_split(10, {"a": 0.5, "b": 0.4})


def _reference_data():
    return load_labels([REFERENCE_LABELS])


@pytest.mark.parametrize("kind", ["random", "size"])
def test_single_atoms_and_small_species_always_train_and_the_parts_still_partition(kind):
    data = _reference_data()
    atoms = set(np.flatnonzero(data.n_atoms == 1).tolist())
    small = set(np.flatnonzero(data.n_heavy <= ORACLE_MAX_HEAVY).tolist()) - atoms
    assert len(atoms) >= 3 and len(small) >= 10  # H, Li+, F-, CO2, H2O ...: otherwise this checks nothing
    seen, seen_small = [], []
    for seed in range(5):  # most seeds put some atom outside 'train' before pinning
        parts = make_split(kind, data, seed)
        assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(len(data)))
        assert atoms | small <= set(parts["train"].tolist())
        unpinned = make_split(kind, data, seed, pin_atoms=False, oracle_max_heavy=None)  # models before the rules
        seen.extend(np.setdiff1d(np.arange(len(data)), unpinned["train"]).tolist())
        atoms_only = make_split(kind, data, seed, oracle_max_heavy=None)
        assert atoms <= set(atoms_only["train"].tolist())
        seen_small.extend(np.setdiff1d(np.arange(len(data)), atoms_only["train"]).tolist())
    assert atoms & set(seen), "no seed would have held an atom out of 'train': pick more seeds"
    assert small & set(seen_small), "no seed would have held a small species out of 'train': pick more seeds"


def test_a_tiny_member_learns_the_reference_labels():
    data = _reference_data()
    assert len(data) >= 50 and data.level_of_theory.startswith("GFN2-xTB")
    graphs = [featurise(s) for s in data.species]
    comp = np.stack([g.composition for g in graphs])
    charge = np.array([s.charge for s in data.species])
    resid = data.G - ElementBaseline.fit(comp, charge, data.G)(comp, charge)
    y = (resid - resid.mean()) / resid.std()
    torch.set_num_threads(1)
    _, history = train_member(graphs, y, graphs[:8], y[:8], seed=0,
                              config=TrainConfig(hidden=32, layers=2, epochs=100, batch_size=16, lr=3e-3,
                                                 warmup_fraction=0.5, patience=100))
    first, last = history[0]["train_mse"], min(h["train_mse"] for h in history[-5:])
    assert last < 0.3 * first
    assert np.isfinite(history[-1]["train_nll"]) and history[-1]["train_nll"] != 0.0


def test_gradient_clipping_bounds_each_step():
    """Clipped to a vanishing norm, gradients fall far below Adam's epsilon and the weights barely
    leave their initial values; unclipped, the same epochs move them."""
    data = _reference_data()
    graphs = [featurise(s) for s in data.species]
    y = (data.G - data.G.mean()) / data.G.std()
    torch.set_num_threads(1)
    torch.manual_seed(3)
    start = torch.cat([p.detach().flatten() for p in EnergyNet(16, 2).parameters()])
    moved = {}
    for clip in (None, 1e-12):
        config = TrainConfig(hidden=16, layers=2, epochs=2, batch_size=16, warmup_fraction=1.0, clip_grad_norm=clip)
        model, _ = train_member(graphs, y, graphs[:8], y[:8], seed=3, config=config)
        moved[clip] = float((torch.cat([p.detach().flatten() for p in model.parameters()]) - start).norm())
    assert moved[1e-12] < 0.01 * moved[None], moved


def test_ensemble_save_load_round_trip_and_calibration(tmp_path):
    data = _reference_data()
    parts = random_split(len(data), {"train": 0.8, "val": 0.2}, seed=0)
    torch.set_num_threads(1)
    ens = EnergyEnsemble.train(data.subset(parts["train"]), data.subset(parts["val"]), n_members=2,
                               config=TrainConfig(hidden=16, layers=2, epochs=6, batch_size=16), device="cpu")
    pred = ens.predict(data.species)
    assert pred.members.shape == (len(data), 2)
    assert np.all(pred.epistemic >= 0) and np.all(pred.aleatoric > 0)
    ens.calibrate("species", pred, data.G, blend=True)
    ens.card["oracle"] = "gfn2"
    ens.save(tmp_path / "m.pt")
    again = EnergyEnsemble.load(tmp_path / "m.pt", device="cpu")
    p2 = again.predict(data.species)
    assert np.allclose(p2.members, pred.members) and np.allclose(p2.member_variance, pred.member_variance)
    pred.calibration = ens.calibration["species"]
    assert again.calibration["species"].blend is not None      # the blend travels with the map
    assert np.allclose(p2.sigma, pred.sigma)
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a sei_net model"):
        EnergyEnsemble.load(tmp_path / "junk.pt")


def test_a_lower_bound_costs_only_when_violated_and_counts_like_a_label():
    from sei_net.learn.train import _loss
    mean = torch.tensor([0.0, 1.0, 2.0, 0.5], requires_grad=True)
    y = torch.tensor([0.5, 1.0, 1.0, 1.5])
    bound = torch.tensor([False, False, True, True])      # rows 2, 3: y is only a lower bound
    total, mse, _ = _loss(mean, torch.ones(4), y, False, bound)
    # labels: (0.5^2 + 0) / 2; bounds: row 2 satisfied (2.0 >= 1.0), row 3 short by 1.0 -> 1.0^2 / 2
    assert float(mse.detach()) == pytest.approx(0.125) and float(total.detach()) == pytest.approx(0.125 + 0.5)
    total.backward()
    assert mean.grad[2] == 0 and mean.grad[3] < 0          # only the violated bound pulls, and upwards


def test_the_huber_option_is_the_squared_error_for_small_errors_and_caps_an_outlier_pull():
    from sei_net.learn.train import _loss
    mean = torch.tensor([0.05, 2.0, 0.0], requires_grad=True)
    y = torch.zeros(3)
    bound = torch.tensor([False, False, True])
    y_bound = torch.tensor([0.0, 0.0, 3.0])                 # row 2: a bound violated by 3.0
    total, mse, _ = _loss(mean, torch.ones(3), y + y_bound, False, bound, huber_delta=0.1)
    # labels: 0.05^2 (inside delta) + (2 * 0.1 * 2.0 - 0.1^2) (beyond), bound: 2 * 0.1 * 3.0 - 0.1^2; / 2 labels
    assert float(total.detach()) == pytest.approx((0.0025 + 0.39 + 0.59) / 2)
    assert float(mse.detach()) == pytest.approx((0.0025 + 4.0) / 2)   # the report stays the squared error
    total.backward()
    # d/dmean: 2 * 0.05 / 2 inside; beyond, +-2 * delta / 2 whatever the size of the error
    assert mean.grad.tolist() == pytest.approx([0.05, 0.1, -0.1])


def test_the_weight_average_moves_each_parameter_by_one_minus_decay_towards_the_model():
    from sei_net.learn.model import EnergyNet
    from sei_net.learn.train import _average_into
    torch.manual_seed(0)
    averaged, model = EnergyNet(8, 1), EnergyNet(8, 1)
    before = [p.detach().clone() for p in averaged.parameters()]
    _average_into(averaged, model, 0.9)
    for a, b, p in zip(averaged.parameters(), before, model.parameters()):
        assert torch.allclose(a, 0.9 * b + 0.1 * p)
    _average_into(averaged, model, 0.0)                   # decay 0: the model itself
    assert all(torch.equal(a, p) for a, p in zip(averaged.parameters(), model.parameters()))


def test_a_detached_variance_head_trains_only_itself_and_a_shared_one_moves_the_mean_layers():
    from sei_net.learn.train import _loss
    graphs = [featurise(Species.from_smiles(s)) for s in ["O=C1OCCO1", "[Li]OC(=O)OC", "C=C"]]
    y = torch.tensor([0.3, -1.0, 0.5])
    grads = {}
    for detach in (False, True):
        torch.manual_seed(0)
        model = EnergyNet(16, 2, detach_variance=detach)
        mean, var = model(collate(graphs))
        nll = _loss(mean, var, y, True)[2]                  # the variance head's loss alone
        nll.backward()
        grads[detach] = {name: p.grad for name, p in model.named_parameters()}
    for name, grad in grads[True].items():
        if name.startswith("variance_readout"):
            assert grad is not None and grad.abs().sum() > 0, name
        else:                                               # embeddings, message passing, mean readout
            assert grad is None or torch.count_nonzero(grad) == 0, name
    shared = [g for n, g in grads[False].items() if n.startswith(("layers.", "atom_embed"))]
    assert any(g is not None and g.abs().sum() > 0 for g in shared)


def test_train_settings_added_later_keep_old_fingerprints_and_round_trip():
    old_card = {"hidden": 64, "layers": 4, "epochs": 300, "batch_size": 64, "lr": 0.002, "weight_decay": 0.01,
                "warmup_fraction": 0.3, "patience": 80, "clip_grad_norm": 1.0}    # a card from before them
    assert TrainConfig().to_dict() == old_card
    for changed in (TrainConfig(detach_variance=True), TrainConfig(huber_delta=0.1, ema_decay=0.999)):
        assert changed.to_dict() != old_card
        assert TrainConfig(**changed.to_dict()) == changed
    # a model saved before the option existed loads as a shared head
    assert EnergyNet(**{"hidden": 8, "layers": 1}).detach_variance is False
    assert EnergyNet(**TrainConfig(hidden=8, layers=1, detach_variance=True).network_config()).detach_variance


def test_a_violated_lower_bound_trains_like_a_label_and_a_satisfied_one_like_nothing():
    data = _reference_data()
    graphs = [featurise(s) for s in data.species]
    comp = np.stack([g.composition for g in graphs])
    charge = np.array([s.charge for s in data.species])
    resid = data.G - ElementBaseline.fit(comp, charge, data.G)(comp, charge)
    y = (resid - resid.mean()) / resid.std()
    held = len(y) - 1                                      # its label is left out; it gets a bound instead
    # unclipped: clipping rescales each step by its batch's gradient norm, so a zero-loss bound in a
    # batch would change the optimiser's path through that rescaling, not through the loss tested here
    config = TrainConfig(hidden=32, layers=2, epochs=60, batch_size=16, lr=3e-3, warmup_fraction=0.5, patience=60,
                         clip_grad_norm=None)
    torch.set_num_threads(1)

    def train(bound=None, label=None):
        if label is not None:
            return train_member(graphs, np.append(y[:held], label), graphs[:8], y[:8], seed=0, config=config)[0]
        extra = {} if bound is None else {"bound_graphs": [graphs[held]], "bound_y": np.array([bound])}
        return train_member(graphs[:held], y[:held], graphs[:8], y[:8], seed=0, config=config, **extra)[0]

    def predict(model):
        with torch.no_grad():
            return float(model(collate([graphs[held]]))[0][0])

    free = predict(train())
    above, as_label = predict(train(bound=free + 1.0)), predict(train(label=free + 1.0))
    assert above - free > 0.2                              # pulled up, in standardised units
    assert abs(above - as_label) < 0.05                    # same pull as a label at the bound
    below = predict(train(bound=free - 1.0))
    assert abs(below - free) < 0.1                         # only the batch composition differs


class FixedEnsemble:
    """Stands in for a trained ensemble: predictions given, not learned."""

    def __init__(self, prediction: EnsemblePrediction):
        self.prediction, self.calibration = prediction, {}

    def predict(self, species):
        return self.prediction


def test_resampled_held_out_recalibrates_a_known_overconfidence_on_every_draw():
    from types import SimpleNamespace

    from sei_net.learn.evaluate import resampled_held_out

    rng = np.random.default_rng(3)
    n, n_reactions = 2000, 3000
    scale = rng.uniform(0.05, 0.5, n)                      # true error sigma of each species, eV
    G = rng.normal(0.0, 5.0, n)
    err = rng.normal(0.0, scale)
    members = np.repeat((G + err)[:, None], 3, axis=1)     # the members agree: aleatoric only
    overconfident = np.repeat((scale / 2)[:, None] ** 2, 3, axis=1)  # claims half the true sigma
    ens = FixedEnsemble(EnsemblePrediction(members, overconfident))
    data = SimpleNamespace(species=[None] * n, G=G)
    pairs = rng.choice(n, size=(n_reactions, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    rows = np.repeat(np.arange(len(pairs)), 2)
    stoich = sp.csr_matrix((np.tile([-1.0, 1.0], len(pairs)), (rows, pairs.ravel())), shape=(len(pairs), n))
    parts = {"cal": np.arange(0, 1000), "test": np.arange(1000, 2000)}

    raw_coverage = np.mean(np.abs(err) <= 1.96 * scale / 2)
    assert raw_coverage < 0.75                             # the uncalibrated claim is far off
    out = resampled_held_out(ens, data, parts, stoich, draws=20, seed=1)
    assert out["n_cal"] == out["n_test"] == 1000 and out["draws"] == 20
    # ('reactions_as_scored' is left out: these members agree, so three spread members cannot carry
    # the independence of two species' aleatoric errors; test_calibrated_members covers its algebra)
    assert "reactions_as_scored" in out["metrics"]
    for what in ("species", "reactions", "reactions_labels_kept"):
        cov = out["metrics"][what]["coverage_95"]
        assert 0.93 <= cov["median"] <= 0.97, (what, cov)
        assert cov["p05"] <= cov["median"] <= cov["p95"]
    mae = out["metrics"]["species"]["mae"]
    assert abs(mae["median"] - np.abs(err).mean()) < 0.05 * np.abs(err).mean()   # halves of one pool


def test_network_novelty_counts_species_above_the_calibration_quantile():
    from sei_net.learn.novelty import calibration_threshold, describe, network_novelty

    rng = np.random.default_rng(8)
    draw = lambda n: np.exp(rng.normal(np.log(0.01), 1.0, n))   # noqa: E731  epistemic variances, eV^2
    threshold = calibration_threshold(draw(3000))
    like = network_novelty(draw(2000), threshold)
    assert like["calibration_fraction"] == 0.1 and abs(like["fraction_above"] - 0.1) < 0.03
    wider = network_novelty(4.0 * draw(2000), threshold)           # members disagree twice as much (sigma)
    # log variances are N(mu, 1): the threshold sits at mu + 1.28, and x4 moves them by ln 4 = 1.39,
    # so P(z > 1.28 - 1.39) = 0.54 lie above it
    assert abs(wider["fraction_above"] - 0.54) < 0.04 and "of the 2000 predicted species" in describe(wider)
    assert network_novelty(np.array([np.nan, 1.0]), threshold)["predicted"] == 1   # unknown elements: NaN
    assert network_novelty(draw(10), None) is None and describe(None) is None      # a card without it
