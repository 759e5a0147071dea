"""Which energy does a coordination_changed label belong to? An A/B test of the training labels.

A ``coordination_changed`` record is the minimum of a graph the optimiser relaxed to (the Li moved
to other donors), not of the species it started from. Training can keep it on the starting species
('keep'), move it to the graph it relaxed to ('rekey'), or leave it out ('drop')
(``sei_net.learn.dataset.COORDINATION_MODES``). This script trains one ensemble per treatment and
measures all of them on the same held-out species: a random 10 % (or, with ``--split size``, the
largest 10 %) of the graphs that have an ``ok`` record, with that record's G as the target (GFN2,
eV). Nothing that lands on a test graph trains any variant: in 'keep' the coordination_changed
records that relaxed to a test graph are removed too. Reaction errors use the network reactions
whose species all have ``ok`` records and that touch a test graph (every species predicted, and
only the test graphs predicted with the others at their ``ok`` G).

    python examples/coordination_labels.py run keep    # one variant per process; ~30 min each, one core
    python examples/coordination_labels.py run rekey
    python examples/coordination_labels.py run drop
    python examples/coordination_labels.py table       # docs/results/coordination_labels.{md,json}
"""

from __future__ import annotations

import glob
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sei_net.chem.species import Species
from sei_net.learn.dataset import label_energies, load_labels, random_split, relaxed_graphs, size_split
from sei_net.learn.ensemble import EnergyEnsemble, reaction_uncertainty
from sei_net.learn.evaluate import labelled_reactions, labels_kept, reactions_touching
from sei_net.learn.train import TrainConfig

LABELS = sorted(glob.glob("data/labels/gfn2_*.jsonl.gz"))
NETWORKS = ["out/labelling/ec_lipf6.db", "out/labelling/ec_fec_lipf6.db"]
MEMBERS, CONFIG, SEED = 3, TrainConfig(epochs=int(os.environ.get("EPOCHS", 150))), 0
OUT = Path("out/coordination_labels")


def common_test(split: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """ok graph keys (sorted), their G (eV), and the indices of the test graphs among them."""
    ok, _ = label_energies(LABELS, statuses=("ok",))
    keys = sorted(ok)
    G = np.array([ok[k][1] for k in keys])
    if split == "random":
        test = random_split(len(keys), {"test": 0.1, "rest": 0.9}, SEED)["test"]
    else:
        heavy = np.array([Species.from_key(k).n_heavy for k in keys])
        test = size_split(heavy, 0.1, {"rest": 1.0}, SEED)["test"]
    return keys, G, test


def run(variant: str, split: str) -> None:
    torch.set_num_threads(1)
    keys, G_ok, test = common_test(split)
    test_keys = {keys[i] for i in test}
    data = load_labels(LABELS, coordination=variant)
    moved = ({start: relaxed for start, relaxed, _ in relaxed_graphs(LABELS, data.level_of_theory)}
             if variant == "keep" else {})   # a start graph's record whose structure is a test graph
    train_rows = [i for i, k in enumerate(data.keys) if k not in test_keys and moved.get(k) not in test_keys]
    pool = data.subset(train_rows)
    parts = random_split(len(pool), {"train": 0.9, "val": 0.1}, SEED)
    t0 = time.perf_counter()
    ensemble = EnergyEnsemble.train(pool.subset(parts["train"]), pool.subset(parts["val"]), MEMBERS, CONFIG,
                                    SEED, "cpu")
    seconds = time.perf_counter() - t0
    species = [Species.from_key(k) for k in keys]
    pred = ensemble.predict(species)
    err = pred.mean[test] - G_ok[test]
    stoich = labelled_reactions(NETWORKS, keys)
    rows = reactions_touching(stoich, test)
    target = np.asarray(stoich[rows] @ G_ok)
    rxn_all = reaction_uncertainty(stoich[rows], pred).mean - target
    rxn_kept = reaction_uncertainty(stoich[rows], labels_kept(pred, G_ok, test)).mean - target
    result = {
        "variant": variant, "split": split, "training_labels": len(pool), "label_counts": data.counts,
        "test_graphs": int(len(test)), "test_reactions": int(len(rows)), "train_seconds": round(seconds),
        "species_mae": float(np.abs(err).mean()), "species_rmse": float(np.sqrt((err ** 2).mean())),
        "reaction_mae": float(np.abs(rxn_all).mean()), "reaction_labels_kept_mae": float(np.abs(rxn_kept).mean()),
        "members": MEMBERS, "config": CONFIG.to_dict(), "seed": SEED,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{split}_{variant}.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


def table() -> None:
    """The results as a Markdown table and one JSON file under docs/results/."""
    results = [json.loads(path.read_text()) for path in sorted(OUT.glob("*.json"))]
    lines = ["| split | variant | training labels | test graphs | species MAE | test reactions | "
             "reaction MAE | reaction MAE, labels kept |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['split']} | {r['variant']} | {r['training_labels']} | {r['test_graphs']} | "
                     f"{r['species_mae']:.3f} | {r['test_reactions']} | {r['reaction_mae']:.3f} | "
                     f"{r['reaction_labels_kept_mae']:.3f} |")
    results_dir = Path("docs/results")
    (results_dir / "coordination_labels.md").write_text(
        "# coordination_changed labels: keep, rekey or drop\n\nMade by `python examples/coordination_labels.py`"
        " (see its docstring); MAE in eV against GFN2-xTB, on held-out graphs with ok records.\n\n"
        + "\n".join(lines) + "\n")
    (results_dir / "coordination_labels.json").write_text(json.dumps(results, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "random")
    else:
        table()
