"""How well each form of an energy ensemble's reaction uncertainty covers the reaction errors.

Three forms of the uncertainty of a reaction dG, all member-wise:
- raw members: the spread of the member dGs (what a scored network stored before 2026-11-22);
- reaction map: that spread plus the aleatoric part, recalibrated by an isotonic map fitted on
  calibration reactions (the model card's 'reactions' and 'reactions_labels_kept' rows);
- calibrated members: the spread of the member dGs over ``EnsemblePrediction.calibrated_members``
  (what ``sei-net score`` stores now, and what path and product probabilities read).

On the model's own random split (re-splits of the held-out species into calibration and test
parts, maps refitted each time; medians) and, with --unseen-labels, on the species of a label file
the model never saw, with the labelled reactions of --unseen-network that touch them.

    python examples/member_calibration.py sei_net/data/models/energy_gfn2.pt \\
        --unseen-labels data/labels/gfn2_ec_vc_lipf6.jsonl.gz --unseen-network out/labelling/ec_vc_lipf6.db

The networks named in the card must exist (``sei-net build``). eV against the model's oracle.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from sei_net.learn import metrics
from sei_net.learn.dataset import load_labels
from sei_net.learn.ensemble import EnsemblePrediction, reaction_uncertainty
from sei_net.learn.evaluate import calibration_maps, labelled_reactions, labels_kept, reactions_touching
from sei_net.learn.fit import model_on_its_split, seen_keys

FIGURES = ("coverage_95", "miscalibration_area", "spearman", "nll")


def forms(raw: EnsemblePrediction, maps: dict, G: np.ndarray, test: np.ndarray, stoich) -> dict[str, dict]:
    """Reaction figures of every (mode, form) on the reactions of ``stoich`` touching ``test``."""
    rows = stoich[reactions_touching(stoich, test)]
    target = np.asarray(rows @ G)
    calibrated = EnsemblePrediction(raw.members, raw.member_variance, maps["species"])
    spread = EnsemblePrediction(calibrated.calibrated_members, np.zeros_like(raw.member_variance))
    no_aleatoric = EnsemblePrediction(raw.members, np.zeros_like(raw.member_variance))
    out = {}
    for mode, kept, map_kind in (("labels kept", True, "reaction_labels_kept"), ("all predicted", False, "reaction")):
        def view(p):
            return labels_kept(p, G, test) if kept else p
        for form, pred, cal in (("raw members", view(no_aleatoric), None),
                                ("reaction map", view(raw), maps[map_kind]),
                                ("calibrated members", view(spread), None)):
            r = reaction_uncertainty(rows, pred, cal)
            out[f"{mode}, {form}"] = metrics.regression_report(r.mean - target, np.maximum(r.sigma, 1e-12))
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt) with a random-split card")
    parser.add_argument("--draws", type=int, default=50, help="random re-splits of the held-out species")
    parser.add_argument("--unseen-labels", help="label file of species the model never saw")
    parser.add_argument("--unseen-network", help="network whose labelled reactions touch them")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)
    model, data, parts, stoich, pred = model_on_its_split(args.model)
    raw = EnsemblePrediction(pred.members, pred.member_variance)
    pool = np.concatenate([parts["cal"], parts["test"]])
    rng = np.random.default_rng(0)
    runs: dict[str, list[dict]] = {}
    for _ in range(args.draws):
        order = rng.permutation(pool)
        cal, test = order[:len(parts["cal"])], order[len(parts["cal"]):]
        maps, _ = calibration_maps(raw, data.G, cal, test, stoich)
        for what, m in forms(raw, maps, data.G, test, stoich).items():
            runs.setdefault(what, []).append(m)
    result = {"own split": {what: {k: float(np.median([m[k] for m in ms])) for k in FIGURES}
                            for what, ms in runs.items()}, "draws": args.draws}
    if args.unseen_labels and args.unseen_network:
        seen = seen_keys(data, parts, model.card)
        every = load_labels(list(model.card["labels"]) + [args.unseen_labels], coordination="rekey")
        chosen = set(load_labels([args.unseen_labels], coordination="rekey").keys)
        test = np.flatnonzero([k not in seen and k in chosen for k in every.keys])
        unseen_stoich = labelled_reactions([args.unseen_network], every.keys).tocsr()
        p = model.predict(every.species)
        result["unseen"] = {what: {k: m[k] for k in FIGURES} for what, m in
                            forms(EnsemblePrediction(p.members, p.member_variance), model.calibration,
                                  every.G, test, unseen_stoich).items()}
        result["unseen species"] = int(len(test))
    lines = ["| test | reactions, uncertainty from | 95 % coverage | miscal. area | Spearman | NLL |",
             "|---|---|---|---|---|---|"]
    for test_set in ("own split", "unseen"):
        for what, m in result.get(test_set, {}).items():
            lines.append(f"| {test_set} | {what} | " + " | ".join(f"{m[k]:.3f}" for k in FIGURES) + " |")
    print("\n".join(lines))
    if args.out:
        with open(args.out + ".md", "w") as fh:
            fh.write(f"# Reaction uncertainty forms of {args.model}\n\n`python examples/member_calibration.py "
                     f"{args.model}`; own split: medians over {args.draws} re-splits of the held-out species"
                     + (f"; unseen: {result['unseen species']} species of {args.unseen_labels}" if "unseen" in result
                        else "") + ". eV against the oracle.\n\n" + "\n".join(lines) + "\n")
        with open(args.out + ".json", "w") as fh:
            json.dump(result, fh, indent=1)
    return result


if __name__ == "__main__":
    main()
