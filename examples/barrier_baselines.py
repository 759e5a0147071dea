"""Closed-form barrier baselines under the barrier surrogate's cross-validation folds.

Per reaction class, on the GFN2 CI-NEB labels (``data/barriers/``; eV): Bell-Evans-Polanyi
max(0, dG, E0 + alpha*dG) and clipped Marcus (lambda/4)(1 + dG/lambda)^2 (the surrogate's own form
with one lambda per class), each fitted on the training folds by least absolute error and by
least squares. The folds are those of ``sei_net.learn.barrier_fit.cross_validate`` (5 folds,
seed 0), so the figures sit beside its model column in docs/surrogates.md.

    python examples/barrier_baselines.py      # seconds; prints a Markdown table
"""

from __future__ import annotations

import numpy as np

from sei_net.kinetics.rates import bep_barrier, clipped_marcus_barrier
from sei_net.learn.barrier_data import load_barrier_dataset
from sei_net.learn.barrier_fit import _ALPHA_GRID, _E0_GRID
from sei_net.learn.barrier_model import fit_lambda
from sei_net.learn.reaction_graph import reaction_class

DATASET = "data/barriers/gfn2_neb_ec_lipf6.jsonl.gz"


def fit(form: str, loss: str, dG: np.ndarray, y: np.ndarray) -> tuple:
    """Grid-fitted parameters of one class: (E0, alpha) for BEP, (lambda,) for Marcus."""
    if form == "marcus":
        return (fit_lambda(dG, y, 1 if loss == "abs" else 2),)
    pred = bep_barrier(dG[None, None, :], _E0_GRID[:, None, None], _ALPHA_GRID[None, :, None])
    err = np.abs(pred - y) if loss == "abs" else (pred - y) ** 2
    best = np.unravel_index(np.argmin(err.mean(axis=-1)), err.shape[:-1])
    return float(_E0_GRID[best[0]]), float(_ALPHA_GRID[best[1]])


def main() -> None:
    examples = load_barrier_dataset([DATASET])
    classes = np.array([reaction_class(e.reaction.kind) for e in examples])
    dG, y = np.array([e.dG for e in examples]), np.array([e.target for e in examples])
    rng = np.random.default_rng(0)                        # the draws of cross_validate(seed=0)
    order = rng.permutation(len(y))
    variants = [(form, loss) for form in ("bep", "marcus") for loss in ("abs", "squares")]
    pred = {v: np.zeros(len(y)) for v in variants}
    for test in np.array_split(order, 5):
        rest = rng.permutation(np.setdiff1d(order, test))
        for form, loss in variants:
            for cls in set(classes[test]):
                train, where = rest[classes[rest] == cls], test[classes[test] == cls]
                params = fit(form, loss, dG[train], y[train]) if len(train) else ((0.0, 0.0) if form == "bep" else (1e-3,))
                form_of = bep_barrier if form == "bep" else clipped_marcus_barrier
                pred[(form, loss)][where] = form_of(dG[where], *params)
    names = sorted(set(classes))
    print(f"{len(y)} labels ({DATASET}); 5-fold CV MAE (RMSE) in eV\n")
    print("| baseline | fitted by | all | " + " | ".join(names) + " |")
    print("|---|---|---|" + "---|" * len(names))
    for (form, loss), p in pred.items():
        e = p - y
        print(f"| {'BEP' if form == 'bep' else 'clipped Marcus'} per class | least {'absolute error' if loss == 'abs' else 'squares'} "
              f"| {np.abs(e).mean():.3f} ({np.sqrt(np.mean(e ** 2)):.3f}) | "
              + " | ".join(f"{np.abs(e[classes == c]).mean():.3f}" for c in names) + " |")


if __name__ == "__main__":
    main()
