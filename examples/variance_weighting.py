"""How well each part of an energy ensemble's variance ranks its errors, and what weighting them would do.

For the model's calibration and test species (rebuilt from its card) and, with --unseen, the
species of other label files that the model never trained, validated or calibrated on: Spearman
(|error|, sigma^2) for the epistemic part, the aleatoric part and w * epistemic + aleatoric over a
grid of w (w = 1 is the shipped total), and the Gaussian NLL of the calibration part with the
two scales fitted by maximum likelihood (which w a proper score prefers).

    python examples/variance_weighting.py sei_net/data/models/energy_gfn2.pt \
        --unseen data/labels/gfn2_ec_vc_lipf6_gen4.jsonl.gz data/labels/gfn2_ec_dmc_lipf6_gen4.jsonl.gz \
        --out docs/results/variance_weighting

Errors are surrogate minus oracle (GFN2-xTB, eV); variances uncalibrated (eV^2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from sei_net.io.results import publish
from sei_net.learn.dataset import load_labels
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.fit import seen_keys, split_of_card
from sei_net.learn.metrics import gaussian_nll, mae, spearman_error_sigma

WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def ranking(error: np.ndarray, epistemic: np.ndarray, aleatoric: np.ndarray) -> dict:
    """Spearman(|error|, sigma) for each part and each weighting in WEIGHTS."""
    out = {"n": int(len(error)), "mae": mae(error),
           "epistemic": spearman_error_sigma(error, np.sqrt(epistemic)),
           "aleatoric": spearman_error_sigma(error, np.sqrt(aleatoric))}
    for w in WEIGHTS[1:]:
        out[f"w={w:g}"] = spearman_error_sigma(error, np.sqrt(w * epistemic + aleatoric))
    return out


def likelihood_weight(error: np.ndarray, epistemic: np.ndarray, aleatoric: np.ndarray) -> dict:
    """Scales a, b of a * epistemic + b * aleatoric that minimise the Gaussian NLL of ``error``."""
    def nll(x):
        return gaussian_nll(error, np.sqrt(np.exp(x[0]) * epistemic + np.exp(x[1]) * aleatoric))
    fit = minimize(nll, [0.0, 0.0], method="Nelder-Mead")
    common = minimize(lambda s: nll([s[0], s[0]]), [0.0], method="Nelder-Mead")
    a, b = np.exp(fit.x)
    return {"a": float(a), "b": float(b), "w": float(a / b), "nll_fitted": float(fit.fun),
            "nll_equal_scales_fitted": float(common.fun)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("--unseen", nargs="*", default=[], help="label files whose species the model has not seen")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args()

    model = EnergyEnsemble.load(args.model, device="cpu")
    data, parts = split_of_card(model.card)
    seen = seen_keys(data, parts, model.card)
    sets = {part: (data, parts[part]) for part in ("cal", "test")}
    for path in args.unseen:
        other = load_labels([path], coordination=model.card.get("coordination", "keep"))
        sets[f"unseen {Path(path).name}"] = (other, np.array([i for i, k in enumerate(other.keys) if k not in seen]))
    report = {"model": args.model, "rows": {}}
    for name, (labels, index) in sets.items():
        prediction = model.predict([labels.species[i] for i in index])
        error = prediction.mean - labels.G[index]
        report["rows"][name] = ranking(error, prediction.epistemic, prediction.aleatoric)
        if name == "cal":
            report["likelihood_fit_on_cal"] = likelihood_weight(error, prediction.epistemic, prediction.aleatoric)

    columns = ["epistemic", "aleatoric"] + [f"w={w:g}" for w in WEIGHTS[1:]]
    lines = [f"Spearman(|error|, variance) of {args.model}; w * epistemic + aleatoric (w=1: the shipped total)", "",
             "| species | n | MAE eV | " + " | ".join(columns) + " |", "|---" * (len(columns) + 3) + "|"]
    for name, row in report["rows"].items():
        cells = " | ".join(f"{row[c]:.3f}" for c in columns)
        lines.append(f"| {name} | {row['n']} | {row['mae']:.3f} | {cells} |")
    fit = report["likelihood_fit_on_cal"]
    lines += ["", f"Maximum-likelihood scales on the calibration part: a = {fit['a']:.2f} (epistemic), "
                  f"b = {fit['b']:.2f} (aleatoric), w = a/b = {fit['w']:.2f}; NLL {fit['nll_fitted']:.3f} "
                  f"against {fit['nll_equal_scales_fitted']:.3f} with one common scale."]
    publish(lines, report, args.out)


if __name__ == "__main__":
    main()
