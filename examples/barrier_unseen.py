"""A barrier model on NEB labels of reactions it never trained on, against the BEP fitted on its own labels.

The model's card names its training datasets and repeats; every usable label of FILES whose
reaction (either direction) is in none of them is a test reaction. For each: the model's barrier
(clipped Marcus with its lambda, from the label's own dG), the per-class BEP the card fitted on the
model's training part (``bep_fitted_params``) and the RNMC-like literature defaults. Mean absolute errors
per class, per label status (transition state or barrierless) and over the model's domain classes,
with the model's 95 % interval coverage (its calibrated sigma).

    python examples/barrier_unseen.py data/barriers/gfn2_neb_ec_dmc_lipf6_gen4*.jsonl.gz \
        --out docs/results/barrier_unseen_dmc4

Two candidate models side by side, on the reactions neither trained on (``--model`` repeated), with
``--test-part`` adding the first one's own held-out test part less what the others trained on:

    python examples/barrier_unseen.py --model NEW.pt --model default --test-part

eV; labels and model at GFN2-xTB CI-NEB free-energy barriers (``data/barriers/README.md``).
"""

from __future__ import annotations

import argparse

import numpy as np

from sei_net.io.results import publish
from sei_net.learn.barrier_data import load_barrier_dataset
from sei_net.learn.barrier_fit import bep_predict, default_bep_predict, split_examples
from sei_net.learn.reaction_graph import reaction_class
from sei_net.learn.score import load_barrier_model


def trained_keys(trained_on: list[str], repeats: list[str] = ()) -> set[str]:
    """Keys of the reactions, in both directions, of the training files and of the repeat runs
    trained on (the card's ``repeats``: one can label a reaction its file left failed)."""
    seen = set()
    for example in load_barrier_dataset(trained_on, lowest_of=repeats):
        seen.update((example.reaction.key, example.reaction.reversed().key))
    return seen


def unseen_examples(files: list[str], trained_on: list[str], repeats: list[str] = ()) -> list:
    """Usable examples of ``files`` whose reaction, in either direction, the model did not train on."""
    seen = trained_keys(trained_on, repeats)
    return [e for e in load_barrier_dataset(files) if e.reaction.key not in seen]


def seen_by(models) -> set[str]:
    """Keys of every reaction any of ``models`` trained on, as their cards name them."""
    return set().union(*(trained_keys(m.card.get("datasets", []), m.card.get("repeats", [])) for m in models))


def group_masks(examples: list, domain: list[str] | None = None) -> dict[str, np.ndarray]:
    """Boolean masks over ``examples``: all, the ``domain`` classes (when given), transition
    states, barrierless, and each reaction class."""
    classes = np.array([reaction_class(e.reaction.kind) for e in examples])
    status = np.array([e.status for e in examples])
    masks = {"all": np.ones(len(examples), bool)}
    if domain:
        masks["model's domain (" + ", ".join(domain) + ")"] = np.isin(classes, domain)
    return masks | {"transition states": status == "ok", "barrierless": status == "barrierless",
                    **{f"class {c}": classes == c for c in sorted(set(classes))}}


def paired_difference(abs_first: np.ndarray, abs_other: np.ndarray, resamples: int = 5000, seed: int = 0) -> dict:
    """Mean of abs_first - abs_other (eV) with a bootstrap 95 % interval over the paired examples."""
    diff = np.asarray(abs_first) - np.asarray(abs_other)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"n": len(diff), "difference": float(diff.mean()), "low": float(low), "high": float(high)}


def predict(model, examples: list):
    """The model's barrier prediction (mean, sigma; eV) for ``examples`` at their labels' own dG."""
    return model.predict([e.reaction for e in examples], np.array([e.dG for e in examples]))


def paired_comparison(first, other, examples: list, predictions: tuple | None = None) -> dict:
    """First model minus the other, absolute errors (eV) on the same ``examples`` per group, and on
    the external DFT transition states both cards hold (matched by name). ``predictions``: the two
    models' predictions for ``examples`` when already made."""
    y = np.array([e.target for e in examples])
    predictions = predictions or (predict(first, examples), predict(other, examples))
    abs_first, abs_other = (np.abs(p.mean - y) for p in predictions)
    out = {name: paired_difference(abs_first[mask], abs_other[mask])
           for name, mask in group_masks(examples).items() if mask.any()}
    rows = [{r["name"]: abs(r["model"] - r["dft"]) for r in m.card["report"].get("external", {}).get("rows", [])}
            for m in (first, other)]
    shared = sorted(set(rows[0]) & set(rows[1]))
    if shared:
        out["external DFT transition states"] = paired_difference([rows[0][k] for k in shared],
                                                                  [rows[1][k] for k in shared])
    return out


