"""A/B of start-graph lower bounds: the first K members of two 5-member runs on the same split.

Both runs train on every GFN2 label file with coordination_changed records re-keyed, the same
split, seeds and settings; one adds the start graphs as lower bounds (the default), the other not:

    sei-net train data/labels/gfn2_*.jsonl.gz --network out/labelling/ec_lipf6.db \
        --network out/labelling/ec_fec_lipf6.db --split SPLIT -o out/models/energy_bounds_SPLIT.pt
    sei-net train ... --no-bounds -o out/models/energy_rekey_all_SPLIT.pt

The bounds run may still be training: its finished members are read from its checkpoint folder
(out/models/energy_bounds_SPLIT.members, K of them must be there). Each side's first K members are
recalibrated on the calibration part and measured on the test part (eV against GFN2), with the
held-out bound check of ``sei_net.learn.fit.bound_check``.

    python examples/lower_bounds_ab.py random 3     # writes docs/results/lower_bounds_ab_random_3.json
"""

from __future__ import annotations

import glob
import json
import sys
from pathlib import Path

import numpy as np
import torch

from sei_net.learn.dataset import load_labels
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import labelled_reactions
from sei_net.learn.fit import bound_check, calibrate_and_test, fit_energy_surrogate, make_split
from sei_net.learn.train import TrainConfig

LABELS = sorted(glob.glob("data/labels/gfn2_*.jsonl.gz"))
NETWORKS = ["out/labelling/ec_lipf6.db", "out/labelling/ec_fec_lipf6.db"]


def main(split: str, k: int) -> None:
    torch.set_num_threads(1)
    # the bounds side: its first k members from the checkpoint (nothing is trained when they are there)
    folder = Path(f"out/models/energy_bounds_{split}.members")
    if len(list(folder.glob("member_*.pt"))) < k:
        raise SystemExit(f"{folder} holds fewer than {k} finished members")
    _, with_bounds = fit_energy_surrogate(LABELS, NETWORKS, split, k, TrainConfig(), 0, "cpu", None, "rekey",
                                          checkpoint=folder, lower_bounds=True)
    # the other side: the first k members of the finished no-bounds ensemble
    full = EnergyEnsemble.load(f"out/models/energy_rekey_all_{split}.pt", device="cpu")
    first = EnergyEnsemble(full.members[:k], full.baseline, full.y_mean, full.y_std, full.level_of_theory)
    data = load_labels(LABELS, coordination="rekey")
    parts = make_split(split, np.array([s.n_heavy for s in data.species]), 0)
    without = calibrate_and_test(first, data, parts, labelled_reactions(NETWORKS, data.keys))
    without["start_graph_bounds"] = bound_check(first, data, [data.keys[i] for i in parts["test"]])
    result = {side: {"test": r["test"], "start_graph_bounds": r["start_graph_bounds"]}
              for side, r in (("bounds", with_bounds), ("no_bounds", without))}
    out = Path(f"docs/results/lower_bounds_ab_{split}_{k}.json")
    out.write_text(json.dumps({"split": split, "members": k, **result}, indent=1, default=float))
    for side, r in result.items():
        print(side, {w: f"n={m['n']} MAE {m['mae']:.3f} cov95 {m['coverage_95']:.3f}" for w, m in r["test"].items()},
              r["start_graph_bounds"])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
