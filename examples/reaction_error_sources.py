"""Which held-out species decide an energy model's labels-kept reaction error.

Labels-kept reaction figures predict only the held-out test species and keep oracle values for the
rest, so a reaction's dG error is the sum of its test species' errors. A species in many reactions
and badly predicted moves the reaction MAE more than all the rest together. Over random re-splits
of the held-out species (calibration + test, as in the card's ``test_resampled``), this prints the
median labels-kept reaction MAE with every reaction, and without the reactions that touch the k
worst-predicted held-out species, and lists those species.

    python examples/reaction_error_sources.py sei_net/data/models/energy_gfn2.pt

The networks named in the card must exist (``sei-net build``). eV against the model's oracle.
"""

from __future__ import annotations

import argparse

import numpy as np

from sei_net.learn.evaluate import labels_kept, reactions_touching
from sei_net.learn.fit import model_on_its_split


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt) with a random-split card")
    parser.add_argument("--draws", type=int, default=100, help="random re-splits of the held-out species")
    parser.add_argument("--worst", type=int, nargs="+", default=[1, 2, 3, 10],
                        help="leave out reactions touching this many worst species")
    args = parser.parse_args(argv)
    model, data, parts, stoich, prediction = model_on_its_split(args.model)
    error = prediction.mean - data.G
    pool = np.concatenate([parts["cal"], parts["test"]])
    worst = pool[np.argsort(-np.abs(error[pool]))]
    rng = np.random.default_rng(0)
    mae: dict[str, list[float]] = {"every reaction": []}
    for _ in range(args.draws):
        test = rng.permutation(pool)[len(parts["cal"]):]
        reactions = stoich[reactions_touching(stoich, test)]
        reaction_error = np.abs(reactions @ (labels_kept(prediction, data.G, test).mean - data.G))
        mae["every reaction"].append(float(reaction_error.mean()))
        for k in args.worst:
            clean = np.asarray(reactions[:, worst[:k]].getnnz(axis=1) == 0)
            mae.setdefault(f"without the {k} worst", []).append(float(reaction_error[clean].mean()))
    result = {"median_mae_eV": {k: float(np.median(v)) for k, v in mae.items()},
              "worst": [{"key": data.keys[i], "formula": data.species[i].formula,
                         "charge": data.species[i].charge, "multiplicity": data.species[i].multiplicity,
                         "error_eV": float(error[i]),
                         "reactions": int(stoich[:, i].getnnz())} for i in worst[:max(args.worst)]]}
    for what, value in result["median_mae_eV"].items():
        print(f"labels-kept reaction MAE, median of {args.draws} re-splits, {what}: {value:.3f} eV")
    for w in result["worst"]:
        what = f"{w['formula']} {w['charge']:+d}, 2S+1={w['multiplicity']}"
        print(f"  {what:22s} error {w['error_eV']:+.2f} eV, in {w['reactions']} labelled reactions")
    return result


if __name__ == "__main__":
    main()
