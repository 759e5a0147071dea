"""Where an energy surrogate errs: its held-out test species, broken down by kind of species.

The model's card names its labels, split and seed; the test part is rebuilt from them (the script
refuses when the label files changed since training). Each group row gives the number of test
species, the MAE and median absolute error against the oracle, the mean calibrated sigma, and
the share of the summed absolute error the group carries. The largest single errors follow.

    python examples/energy_errors.py sei_net/data/models/energy_gfn2.pt --out docs/results/energy_errors

Errors are surrogate minus oracle (GFN2-xTB free energies, eV). Label groups: 'ok' (the oracle
kept the species' own graph), 'rekeyed' (a record that relaxed into this graph), and, for models
trained with coordination 'keep', 'coordination_changed'.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.fit import split_of_card


def groups(species: list, status: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Boolean masks over ``species``, one family of groups per property."""
    def mask(pred):
        return np.array([pred(s) for s in species])

    heavy = np.array([s.n_heavy for s in species])
    lithium = mask(lambda s: "Li" in s.elements)
    f_or_p = mask(lambda s: bool({"F", "P"} & set(s.elements)))
    return {
        "label": {st: np.array(status) == st for st in sorted(set(status))},
        "lithium": {"no Li": ~lithium, "Li": lithium},
        "F or P": {"neither": ~f_or_p, "F or P": f_or_p},
        "charge": {f"{q:+d}": mask(lambda s, q=q: s.charge == q) for q in sorted({s.charge for s in species})},
        "unpaired electrons": {"0": mask(lambda s: s.radicals == 0), "1": mask(lambda s: s.radicals == 1),
                               ">= 2": mask(lambda s: s.radicals >= 2)},
        "heavy atoms": {"<= 4": heavy <= 4, "5-8": (heavy >= 5) & (heavy <= 8), ">= 9": heavy >= 9},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("--worst", type=int, default=15, help="list this many largest errors")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args()

    model = EnergyEnsemble.load(args.model, device="cpu")
    data, parts = split_of_card(model.card)
    test = data.subset(parts["test"])
    pred = model.predict(test.species)
    err = pred.mean - test.G
    abs_err, total = np.abs(err), np.abs(err).sum()
    lines = [f"Model {args.model}: split `{model.card['split']}` (seed {model.card['seed']}), "
             f"{len(test)} test species; species MAE {abs_err.mean():.3f} eV.", "",
             "| group | n | MAE eV | median AE eV | mean sigma eV | share of summed error |", "|---|---|---|---|---|---|"]
    results = {"model": args.model, "n": len(test), "mae": float(abs_err.mean()), "groups": {}}
    for family, masks in groups(test.species, test.status).items():
        for name, m in masks.items():
            if not m.any():
                continue
            row = {"n": int(m.sum()), "mae": float(abs_err[m].mean()), "median": float(np.median(abs_err[m])),
                   "sigma": float(pred.sigma[m].mean()), "share": float(abs_err[m].sum() / total)}
            results["groups"][f"{family}: {name}"] = row
            lines.append(f"| {family}: {name} | {row['n']} | {row['mae']:.3f} | {row['median']:.3f} | "
                         f"{row['sigma']:.3f} | {row['share']:.0%} |")
    order = np.argsort(-abs_err)[:args.worst]
    lines += ["", f"Largest {len(order)} errors:", "", "| species | SMILES | label | error eV | sigma eV |",
              "|---|---|---|---|---|"]
    results["worst"] = []
    for i in order:
        s = test.species[i]
        results["worst"].append({"key": s.key, "smiles": s.smiles, "status": test.status[i],
                                 "error": float(err[i]), "sigma": float(pred.sigma[i])})
        lines.append(f"| `{s.key}` | `{s.smiles}` | {test.status[i]} | {err[i]:+.2f} | {pred.sigma[i]:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out + ".md").write_text(text + "\n")
        Path(args.out + ".json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
