"""Species recalibration on and off the training distribution: which map input, which calibration set.

For an energy model (its split rebuilt from the card) and a label file of a network it has not
seen (its species in none of the model's seen parts, more than ``ORACLE_MAX_HEAVY`` heavy atoms),
over random re-splits: the species map fitted on the model's own calibration species and read on
the sum of the variance parts, on their likelihood-fitted blend, or on the larger of the two
recalibrated variances; and the sum and the blend fitted on a mixed calibration set (the own
calibration species plus half of the unseen network's). Each is measured on the own test species
and on the (other half of the) unseen network's.

    python examples/calibration_off_distribution.py sei_net/data/models/energy_gfn2.pt \
        data/labels/gfn2_ec_vc_lipf6_gen4.jsonl.gz --out docs/results/calibration_off_distribution

Errors are surrogate minus oracle (GFN2-xTB, eV); the table gives medians over the re-splits.
"""

from __future__ import annotations

import argparse

import numpy as np

from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.io.results import publish
from sei_net.learn import metrics
from sei_net.learn.calibration import IsotonicVarianceMap
from sei_net.learn.ensemble import EnergyEnsemble, EnsemblePrediction
from sei_net.learn.fit import unseen_species
from sei_net.learn.novelty import calibration_threshold, network_novelty

FIGURES = ("spearman", "miscalibration_area", "coverage_95", "nll", "mean_sigma")


def parts_of(prediction: EnsemblePrediction, G: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epistemic and aleatoric variances (eV^2) and errors (eV)."""
    return prediction.epistemic, prediction.aleatoric, prediction.mean - G


def variance_rules(own: tuple, unseen: tuple, cal: np.ndarray, unseen_half: np.ndarray) -> dict:
    """Name -> function (epistemic, aleatoric) -> recalibrated variance, for each rule."""
    epi, ale, err = own
    summed = IsotonicVarianceMap.fit_parts(epi[cal], ale[cal], err[cal])
    blended = IsotonicVarianceMap.fit_parts(epi[cal], ale[cal], err[cal], blend=True)
    mixed = [np.concatenate([own[k][cal], unseen[k][unseen_half]]) for k in range(3)]
    mixed_sum = IsotonicVarianceMap.fit_parts(*mixed)
    mixed_blend = IsotonicVarianceMap.fit_parts(*mixed, blend=True)
    return {"sum": summed.recalibrate, "blend": blended.recalibrate,
            "larger of sum and blend": lambda e, a: np.maximum(summed.recalibrate(e, a), blended.recalibrate(e, a)),
            "sum, mixed calibration": mixed_sum.recalibrate, "blend, mixed calibration": mixed_blend.recalibrate}


def novelty_check(own: tuple, unseen: tuple, n_cal: int) -> dict:
    """How many species have an epistemic variance above the 90th percentile of the first
    ``n_cal`` own species (the model's calibration part), and the coverage of the sum map fitted
    on those on the unseen species above and below it."""
    epi, ale, err = own
    threshold = calibration_threshold(epi[:n_cal])
    summed = IsotonicVarianceMap.fit_parts(epi[:n_cal], ale[:n_cal], err[:n_cal])
    e, a, r = unseen
    covered = np.abs(r) <= 1.96 * np.sqrt(summed.recalibrate(e, a))
    above = e > threshold["epistemic_var_eV2"]
    return {"epistemic_p90_eV2": threshold["epistemic_var_eV2"],
            "own_test_fraction_above": network_novelty(epi[n_cal:], threshold)["fraction_above"],
            "unseen_fraction_above": network_novelty(e, threshold)["fraction_above"],
            "unseen_coverage_above": float(covered[above].mean()) if above.any() else float("nan"),
            "unseen_coverage_below": float(covered[~above].mean()) if (~above).any() else float("nan")}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("unseen", help="label file of a network the model has not seen")
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)

    model = EnergyEnsemble.load(args.model, device="cpu")
    data, split, other, index = unseen_species(model, [args.unseen])
    if len(index) < 20:
        raise SystemExit(f"{args.unseen}: {len(index)} unseen species of more than {ORACLE_MAX_HEAVY} heavy atoms; "
                         "give a label file of a network the model has not seen")
    held = np.concatenate([split["cal"], split["test"]])
    own = parts_of(model.predict([data.species[i] for i in held]), data.G[held])
    unseen = parts_of(model.predict([other.species[i] for i in index]), other.G[index])
    n_cal, n_unseen = len(split["cal"]), len(index)
    rng = np.random.default_rng(0)
    runs: dict[tuple[str, str], list[list[float]]] = {}
    for _ in range(args.draws):
        order, half = rng.permutation(len(held)), rng.permutation(n_unseen)
        cal, test = order[:n_cal], order[n_cal:]
        fit_half, test_half = half[:n_unseen // 2], half[n_unseen // 2:]
        for name, rule in variance_rules(own, unseen, cal, fit_half).items():
            for where, (e, a, r) in (("own test", [p[test] for p in own]),
                                     ("unseen network", [p[test_half] for p in unseen])):
                report = metrics.regression_report(r, np.sqrt(rule(e, a)))
                runs.setdefault((name, where), []).append([report[f] for f in FIGURES])
    novelty = novelty_check(own, unseen, n_cal)
    result = {"model": args.model, "unseen": args.unseen, "draws": args.draws, "n_own_test": len(held) - n_cal,
              "novelty": novelty,
              "n_unseen_test": n_unseen - n_unseen // 2,
              "rows": {f"{name} | {where}": dict(zip(FIGURES, np.median(v, axis=0).tolist()))
                       for (name, where), v in runs.items()}}
    lines = [f"`{args.model}`: species of its own held-out part and of `{args.unseen}` (unseen, more than "
             f"{ORACLE_MAX_HEAVY} heavy atoms); medians of {args.draws} re-splits, eV against the oracle.", "",
             "| species map | tested on | Spearman | miscal. area | 95 % coverage | NLL | mean sigma eV |",
             "|---|---|---|---|---|---|---|"]
    for key, row in result["rows"].items():
        name, where = key.split(" | ")
        lines.append(f"| {name} | {where} | {row['spearman']:.3f} | {row['miscalibration_area']:.3f} | "
                     f"{row['coverage_95']:.3f} | {row['nll']:.3f} | {row['mean_sigma']:.3f} |")
    lines += ["", f"Members' disagreement as a sign of novelty: {novelty['unseen_fraction_above']:.0%} of the unseen "
              f"species have an epistemic variance above the 90th percentile of the model's own calibration species "
              f"(10 % by construction there; {novelty['own_test_fraction_above']:.0%} of its own test species). "
              "95 % coverage with the sum map fitted on the calibration species, on the unseen species "
              "above / below it: "
              f"{novelty['unseen_coverage_above']:.3f} / {novelty['unseen_coverage_below']:.3f}."]
    publish(lines, result, args.out)
    return result


if __name__ == "__main__":
    main()
