"""How noisy are the GFN2 free-energy labels? The conformer search measured against itself.

Many coordination_changed records relax to the same graph from different starting species
(``sei_net.learn.dataset.relaxed_graphs``): each is an independent search for that graph's lowest
minimum (one ETKDG starting geometry each, GFN2-xTB/GBE, qRRHO). How far apart they land estimates the label noise a
surrogate cannot learn below:

- records of one graph above the lowest record of that graph (graphs with >= 2 records);
- a graph's own ``ok`` label minus the lowest record that relaxed to it.

    python examples/label_noise.py      # ~10 s; writes docs/results/label_noise.{md,json}

All figures in eV.
"""

from __future__ import annotations

import glob
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from sei_net.learn.dataset import label_energies, relaxed_graphs

LABELS = sorted(glob.glob("data/labels/gfn2_*.jsonl.gz"))
PERCENTILES = (50, 75, 90, 95)


def summary(values: np.ndarray) -> dict:
    return {"n": int(len(values)), "mean": float(np.mean(values)), "mean_abs": float(np.mean(np.abs(values))),
            **{f"p{q}": float(np.percentile(values, q)) for q in PERCENTILES}}


def main() -> None:
    labels, level = label_energies(LABELS)
    ok = {key: G for key, (status, G) in labels.items() if status == "ok"}
    by_graph: dict[str, list[float]] = defaultdict(list)
    for _start, graph, G in relaxed_graphs(LABELS, level):
        if graph is not None:
            by_graph[graph].append(G)
    repeated = [np.array(v) for v in by_graph.values() if len(v) >= 2]
    # every record but the lowest of its graph (the lowest is the label), minus that lowest
    above_lowest = np.concatenate([np.sort(v)[1:] - v.min() for v in repeated])
    ok_minus_lowest = np.array([ok[g] - min(v) for g, v in by_graph.items() if g in ok])
    result = {"level_of_theory": level, "labels": LABELS, "graphs_with_repeats": len(repeated),
              "records_above_their_graphs_lowest": summary(above_lowest),
              "ok_label_minus_lowest_relaxed": summary(ok_minus_lowest),
              "ok_label_higher_by_more_than_0.05": float(np.mean(ok_minus_lowest > 0.05)),
              "ok_label_higher_by_more_than_0.2": float(np.mean(ok_minus_lowest > 0.2))}
    rows = [("records above their graph's lowest", result["records_above_their_graphs_lowest"]),
            ("ok label minus lowest relaxed record", result["ok_label_minus_lowest_relaxed"])]
    lines = ["## GFN2 label noise from the conformer search (eV)", "",
             f"Level of theory: {level}. {len(repeated)} graphs have two or more coordination_changed "
             f"records that relaxed to them; {len(ok_minus_lowest)} graphs have an ok label and at least "
             "one such record.", "",
             "| comparison | n | mean | mean abs | " + " | ".join(f"p{q}" for q in PERCENTILES) + " |",
             "|---|---|---|---|" + "---|" * len(PERCENTILES)]
    for name, s in rows:
        lines.append(f"| {name} | {s['n']} | {s['mean']:.3f} | {s['mean_abs']:.3f} | "
                     + " | ".join(f"{s[f'p{q}']:.3f}" for q in PERCENTILES) + " |")
    lines += ["", f"The ok label is more than 0.05 eV above a relaxed record of the same graph for "
              f"{result['ok_label_higher_by_more_than_0.05']:.0%} of those graphs, more than 0.2 eV for "
              f"{result['ok_label_higher_by_more_than_0.2']:.0%}."]
    out = Path("docs/results")
    (out / "label_noise.json").write_text(json.dumps(result, indent=1))
    (out / "label_noise.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
