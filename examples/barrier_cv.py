"""Cross-validated barrier surrogate against the BEP baselines, on the committed NEB labels.

``sei_net.learn.barrier_fit.cross_validate`` over every usable label of the GFN2 CI-NEB files
(``data/barriers/``, loaded in data-card order so later files win shared reactions; by default the
files the shipped barrier model lists in its card): K folds, each
trained as an ensemble (3 members by default) with a fifth of its training part for early
stopping; the per-class BEP refitted on the same training folds ("fitted BEP") and the shipped
defaults (``kinetics.rates.DEFAULT_BEP``). Prints a Markdown table of the MAE (eV, against GFN2
CI-NEB) overall, on transition states and per class, and writes it as JSON with ``--json``.

    python examples/barrier_cv.py --seed 0     # about 25 min on one core for 1,600 labels
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from sei_net.learn.barrier_data import load_barrier_dataset
from sei_net.learn.barrier_ensemble import BarrierTrainConfig
from sei_net.learn.barrier_fit import cross_validate
from sei_net.learn.score import load_barrier_model


def table(result: dict) -> str:
    """The cross-validation MAE table (eV) with the model's gain over the fitted BEP."""
    rows = ["| group | n | model | fitted BEP | default BEP | model vs fitted BEP |", "|---|---|---|---|---|---|"]
    for group, r in result["mae"].items():
        gain = 1.0 - r["model"] / r["bep_fitted"]
        rows.append(f"| {group} | {r['n']:,} | {r['model']:.3f} | {r['bep_fitted']:.3f} | {r['bep_default']:.3f} "
                    f"| {abs(gain):.0%} {'below' if gain >= 0 else 'above'} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="barrier datasets in data-card order (default: those the "
                        "shipped barrier model was trained on, with its repeats, as its card lists them)")
    parser.add_argument("--seed", type=int, default=0, help="fold draw and first member seed")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--lowest-of", action="append", default=[], help="repeat run of the same reactions "
                        "(data/barriers/repeats/): keep the lower of the two barriers (repeatable)")
    parser.add_argument("--architecture", default="cgr", help="cgr (default) or species_embedding")
    parser.add_argument("--json", help="write the result here too")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if not args.files:
        card = load_barrier_model("default", "cpu").card
        args.files, args.lowest_of = card["datasets"], args.lowest_of or card.get("repeats", [])
    examples = load_barrier_dataset(args.files, lowest_of=args.lowest_of)
    start = time.perf_counter()
    result = cross_validate(examples, args.folds, args.members, BarrierTrainConfig(architecture=args.architecture),
                            args.seed, "cpu")
    result.update(seconds=round(time.perf_counter() - start, 1), seed=args.seed, files=list(args.files),
                  lowest_of=args.lowest_of, architecture=args.architecture)
    print(f"{len(examples):,} labels, {args.folds}-fold CV (seed {args.seed}, {args.members} members, "
          f"{args.architecture} architecture), "
          f"MAE in eV against GFN2 CI-NEB, {result['seconds']:.0f} s\n")
    print(table(result))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
