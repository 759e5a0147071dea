"""How well an energy model's sigma ranks its errors, against what calibrated errors would score.

Spearman(|error|, sigma) depends on how much sigma varies, not only on how good it is: errors drawn
exactly from N(0, sigma^2) score ``metrics.spearman_reference`` (near 0 for alike sigma). For each
model this rebuilds its split from the card, leaves the species of at most
``constants.ORACLE_MAX_HEAVY`` heavy atoms out of calibration and test (the main job labels those
with the oracle), and measures per row (species; reactions with every species predicted, with
labels kept, and as scored) the Spearman and its calibrated reference: medians [5th, 95th
percentile] of re-splits of the held-out species (maps refitted each time, as the card's
``test_resampled``) for a random split, one draw for a size split. eV against the model's oracle.
The species map reads the sum of the two variance parts, as training fits it; ``--blend`` fits it
on their likelihood-fitted blend (``evaluate.calibration_maps``).

    python examples/spearman_reference.py MODEL.pt [MODEL.pt ...] [--blend] --out docs/results/NAME

The networks named in the cards must exist (``sei-net build``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.io.results import publish
from sei_net.learn.evaluate import EVALUATION_ROWS as ROWS, calibration_maps, evaluate, resampled_held_out
from sei_net.learn.fit import model_on_its_split, without_small

FIGURES = ("spearman", "spearman_reference", "miscalibration_area", "coverage_95", "nll")


def measure(path: str, draws: int, blend: bool = False) -> tuple[str, dict]:
    """The model's split and, per row and figure, {median, p05, p95} (random split) or {median}
    (one draw)."""
    model, data, parts, stoich, prediction = model_on_its_split(path)
    parts = without_small(parts, data.n_heavy, ORACLE_MAX_HEAVY)
    split = model.card.get("split")
    if split == "random":
        metrics = resampled_held_out(model, data, parts, stoich, draws, 0, prediction, blend)["metrics"]
        return split, {row: {f: metrics[row][f] for f in FIGURES} for row in ROWS}
    maps, _ = calibration_maps(prediction, data.G, parts["cal"], parts["test"], stoich, blend)
    report = evaluate(model, data, parts["test"], stoich, prediction, maps)
    return split, {row: {f: {"median": report[row][f]} for f in FIGURES} for row in ROWS}


def cell(figure: dict) -> str:
    if "p05" in figure:
        return f"{figure['median']:.2f} [{figure['p05']:.2f}, {figure['p95']:.2f}]"
    return f"{figure['median']:.2f}"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="energy model files (.pt)")
    parser.add_argument("--draws", type=int, default=100, help="re-splits for a random-split model")
    parser.add_argument("--blend", action="store_true", help="species map on the blend of the variance parts")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)
    results = {}
    lines = [f"Held-out species of more than {ORACLE_MAX_HEAVY} heavy atoms. Measured Spearman(|error|, sigma) "
             "and the value errors drawn exactly from N(0, sigma^2) would score with the same sigma "
             f"(`metrics.spearman_reference`); random splits: median [5th, 95th percentile] of {args.draws} "
             "re-splits, size splits: one draw. eV against the oracle. Species map on the "
             + ("likelihood-fitted blend" if args.blend else "sum") + " of the two variance parts.", "",
             "| model | split | " + " | ".join(f"{row}: measured / if calibrated" for row in ROWS) + " |",
             "|---|---|" + "---|" * len(ROWS)]
    for path in args.models:
        split, results[path] = measure(path, args.draws, args.blend)
        lines.append(f"| `{Path(path).name}` | {split} | " + " | ".join(
            f"{cell(results[path][row]['spearman'])} / {cell(results[path][row]['spearman_reference'])}"
            for row in ROWS) + " |")
        print(lines[-1], flush=True)
    lines += ["", "Calibration of the same rows (median over the re-splits): miscalibration area / 95 % coverage / "
              "Gaussian NLL.", "", "| model | " + " | ".join(ROWS) + " |", "|---|" + "---|" * len(ROWS)]
    for path, rows in results.items():
        lines.append(f"| `{Path(path).name}` | " + " | ".join(
            " / ".join(f"{rows[row][f]['median']:.3f}" for f in ("miscalibration_area", "coverage_95", "nll"))
            for row in ROWS) + " |")
    publish(lines, {"draws": args.draws, "blend": args.blend, "oracle_max_heavy": ORACLE_MAX_HEAVY,
                    "models": results}, args.out)
    return results


if __name__ == "__main__":
    main()
