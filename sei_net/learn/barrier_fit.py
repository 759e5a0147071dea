"""Fit and test the barrier surrogate against its baselines, on a random and a hard split.

Splits (fractions train/calibration/test 0.7/0.15/0.15 of the usable NEB labels):
- ``random``: a seeded permutation;
- ``hard``: the test part is the reactions with the largest reactant (heavy atoms), the rest is
  split at random: the model must extrapolate to bigger molecules.
A fifth of the training part is the members' early-stopping set; the calibration part fits the
isotonic variance map and nothing else; the test part is used once, for the report.

Baselines on the same test part (eV): Bell-Evans-Polanyi per reaction class,
max(0, dG, E0 + alpha*dG) with (E0 >= 0, 0 <= alpha <= 1) fitted per class on the training part by
least absolute error (grid search), and the RNMC-like defaults (``kinetics.rates.RNMC_BEP``).
With ``externals`` (``external_barriers.load_external_barriers``), the DFT transition states are a
second, external test of the model and both baselines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from sei_net.kinetics.rates import RNMC_BEP, bep_barrier
from sei_net.learn.barrier_data import BarrierExample, load_barrier_dataset
from sei_net.learn.barrier_ensemble import BarrierEnsemble, BarrierTrainConfig, prepare, take
from sei_net.learn.metrics import regression_report
from sei_net.learn.reaction_graph import reaction_class

SPLITS = ("random", "hard")
_E0_GRID = np.round(np.arange(0.0, 3.001, 0.01), 3)
_ALPHA_GRID = np.round(np.arange(0.0, 1.001, 0.05), 3)


def barrier_split(kind: str, n_heavy: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Indices of train / val / calibration / test parts (see the module docstring)."""
    if kind not in SPLITS:
        raise ValueError(f"split {kind!r} is not valid; valid splits: {', '.join(SPLITS)}")
    n = len(n_heavy)
    if n < 40:
        raise ValueError(f"{n} usable barrier labels: the splits need at least 40")
    rng = np.random.default_rng(seed)
    n_test = n_cal = int(round(0.15 * n))
    if kind == "random":
        order = rng.permutation(n)
        test, rest = order[:n_test], order[n_test:]
    else:
        by_size = np.lexsort((rng.random(n), -np.asarray(n_heavy)))
        test, rest = by_size[:n_test], rng.permutation(by_size[n_test:])
    cal, fit = rest[:n_cal], rest[n_cal:]
    n_val = max(1, len(fit) // 5)
    return {"train": np.sort(fit[n_val:]), "val": np.sort(fit[:n_val]), "calibration": np.sort(cal),
            "test": np.sort(test)}


def split_examples(examples: Sequence[BarrierExample], kind: str, seed: int = 0) -> dict[str, np.ndarray]:
    """``barrier_split`` of barrier examples, sized by their first reactant's heavy atoms: the one
    rule training uses, so a card's split and seed give back its parts."""
    return barrier_split(kind, np.array([e.reaction.reactants[0].n_heavy for e in examples]), seed)


def fit_bep(classes: Sequence[str], dG: np.ndarray, y: np.ndarray,
            alpha: float | None = None) -> dict[str, tuple[float, float]]:
    """(E0, alpha) per class minimising the mean absolute error of max(0, dG, E0 + alpha*dG).
    ``alpha`` fixes the slope (1/2 makes the forward minus reverse barrier exactly dG when both
    directions share E0, as kinetics needs); None fits it too."""
    alphas = _ALPHA_GRID if alpha is None else np.array([float(alpha)])
    out = {}
    for cls in sorted(set(classes)):
        mask = np.asarray(classes) == cls
        d, t = dG[mask], y[mask]
        pred = np.maximum(np.maximum(d, 0.0)[None, None, :],
                          _E0_GRID[:, None, None] + alphas[None, :, None] * d[None, None, :])
        err = np.abs(pred - t).mean(axis=2)
        i, j = np.unravel_index(np.argmin(err), err.shape)
        out[cls] = (float(_E0_GRID[i]), float(alphas[j]))
    return out


def bep_predict(params: dict[str, tuple[float, float]], kinds: Sequence[str], dG: np.ndarray) -> np.ndarray:
    """Barriers (eV) from per-class (E0, alpha); a class never fitted gets (0, 0)."""
    e0, alpha = np.array([params.get(reaction_class(k), (0.0, 0.0)) for k in kinds]).reshape(-1, 2).T
    return bep_barrier(dG, e0, alpha)


def default_bep_predict(kinds: Sequence[str], dG: np.ndarray) -> np.ndarray:
    """Barriers (eV) from the RNMC-like literature defaults, ``RNMC_BEP``, by reaction kind: the
    baseline that owes nothing to these labels (``DEFAULT_BEP`` is fitted on them)."""
    e0, alpha = np.array([RNMC_BEP.get(k, RNMC_BEP["other"]) for k in kinds]).reshape(-1, 2).T
    return bep_barrier(dG, e0, alpha)


def external_test(ensemble: BarrierEnsemble, bep: dict[str, tuple[float, float]], externals) -> dict:
    """Errors (eV) on external transition states (``external_barriers.ExternalBarrier``), each
    from its own dG; the target is max(barrier, dG, 0) as for the NEB labels."""
    mapped = [x for x in externals if x.reaction is not None]
    if not mapped:
        return {"n": 0}
    dG = np.array([x.dG for x in mapped])
    y = np.maximum(np.maximum([x.barrier for x in mapped], dG), 0.0)
    kinds = [x.reaction.kind for x in mapped]
    pred = ensemble.predict([x.reaction for x in mapped], dG)
    return {"n": len(mapped), "n_unmapped": len(externals) - len(mapped),
            "model": regression_report(pred.mean - y, pred.sigma),
            "bep_fitted": regression_report(bep_predict(bep, kinds, dG) - y),
            "bep_default": regression_report(default_bep_predict(kinds, dG) - y),
            "rows": [{"name": x.name, "kind": k, "dG": float(d), "dft": float(t), "model": float(m),
                      "sigma": float(sg)} for x, k, d, t, m, sg in zip(mapped, kinds, dG, y, pred.mean, pred.sigma)]}


def _arrays(examples: Sequence[BarrierExample], architecture: str = "cgr") -> tuple:
    """(prepared reactions of ``architecture``, dG, target, kinds, classes) of the examples (eV)."""
    kinds = [e.reaction.kind for e in examples]
    return (prepare([e.reaction for e in examples], architecture, {}), np.array([e.dG for e in examples]),
            np.array([e.target for e in examples]), kinds, [reaction_class(k) for k in kinds])


def cross_validate(examples: Sequence[BarrierExample], folds: int = 5, n_members: int = 3,
                   config: BarrierTrainConfig = BarrierTrainConfig(), seed: int = 0, device: str = "auto",
                   arrays: tuple | None = None) -> dict:
    """K-fold cross-validated MAE (eV) of the model and both baselines over every example, overall,
    per class and on the 'ok' (transition state) examples alone: with a few hundred labels a single
    15 % test part is too small to rank methods. A fifth of each training part early-stops.
    ``arrays``: ``_arrays(examples)`` when the caller has them already."""
    graphs, dG, y, kinds, classes = arrays or _arrays(examples, config.architecture)
    classes = np.asarray(classes)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(examples))
    pred = {"model": np.zeros(len(y)), "bep_fitted": np.zeros(len(y)), "bep_default": default_bep_predict(kinds, dG)}
    for test in np.array_split(order, folds):
        rest = rng.permutation(np.setdiff1d(order, test))
        n_val = max(1, len(rest) // 5)
        ens = BarrierEnsemble.train(graphs, dG, y, rest[n_val:], rest[:n_val], "cv", n_members, config, seed, device)
        pred["model"][test] = ens.predict_graphs(take(graphs, test), dG[test]).mean
        bep = fit_bep(classes[rest].tolist(), dG[rest], y[rest])
        pred["bep_fitted"][test] = bep_predict(bep, [kinds[i] for i in test], dG[test])
    ok = np.array([e.status == "ok" for e in examples])
    groups = {"all": np.ones(len(y), bool), "ok (transition states)": ok,
              **{f"class {c}": classes == c for c in sorted(set(classes))}}
    return {"folds": folds, "members": n_members,
            "mae": {g: {"n": int(m.sum()), **{k: float(np.abs(p[m] - y[m]).mean()) for k, p in pred.items()}}
                    for g, m in groups.items() if m.any()}}


def fit_barrier_surrogate(dataset_paths: Sequence[str | Path], split: str = "random", n_members: int = 5,
                          config: BarrierTrainConfig = BarrierTrainConfig(), seed: int = 0,
                          device: str = "auto", externals=(), cv_folds: int = 0,
                          domain: Sequence[str] | None = None,
                          lowest_of: Sequence[str | Path] = ()) -> tuple[BarrierEnsemble, dict]:
    """Train, calibrate and test a barrier ensemble; returns it and its report (eV). With
    ``cv_folds`` > 1 the report also holds ``cross_validate`` over all examples (3 members).
    ``lowest_of``: repeat runs whose lower saddle replaces a dataset's (``load_barrier_dataset``),
    recorded in the card as ``repeats``.
    ``domain``: the reaction classes the model is to be used for (``score.in_barrier_domain``;
    default every trained class), recorded in the card as ``domain_classes``: a class where it
    measured no better than BEP can train it and still be left to BEP."""
    examples: list[BarrierExample] = load_barrier_dataset(dataset_paths, lowest_of)
    arrays = _arrays(examples, config.architecture)
    graphs, dG, y, kinds, classes = arrays
    trained = sorted(set(classes))
    if domain is not None and (not domain or set(domain) - set(trained)):
        raise ValueError(f"domain {', '.join(domain) or '(none)'} is not valid; give classes the labels hold: "
                         f"{', '.join(trained)}")
    parts = split_examples(examples, split, seed)
    levels = sorted({e.record.get("level_of_theory", "") for e in examples})
    ensemble = BarrierEnsemble.train(graphs, dG, y, parts["train"], parts["val"], "; ".join(levels), n_members,
                                     config, seed, device)
    cal, test = parts["calibration"], parts["test"]
    ensemble.calibrate(ensemble.predict_graphs(take(graphs, cal), dG[cal]), y[cal])
    pred = ensemble.predict_graphs(take(graphs, test), dG[test])
    fit_on = np.concatenate([parts["train"], parts["val"]])
    bep = fit_bep([classes[i] for i in fit_on], dG[fit_on], y[fit_on])
    test_kinds = [kinds[i] for i in test]
    model_err = pred.mean - y[test]
    bep_err = bep_predict(bep, test_kinds, dG[test]) - y[test]
    default_err = default_bep_predict(test_kinds, dG[test]) - y[test]
    by_class = {}
    for cls in sorted(set(classes[i] for i in test)):
        mask = np.array([classes[i] == cls for i in test])
        by_class[cls] = {"n": int(mask.sum()), "model_mae": float(np.abs(model_err[mask]).mean()),
                         "bep_mae": float(np.abs(bep_err[mask]).mean())}
    report = {
        "split": split, "seed": seed, "n_examples": len(examples),
        "sizes": {k: int(len(v)) for k, v in parts.items()},
        "statuses": {s: int(sum(e.status == s for e in examples)) for s in ("ok", "barrierless")},
        "test": {"model": regression_report(model_err, pred.sigma),
                 "bep_fitted": regression_report(bep_err), "bep_default": regression_report(default_err)},
        "test_by_class": by_class, "bep_fitted_params": {k: list(v) for k, v in bep.items()},
        "mae_reduction_vs_bep": float(1 - np.abs(model_err).mean() / max(np.abs(bep_err).mean(), 1e-12)),
    }
    if externals:
        report["external"] = external_test(ensemble, bep, externals)
    if cv_folds > 1:
        report["cross_validation"] = cross_validate(examples, cv_folds, 3, config, seed, device, arrays)
    ensemble.card.update(report=report, datasets=[str(p) for p in dataset_paths],
                         repeats=[str(p) for p in lowest_of], trained_classes=trained,
                         domain_classes=sorted(set(domain)) if domain is not None else trained)
    return ensemble, report
