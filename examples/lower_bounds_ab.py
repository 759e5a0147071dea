"""A/B of start-graph lower bounds: the first K members of two 5-member runs on the same split.

Both runs train on every GFN2 label file with coordination_changed records re-keyed, the same
split, seeds and settings; one adds the start graphs as lower bounds (the default), the other not:

    sei-net train data/labels/gfn2_*.jsonl.gz --network out/labelling/ec_lipf6.db \
        --network out/labelling/ec_fec_lipf6.db --split SPLIT -o out/models/energy_bounds_SPLIT.pt
    sei-net train ... --no-bounds -o out/models/energy_rekey_all_SPLIT.pt

The bounds run may still be training: its finished members are read from its checkpoint folder
(out/models/energy_bounds_SPLIT.members, K of them must be there). Each side's first K members are
recalibrated on the calibration part and measured on the test part (eV against GFN2), with the
held-out bound check (``sei_net.learn.fit.calibrate_and_test``).

    python examples/lower_bounds_ab.py random 3     # writes docs/results/lower_bounds_ab_random_3.json
"""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

import torch

from sei_net.learn.dataset import load_labels, start_graph_bounds
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import labelled_reactions
from sei_net.learn.fit import calibrate_and_test, make_split
from sei_net.learn.train import TrainConfig

LABELS = sorted(glob.glob("data/labels/gfn2_*.jsonl.gz"))
NETWORKS = ["out/labelling/ec_lipf6.db", "out/labelling/ec_fec_lipf6.db"]


def main(split: str, k: int) -> None:
    torch.set_num_threads(1)
    folder = Path(f"out/models/energy_bounds_{split}.members")
    if len(list(folder.glob("member_*.pt"))) < k:
        raise SystemExit(f"{folder} holds fewer than {k} finished members")
    data = load_labels(LABELS, coordination="rekey")       # one load, split and reaction set for both sides
    parts = make_split(split, data, 0)
    stoich = labelled_reactions(NETWORKS, data.keys)
    train = data.subset(parts["train"])
    # the bounds side: its first k members from the checkpoint (nothing is trained when they are there)
    bounded = EnergyEnsemble.train(train, data.subset(parts["val"]), k, TrainConfig(), 0, "cpu",
                                   checkpoint=folder, bounds=start_graph_bounds(data, train.keys))
    # the other side: the first k members of the finished no-bounds ensemble
    full = EnergyEnsemble.load(f"out/models/energy_rekey_all_{split}.pt", device="cpu")
    first = EnergyEnsemble(full.members[:k], full.baseline, full.y_mean, full.y_std, full.level_of_theory)
    result = {}
    for side, ensemble in (("bounds", bounded), ("no_bounds", first)):
        report = calibrate_and_test(ensemble, data, parts, stoich)
        result[side] = {"test": report["test"], "start_graph_bounds": report["start_graph_bounds"]}
    out = Path(f"docs/results/lower_bounds_ab_{split}_{k}.json")
    out.write_text(json.dumps({"split": split, "members": k, **result}, indent=1, default=float))
    for side, r in result.items():
        print(side, {w: f"n={m['n']} MAE {m['mae']:.3f} cov95 {m['coverage_95']:.3f}" for w, m in r["test"].items()},
              r["start_graph_bounds"])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
