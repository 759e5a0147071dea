"""Two energy surrogates side by side on species that neither has seen.

Each model's card names its label files, coordination treatment, split kind and seed, so its
training, validation and calibration species can be rebuilt exactly (the rebuilt split sizes must
equal the card's, or the script refuses). The common test set is every species of the evaluation
labels (by default all GFN2 files, coordination_changed labels re-keyed to the graph they relaxed
to) that is in no model's training, validation or calibration part (and, with --test-labels, has a
label in those files; with --oracle-max-heavy K, has more than K heavy atoms). Reaction rows are the labelled
network reactions that touch a common test species; 'labels kept' predicts only the test species
and keeps oracle values for the rest, as ``sei-net score --labels`` and ``make run`` do.

    python examples/compare_energy_models.py sei_net/data/models/energy_gfn2.pt NEW.pt \
        --network out/labelling/ec_lipf6.db --network out/labelling/ec_fec_lipf6.db \
        --out docs/results/energy_model_comparison

Errors are surrogate minus oracle (GFN2-xTB, eV); uncertainties use each model's own calibration.
"""

from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path

import numpy as np

from sei_net.learn.card import metrics_table
from sei_net.learn.dataset import load_labels
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import evaluate, labelled_reactions
from sei_net.learn.fit import seen_keys, split_of_card


def model_seen_keys(model: EnergyEnsemble, name: str) -> set[str]:
    """Keys of the species a model was trained, early-stopped or calibrated on (from its card)."""
    try:
        return seen_keys(*split_of_card(model.card), model.card)
    except ValueError as err:
        raise SystemExit(f"{name}: {err}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs=2, help="two energy model files (.pt)")
    parser.add_argument("--labels", nargs="*", default=sorted(glob.glob("data/labels/gfn2_*.jsonl.gz")))
    parser.add_argument("--network", action="append", default=[])
    parser.add_argument("--test-labels", nargs="*", default=[],
                        help="only species with a record in these files are test species (e.g. the labels of "
                             "a network neither model was trained on); the other labels serve the reactions")
    parser.add_argument("--oracle-max-heavy", type=int, default=None,
                        help="leave species of at most this many heavy atoms out of the test species (the main "
                             "job labels them with the oracle: constants.ORACLE_MAX_HEAVY); default: keep all")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args()

    models = dict.fromkeys(args.models)   # A, B in the order given (the same file twice is one model)
    models = {name: EnergyEnsemble.load(name, device="cpu") for name in models}
    seen = set().union(*(model_seen_keys(m, name) for name, m in models.items()))
    data = load_labels(args.labels, coordination="rekey")
    stoich = labelled_reactions(args.network, data.keys) if args.network else None
    status = np.array(data.status)
    unseen = np.array([k not in seen for k in data.keys])
    if args.test_labels:
        chosen = set(load_labels(args.test_labels, coordination="rekey").keys)
        unseen &= np.array([k in chosen for k in data.keys])
    if args.oracle_max_heavy is not None:
        unseen &= data.n_heavy > args.oracle_max_heavy
    subsets = {"all unseen": np.flatnonzero(unseen), "unseen, ok": np.flatnonzero(unseen & (status == "ok")),
               "unseen, re-keyed": np.flatnonzero(unseen & (status == "rekeyed"))}
    results, lines = {}, [f"Evaluation labels: {', '.join(args.labels)} (coordination_changed re-keyed); "
                          f"{len(data):,} species, {len(seen & set(data.keys)):,} seen by a model.", ""]
    for subset, index in subsets.items():
        lines += [f"### {subset}: {len(index):,} species", ""]
        rows = {}
        for tag, (name, model) in zip("AB", models.items()):
            report = evaluate(model, data, index, stoich if subset == "all unseen" else None)
            results.setdefault(subset, {})[f"{tag} {name}"] = report
            rows.update({f"{tag} {Path(name).name}: {what}": m for what, m in report.items()})
        lines += metrics_table(rows) + [""]
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out + ".md").write_text(text)
        Path(args.out + ".json").write_text(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
