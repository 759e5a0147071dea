"""An energy model's held-out figures when the small species are the oracle's.

The main job labels every species of at most ``constants.ORACLE_MAX_HEAVY`` heavy atoms with the
oracle (``energy.small_species``), so the surrogate is never asked for them. This rebuilds a
random-split model's split from its card and measures, over random re-splits of its held-out
species into calibration and test halves (maps refitted each time, as the card's
``test_resampled``), the figures with every held-out species and with the small ones left out of
both halves; and the labels-kept reaction MAE for other size limits. eV against the model's oracle.

    python examples/oracle_small_species.py sei_net/data/models/energy_gfn2.pt --out docs/results/NAME

The networks named in the card must exist (``sei-net build``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.learn.evaluate import EVALUATION_ROWS as ROWS, labels_kept, reactions_touching, resampled_held_out
from sei_net.learn.fit import model_on_its_split, without_small


def kept_mae_by_limit(prediction, data, parts, stoich, limits, draws: int = 100) -> dict[str, dict]:
    """Labels-kept reaction MAE (eV; median and 5th/95th percentiles over ``draws`` re-splits of the
    held-out species, the calibration half's size kept) with test species of more than each limit."""
    pool = np.concatenate([parts["cal"], parts["test"]])
    out = {}
    for limit in limits:
        rng, maes = np.random.default_rng(0), []
        for _ in range(draws):
            test = rng.permutation(pool)[len(parts["cal"]):]
            test = test[data.n_heavy[test] > limit]
            reactions = stoich[reactions_touching(stoich, test)]
            maes.append(float(np.abs(reactions @ (labels_kept(prediction, data.G, test).mean - data.G)).mean()))
        out[str(limit)] = {"median": float(np.median(maes)), "p05": float(np.percentile(maes, 5)),
                           "p95": float(np.percentile(maes, 95))}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt) with a random-split card")
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)
    model, data, parts, stoich, prediction = model_on_its_split(args.model)
    result = {"model": args.model, "draws": args.draws, "oracle_max_heavy": ORACLE_MAX_HEAVY, "resampled": {}}
    lines = [f"Model `{args.model}`: {args.draws} re-splits of its held-out species, median [5th, 95th "
             "percentile], eV against the oracle.", "",
             "| held-out species | what | n | MAE | 95 % coverage | miscal. area | Spearman |",
             "|---|---|---|---|---|---|---|"]
    for name, limit in (("all", None), (f"more than {ORACLE_MAX_HEAVY} heavy atoms", ORACLE_MAX_HEAVY)):
        r = resampled_held_out(model, data, without_small(parts, data.n_heavy, limit), stoich, args.draws, 0,
                               prediction)
        result["resampled"][name] = r
        for what in ROWS:
            m = r["metrics"][what]
            lines.append(f"| {name} | {what} | {m['n']['median']:,.0f} | {m['mae']['median']:.3f} "
                         f"[{m['mae']['p05']:.3f}, {m['mae']['p95']:.3f}] | {m['coverage_95']['median']:.3f} "
                         f"| {m['miscalibration_area']['median']:.3f} | {m['spearman']['median']:.2f} |")
    by_limit = kept_mae_by_limit(prediction, data, parts, stoich, (0, 1, 2, 3, 4), args.draws)
    result["labels_kept_mae_by_limit"] = by_limit
    lines += ["", "Labels-kept reaction MAE with the test species of at most K heavy atoms left out (the "
              "calibration half is drawn as before, so these are not recalibrated):", "",
              "| K | MAE eV |", "|---|---|"]
    lines += [f"| {k} | {v['median']:.3f} [{v['p05']:.3f}, {v['p95']:.3f}] |" for k, v in by_limit.items()]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out + ".md").write_text(text + "\n")
        Path(args.out + ".json").write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
