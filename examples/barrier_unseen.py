"""A barrier model on NEB labels of reactions it never trained on, against the BEP fitted on its own labels.

The model's card names its training datasets and repeats; every usable label of FILES whose
reaction (either direction) is in none of them is a test reaction. For each: the model's barrier (clipped Marcus
with its lambda, from the label's own dG), the per-class BEP the card fitted on the model's
training part (``bep_fitted_params``) and the RNMC-like literature defaults. Mean absolute errors
per class, per label status (transition state or barrierless) and over the model's domain classes,
with the model's 95 % interval coverage (its calibrated sigma).

    python examples/barrier_unseen.py data/barriers/gfn2_neb_ec_dmc_lipf6_gen4*.jsonl.gz \
        --out docs/results/barrier_unseen_dmc4

eV; labels and model at GFN2-xTB CI-NEB free-energy barriers (``data/barriers/README.md``).
"""

from __future__ import annotations

import argparse

import numpy as np

from sei_net.io.results import publish
from sei_net.learn.barrier_data import load_barrier_dataset
from sei_net.learn.barrier_fit import bep_predict, default_bep_predict
from sei_net.learn.reaction_graph import reaction_class
from sei_net.learn.score import load_barrier_model


def unseen_examples(files: list[str], trained_on: list[str], repeats: list[str] = ()) -> list:
    """Usable examples of ``files`` whose reaction, in either direction, no training file holds,
    nor a repeat run the model was trained on (the card's ``repeats``: one can label a reaction its
    file left failed)."""
    seen = set()
    for example in load_barrier_dataset(trained_on, lowest_of=repeats):
        seen.update((example.reaction.key, example.reaction.reversed().key))
    return [e for e in load_barrier_dataset(files) if e.reaction.key not in seen]


def compare(model, examples: list) -> dict:
    """MAE (eV) of the model and both BEP baselines per group of ``examples``, with the model's
    95 % coverage; the fitted BEP is the card's."""
    dG = np.array([e.dG for e in examples])
    y = np.array([e.target for e in examples])
    kinds = [e.reaction.kind for e in examples]
    classes = np.array([reaction_class(k) for k in kinds])
    prediction = model.predict([e.reaction for e in examples], dG)
    params = {k: tuple(v) for k, v in model.card["report"]["bep_fitted_params"].items()}
    errors = {"model": prediction.mean - y, "bep_fitted": bep_predict(params, kinds, dG) - y,
              "bep_default": default_bep_predict(kinds, dG) - y}
    status = np.array([e.status for e in examples])
    domain = model.domain_classes or sorted(set(classes))
    groups = {"all": np.ones(len(y), bool), "model's domain (" + ", ".join(domain) + ")": np.isin(classes, domain),
              "transition states": status == "ok", "barrierless": status == "barrierless",
              **{f"class {c}": classes == c for c in sorted(set(classes))}}
    covered = np.abs(errors["model"]) <= 1.96 * prediction.sigma
    out = {}
    for name, mask in groups.items():
        if mask.any():
            row = {"n": int(mask.sum()), **{k: float(np.abs(e[mask]).mean()) for k, e in errors.items()},
                   "coverage_95": float(covered[mask].mean())}
            row["below_fitted_bep"] = 1.0 - row["model"] / row["bep_fitted"] if row["bep_fitted"] > 0 else float("nan")
            out[name] = row
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="barrier datasets (.jsonl.gz) from sei-net neb")
    parser.add_argument("--model", default="default", help="barrier model (.pt); default: the shipped one")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)
    model = load_barrier_model(args.model)
    trained_on = model.card.get("datasets", [])
    examples = unseen_examples(args.files, trained_on, model.card.get("repeats", []))
    if not examples:
        raise SystemExit(f"no usable label of {', '.join(args.files)} is outside the model's training files")
    result = {"model": args.model, "files": args.files, "trained_on": trained_on, "groups": compare(model, examples)}
    lines = [f"Barrier model `{args.model}` on {len(examples)} usable NEB labels of reactions in none of its "
             f"training files ({', '.join(args.files)}). MAE in eV against GFN2 CI-NEB; fitted BEP: the card's, "
             "fitted on the model's training part; default BEP: RNMC-like literature values.", "",
             "| group | n | model | fitted BEP | default BEP | model below fitted BEP | model 95 % coverage |",
             "|---|---|---|---|---|---|---|"]
    for name, row in result["groups"].items():
        lines.append(f"| {name} | {row['n']} | {row['model']:.3f} | {row['bep_fitted']:.3f} | "
                     f"{row['bep_default']:.3f} | {row['below_fitted_bep']:.0%} | {row['coverage_95']:.2f} |")
    publish(lines, result, args.out)
    return result


if __name__ == "__main__":
    main()
