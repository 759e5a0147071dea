"""Training settings compared member by member on one split: each model's members measured alone.

Single members trained with `sei-net train LABEL_FILES --members 1 --seed 0` and other settings
(--hidden, --layers, --epochs, --huber, --ema) on the label files of the first model's card share
its split (random, seed 0, coordination_changed records re-keyed), so their test errors compare
directly with each of its members'. The screen in docs/results/member_screen.md used the shipped
model's files (every GFN2 file before gfn2_ec_dmc_lipf6.jsonl.gz). Seed-to-seed spread of the shipped members (about 0.006 eV on
the species MAE) is the noise floor of such a comparison.

    python examples/member_screen.py sei_net/data/models/energy_gfn2.pt out/hp/*.pt

Prints, per model file and member: best epoch, validation MSE (standardised), and the MAE (eV,
surrogate minus GFN2) of the test species, of the labelled network reactions touching them with
the other species at their oracle labels ('kept'), and the same over the calibration and test
species together (1,016 species: a larger, less noisy held-out set; no member trained or
early-stopped on either part).
"""

from __future__ import annotations

import sys

import numpy as np
import torch

from sei_net.learn.ensemble import EnergyEnsemble, EnsemblePrediction
from sei_net.learn.evaluate import labelled_reactions, labels_kept, reactions_touching
from sei_net.learn.fit import split_of_card

def member_errors(pred: EnsemblePrediction, data, part: np.ndarray, stoich) -> tuple[np.ndarray, np.ndarray]:
    """Per-member MAE (eV) of the species ``part`` (rows of ``data``, predicted in ``pred``) and of
    the labels-kept reactions touching them."""
    rxn = reactions_touching(stoich, part)
    target = np.asarray(stoich[rxn] @ data.G)
    kept = labels_kept(pred, data.G, part)
    species = np.abs(pred.members[part] - data.G[part][:, None]).mean(0)
    reactions = np.abs(np.asarray(stoich[rxn] @ kept.members) - target[:, None]).mean(0)
    return species, reactions


def main(paths: list[str]) -> None:
    torch.set_num_threads(1)
    card = EnergyEnsemble.load(paths[0], device="cpu").card
    data, parts = split_of_card(card)
    stoich = labelled_reactions(card["networks"], data.keys)
    held_out = np.concatenate([parts["test"], parts["cal"]])
    print("| model | member | best epoch | val MSE | test species | test reactions, kept | "
          "held-out species | held-out reactions, kept |")
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        model = EnergyEnsemble.load(path, device="cpu")
        if model.card.get("sizes") != {k: len(v) for k, v in parts.items()}:
            raise SystemExit(f"{path}: its split {model.card.get('sizes')} is not {paths[0]}'s; train it on "
                             "that model's label files with --split random --seed 0")
        pred = model.predict(data.species)
        test_sp, test_rx = member_errors(pred, data, parts["test"], stoich)
        held_sp, held_rx = member_errors(pred, data, held_out, stoich)
        for m, summary in enumerate(model.card["members"]):
            print(f"| {path} | {m} | {summary['best_epoch']} | {summary['val_mse']:.4f} | {test_sp[m]:.3f} | "
                  f"{test_rx[m]:.3f} | {held_sp[m]:.3f} | {held_rx[m]:.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
