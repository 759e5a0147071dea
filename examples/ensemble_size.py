"""How an energy ensemble's held-out figures change with its number of members.

For every subset of k of a random-split model's members (k = 2 .. M), the subset is treated as an
ensemble of its own: over random re-splits of the held-out species into calibration and test halves
(maps refitted each time, as the card's ``test_resampled``), with the species of at most
``constants.ORACLE_MAX_HEAVY`` heavy atoms out of both halves (the main job labels those with the
oracle), it measures MAE, 95 % coverage, miscalibration area and Spearman(|error|, sigma), with
what errors drawn exactly from N(0, sigma^2) would score (``metrics.spearman_reference``). The table
gives, per k, the median over the subsets of each subset's median over the re-splits. With five
members the epistemic variance is an estimate from five numbers, so its ranking of the errors is
noisy; this says how much ranking and calibration still move with k, which a larger ensemble would
have to be trained to confirm. eV against the model's oracle. With many members, ``--max-subsets``
caps the subsets per k (drawn at random, seed 0; the table says how many were measured).

    python examples/ensemble_size.py out/models/energy_pinned3.pt --out docs/results/NAME

The networks named in the card must exist (``sei-net build``).
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np

from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.io.results import publish
from sei_net.learn.ensemble import EnsemblePrediction
from sei_net.learn.evaluate import EVALUATION_ROWS as ROWS, resampled_held_out
from sei_net.learn.fit import model_on_its_split, without_small

METRICS = (("mae", "MAE", "{:.3f}"), ("coverage_95", "95 % coverage", "{:.3f}"),
           ("miscalibration_area", "miscal. area", "{:.3f}"), ("spearman", "Spearman", "{:.2f}"),
           ("spearman_reference", "Spearman if calibrated (errors drawn from N(0, sigma^2))", "{:.2f}"))


def subset_prediction(prediction: EnsemblePrediction, members: tuple[int, ...]) -> EnsemblePrediction:
    """The prediction of the ensemble made of ``members`` alone (uncalibrated)."""
    idx = list(members)
    return EnsemblePrediction(prediction.members[:, idx], prediction.member_variance[:, idx])


def member_subsets(M: int, k: int, cap: int, rng: np.random.Generator) -> list[tuple[int, ...]]:
    """Every k-member subset of M members, or ``cap`` distinct ones drawn at random when there
    are more (``cap`` <= 0: all)."""
    every = list(itertools.combinations(range(M), k))
    if cap <= 0 or len(every) <= cap:
        return every
    return [every[i] for i in sorted(rng.choice(len(every), size=cap, replace=False))]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt) with a random-split card")
    parser.add_argument("--draws", type=int, default=20, help="re-splits per member subset")
    parser.add_argument("--max-subsets", type=int, default=0,
                        help="measure at most this many k-member subsets per k, drawn at random (0: all)")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)
    model, data, parts, stoich, prediction = model_on_its_split(args.model)
    parts = without_small(parts, data.n_heavy, ORACLE_MAX_HEAVY)
    M = prediction.members.shape[1]
    by_k: dict[int, dict] = {}
    rng = np.random.default_rng(0)
    for k in range(2, M + 1):
        runs = [resampled_held_out(model, data, parts, stoich, args.draws, 0, subset_prediction(prediction, s))
                for s in member_subsets(M, k, args.max_subsets, rng)]
        medians = {row: {m: [r["metrics"][row][m]["median"] for r in runs] for m, _, _ in METRICS} for row in ROWS}
        by_k[k] = {"subsets": len(runs),
                   "median": {row: {m: float(np.median(v)) for m, v in ms.items()} for row, ms in medians.items()},
                   "range": {row: {m: [float(min(v)), float(max(v))] for m, v in ms.items()}
                             for row, ms in medians.items()}}
        print(f"k={k}: " + ", ".join(f"{row} Spearman {by_k[k]['median'][row]['spearman']:.3f}" for row in ROWS))
    lines = [f"Model `{args.model}`, held-out species of more than {ORACLE_MAX_HEAVY} heavy atoms: per number "
             f"of members k, the median over every k-member subset of its median over {args.draws} re-splits "
             "(maps refitted each time); [lowest, highest] subset in brackets. eV against the oracle.", ""]
    for key, name, fmt in METRICS:
        lines += [f"**{name}**", "", "| k | subsets | " + " | ".join(ROWS) + " |", "|---|---|" + "---|" * len(ROWS)]
        for k, v in by_k.items():
            cells = [f"{fmt.format(v['median'][row][key])} [{fmt.format(v['range'][row][key][0])}, "
                     f"{fmt.format(v['range'][row][key][1])}]" for row in ROWS]
            lines.append(f"| {k} | {v['subsets']} | " + " | ".join(cells) + " |")
        lines.append("")
    result = {"model": args.model, "draws": args.draws, "max_subsets": args.max_subsets,
              "oracle_max_heavy": ORACLE_MAX_HEAVY,
              "by_members": {str(k): v for k, v in by_k.items()}}
    publish(lines[:-1], result, args.out)
    return result


if __name__ == "__main__":
    main()