def compare(model, examples: list, prediction=None) -> dict:
    """MAE (eV) of the model and both BEP baselines per group of ``examples``, with the model's
    95 % coverage; the fitted BEP is the card's. ``prediction``: the model's for ``examples`` when
    already made."""
    dG = np.array([e.dG for e in examples])
    y = np.array([e.target for e in examples])
    kinds = [e.reaction.kind for e in examples]
    classes = np.array([reaction_class(k) for k in kinds])
    prediction = prediction if prediction is not None else predict(model, examples)
    params = {k: tuple(v) for k, v in model.card["report"]["bep_fitted_params"].items()}
    errors = {"model": prediction.mean - y, "bep_fitted": bep_predict(params, kinds, dG) - y,
              "bep_default": default_bep_predict(kinds, dG) - y}
    covered = np.abs(errors["model"]) <= 1.96 * prediction.sigma
    out = {}
    for name, mask in group_masks(examples, model.domain_classes or sorted(set(classes))).items():
        if mask.any():
            row = {"n": int(mask.sum()), **{k: float(np.abs(e[mask]).mean()) for k, e in errors.items()},
                   "coverage_95": float(covered[mask].mean())}
            row["below_fitted_bep"] = 1.0 - row["model"] / row["bep_fitted"] if row["bep_fitted"] > 0 else float("nan")
            out[name] = row
    return out


def unseen_by(models, examples: list) -> list:
    """Those of ``examples`` that none of ``models`` trained on."""
    seen = seen_by(models)
    return [e for e in examples if e.reaction.key not in seen]


def test_part(model) -> list:
    """The model's own held-out test examples: its card's split and seed over its card's datasets
    and repeats, loaded as it was trained."""
    report = model.card["report"]
    examples = load_barrier_dataset(model.card["datasets"], lowest_of=model.card.get("repeats", []))
    return [examples[i] for i in split_examples(examples, report["split"], report["seed"])["test"]]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="barrier datasets (.jsonl.gz) from sei-net neb")
    parser.add_argument("--model", action="append", help="barrier model (.pt), repeatable: the test reactions are "
                        "those none of them trained on; default: the shipped one")
    parser.add_argument("--test-part", action="store_true", help="test on the first model's own held-out test "
                        "part too (it trained on none of it; the others may have)")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)
    names = args.model or ["default"]
    models = {name: load_barrier_model(name) for name in names}
    first = models[names[0]]
    if not args.files and not args.test_part:
        parser.error("give barrier datasets, --test-part, or both")
    seen_by_others = seen_by([m for name, m in models.items() if name != names[0]])
    examples = []
    if args.files:
        seen = seen_by_others | seen_by([first])
        examples = [e for e in load_barrier_dataset(args.files) if e.reaction.key not in seen]
    if args.test_part:
        examples += [e for e in test_part(first) if e.reaction.key not in seen_by_others]
    source = ", ".join(args.files + ([f"the held-out test part of `{names[0]}`"] if args.test_part else []))
    if not examples:
        raise SystemExit(f"no usable label of {source} is outside the training files of {', '.join(names)}")
    predictions = {name: predict(m, examples) for name, m in models.items()}
    result = {"models": names, "files": args.files, "test_part": args.test_part, "n": len(examples),
              "trained_on": {name: m.card.get("datasets", []) for name, m in models.items()},
              "groups": {name: compare(m, examples, predictions[name]) for name, m in models.items()}}
    lines = [f"Barrier model{'s' if len(names) > 1 else ''} {', '.join(f'`{n}`' for n in names)} on "
             f"{len(examples)} usable NEB labels of reactions in none of {'their' if len(names) > 1 else 'its'} "
             f"training files ({source}). MAE in eV against GFN2 CI-NEB; fitted BEP: each card's, fitted on that "
             "model's training part; default BEP: RNMC-like literature values."]
    for name, groups in result["groups"].items():
        lines += ["", f"### `{name}`", "",
                  "| group | n | model | fitted BEP | default BEP | model below fitted BEP | model 95 % coverage |",
                  "|---|---|---|---|---|---|---|"]
        for group, row in groups.items():
            below = "n/a (BEP exact)" if np.isnan(row["below_fitted_bep"]) else f"{row['below_fitted_bep']:.0%}"
            lines.append(f"| {group} | {row['n']} | {row['model']:.3f} | {row['bep_fitted']:.3f} | "
                         f"{row['bep_default']:.3f} | {below} | {row['coverage_95']:.2f} |")
    if len(names) > 1:
        result["paired"] = {name: paired_comparison(first, models[name], examples,
                                                    (predictions[names[0]], predictions[name]))
                            for name in names[1:]}
        for name, groups in result["paired"].items():
            lines += ["", f"### `{names[0]}` minus `{name}`: absolute errors, paired (bootstrap 95 % interval)", "",
                      "| group | n | mean difference | 95 % interval |", "|---|---|---|---|"]
            lines += [f"| {g} | {r['n']} | {r['difference']:+.3f} | {r['low']:+.3f} to {r['high']:+.3f} |"
                      for g, r in groups.items()]
    publish(lines, result, args.out)
    return result


if __name__ == "__main__":
    main()
