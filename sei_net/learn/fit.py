"""The energy-surrogate workflow: labels in, a trained, calibrated and evaluated ensemble out.

Split (random, or the hard 'size' split that tests on the largest species), train the members on
the training part with early stopping on the validation part, fit the species and reaction
recalibration maps on the calibration part, and measure everything on the test part, which no step
before has seen. The report goes into the model card.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from sei_net.chem.species import Species
from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.learn.dataset import (LabelledSpecies, load_labels, pin_to_train, random_split, size_split,
                                   start_graph_bounds)
from sei_net.learn.domain import Domain
from sei_net.learn.ensemble import EnergyEnsemble, EnsemblePrediction
from sei_net.learn.evaluate import calibration_maps, evaluate, labelled_reactions, resampled_held_out
from sei_net.learn.novelty import calibration_threshold
from sei_net.learn.train import TrainConfig

SPLITS = ("random", "size")
#: re-splits of the held-out species behind a random-split card's test_resampled figures
RESAMPLED_DRAWS = 100
FRACTIONS = {"train": 0.72, "val": 0.08, "cal": 0.10, "test": 0.10}


def make_split(kind: str, data: LabelledSpecies, seed: int, pin_atoms: bool = True,
               oracle_max_heavy: int | None = ORACLE_MAX_HEAVY) -> dict[str, np.ndarray]:
    """Index arrays train/val/cal/test into ``data``: 'random' (72/8/10/10 %) or 'size' (the 10 %
    largest species by heavy atoms are the test set; the rest 80/9/11 % at random).

    Single atoms (H, Li+, F-, ...) always train: with no bonds there is nothing for a graph model
    to generalise from, the oracle labels every one of them in seconds, and a held-out H atom
    alone put 2.4 eV errors into a quarter of the hard split's test reactions. ``pin_atoms=False``
    rebuilds the splits of models trained before this rule (their cards lack "pin_atoms").
    Species of at most ``oracle_max_heavy`` heavy atoms train too: the main job labels them with
    the oracle (``constants.ORACLE_MAX_HEAVY``), so the surrogate is never asked for them and its
    held-out parts should not hold them. None rebuilds the splits of models trained before that
    rule (their cards lack "oracle_max_heavy")."""
    if kind == "random":
        parts = random_split(len(data), FRACTIONS, seed)
    elif kind == "size":
        rest = {k: v / 0.9 for k, v in FRACTIONS.items() if k != "test"}
        parts = size_split(data.n_heavy, FRACTIONS["test"], rest, seed)
    else:
        raise ValueError(f"split {kind!r} is not known; valid splits: {', '.join(SPLITS)}")
    pinned = data.n_atoms == 1 if pin_atoms else np.zeros(len(data), bool)
    if oracle_max_heavy is not None:
        pinned |= data.n_heavy <= oracle_max_heavy
    return pin_to_train(parts, np.flatnonzero(pinned))


def split_of_card(card: dict) -> tuple[LabelledSpecies, dict[str, np.ndarray]]:
    """The labels and split a model was trained on, rebuilt from its card (label files,
    coordination treatment, split kind, seed, atom and small-species pinning). Raises ValueError when the rebuilt
    part sizes differ from the card's: the label files changed since the model was trained."""
    data = load_labels(card["labels"], coordination=card.get("coordination", "keep"))
    parts = make_split(card["split"], data, card["seed"], card.get("pin_atoms", False),
                       card.get("oracle_max_heavy"))
    sizes = {k: int(len(v)) for k, v in parts.items()}
    if sizes != card["sizes"]:
        raise ValueError(f"the rebuilt split {sizes} differs from the card's {card['sizes']}; "
                         "the label files changed since the model was trained")
    return data, parts


def model_on_its_split(path: str | Path) -> tuple[EnergyEnsemble, LabelledSpecies, dict[str, np.ndarray],
                                                  sp.csr_matrix, EnsemblePrediction]:
    """A trained energy model (on the CPU) with what re-measuring it takes: ``(model, data, parts,
    stoichiometry, prediction)``, the labels and split rebuilt from its card (``split_of_card``), the
    labelled reactions of the card's networks (CSR; columns are rows of ``data``) and its
    ``EnsemblePrediction`` for every labelled species. The networks must exist (``sei-net build``)."""
    model = EnergyEnsemble.load(path, device="cpu")
    data, parts = split_of_card(model.card)
    stoichiometry = labelled_reactions(model.card["networks"], data.keys).tocsr()
    return model, data, parts, stoichiometry, model.predict(data.species)


def without_small(parts: dict[str, np.ndarray], n_heavy: np.ndarray, limit: int | None) -> dict[str, np.ndarray]:
    """The split with species of at most ``limit`` heavy atoms taken out of calibration and test
    (the species the main job labels with the oracle); ``limit`` None leaves it as it is."""
    if limit is None:
        return parts
    return {k: (v[n_heavy[v] > limit] if k in ("cal", "test") else v) for k, v in parts.items()}


#: the parts of a split a model has learned from or been calibrated on (not test)
SEEN_PARTS = ("train", "val", "cal")


def seen_keys(data: LabelledSpecies, parts: dict[str, np.ndarray], card: dict | None = None) -> set[str]:
    """Keys of the species in a split's ``SEEN_PARTS``: those a model trained, early-stopped or
    calibrated on, so no test of it may use them; with the model's ``card``, also the species it
    was fine-tuned on (``learn.adapt``)."""
    adapted = set((card or {}).get("adapted", {}).get("keys", []))
    return {data.keys[i] for part in SEEN_PARTS for i in parts[part]} | adapted


def split_keys(data: LabelledSpecies, parts: dict[str, np.ndarray], card: dict | None = None) -> set[str]:
    """``seen_keys`` and the test part's keys: every species a model's split holds."""
    return seen_keys(data, parts, card) | {data.keys[i] for i in parts["test"]}


def training_domain(data: LabelledSpecies, parts: dict[str, np.ndarray], card: dict | None = None) -> Domain:
    """The applicability domain (``learn.domain``) of a model trained on ``parts['train']`` of
    ``data``: the atom environments of its training species and, with its ``card``, of the species
    it was fine-tuned on (``learn.adapt``)."""
    species = [data.species[i] for i in parts["train"]]
    species += [Species.from_key(k) for k in (card or {}).get("adapted", {}).get("keys", [])]
    return Domain.of_species(species)


def oracle_name(level_of_theory: str) -> str:
    """The oracle's short name (as in ``sei_net.constants.ELECTRON_OFFSETS``) from a level of theory."""
    return "gfn2" if level_of_theory.upper().startswith("GFN2") else "oracle"


def fit_energy_surrogate(label_paths: Sequence[str | Path], network_paths: Sequence[str | Path] = (),
                         split: str = "random", n_members: int = 5, config: TrainConfig = TrainConfig(),
                         seed: int = 0, device: str = "auto", level: str | None = None,
                         log: Callable[[int, dict], None] | None = None,
                         coordination: str = "rekey",
                         checkpoint: str | Path | None = None,
                         lower_bounds: bool = True, workers: int = 1,
                         oracle_max_heavy: int | None = ORACLE_MAX_HEAVY) -> tuple[EnergyEnsemble, dict]:
    """Train, calibrate and test an energy ensemble; returns it and its report (also its card).

    ``network_paths``: networks whose labelled reactions give the reaction-level calibration and
    metrics (without them, only species are calibrated and measured). ``coordination``: what to do
    with coordination_changed labels (``sei_net.learn.dataset.COORDINATION_MODES``); 'rekey' by
    default, the treatment that measured best (docs/surrogates.md). ``checkpoint``: folder of
    finished members, so that a killed training resumes (``EnergyEnsemble.train``). ``lower_bounds``
    (with 'rekey'): the start graphs of re-keyed records train as lower bounds, those whose
    relaxed graph is in the training part (``dataset.start_graph_bounds``). ``workers``: members
    trained at once in one-thread CPU processes (``EnergyEnsemble.train``). ``oracle_max_heavy``:
    species of at most that many heavy atoms always train (``make_split``)."""
    data = load_labels(label_paths, level, coordination=coordination)
    pin_atoms = True                                   # what the card records is what the split did
    parts = make_split(split, data, seed, pin_atoms, oracle_max_heavy)
    stoich = labelled_reactions(network_paths, data.keys) if network_paths else None  # before hours of training
    train = data.subset(parts["train"])
    bounds = start_graph_bounds(data, train.keys) if lower_bounds else None
    ensemble = EnergyEnsemble.train(train, data.subset(parts["val"]), n_members,
                                    config, seed, device, log, checkpoint, bounds, workers)
    report = calibrate_and_test(ensemble, data, parts, stoich, RESAMPLED_DRAWS if split == "random" else 0)
    report.update({
        "oracle": oracle_name(data.level_of_theory),
        "labels": [str(p) for p in label_paths], "networks": [str(p) for p in network_paths],
        "split": split, "seed": seed, "pin_atoms": pin_atoms,
        "oracle_max_heavy": oracle_max_heavy, "coordination": coordination, "label_counts": data.counts,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    })
    ensemble.card.update(report, domain=training_domain(data, parts).to_card())
    return ensemble, report


def bound_check(ensemble: EnergyEnsemble, data, relaxed_into: Sequence[str], margin: float = 0.1) -> dict:
    """How often the ensemble puts a start graph below the lower bound its relaxed record sets:
    over the bounds whose relaxed graph is in ``relaxed_into`` (the test part, which no bound
    trained on), the fraction predicted more than ``margin`` eV below, and the median shortfall
    (eV) of those."""
    held_out = start_graph_bounds(data, relaxed_into)
    if not len(held_out):
        return {"n": 0}
    shortfall = held_out.G - ensemble.predict(held_out.species).mean
    below = shortfall > margin
    return {"n": len(held_out), "margin_eV": margin, "fraction_below": float(below.mean()),
            "median_shortfall_eV": float(np.median(shortfall[below])) if below.any() else 0.0}


def calibrate_and_test(ensemble: EnergyEnsemble, data, parts: dict[str, np.ndarray], stoich=None,
                       resample_draws: int = 0, blend: bool = False) -> dict:
    """Fit the recalibration maps on ``parts['cal']`` and measure on ``parts['test']``.

    Two reaction modes (``sei_net.learn.evaluate``): 'reaction' (every species predicted) and
    'reaction_labels_kept' (species with oracle labels keep them; only the held-out species are
    predicted, which is how a network is scored when its label cache is given). Each mode gets its
    own map, fitted on the reactions that touch a calibration species and no test species. The
    report includes ``bound_check`` on the start graphs that relaxed into the test part, and, with
    ``resample_draws`` > 0 (random splits only: a size split's test part is not a random draw),
    ``test_resampled``: the same measurement over that many random re-splits of the held-out
    species into calibration and test parts (``evaluate.resampled_held_out``). ``blend``: the
    species map reads the likelihood-fitted blend of the two variance parts, not their sum
    (``evaluate.calibration_maps``; off by default, ``sei_net.learn.calibration``)."""
    prediction = ensemble.predict(data.species)
    cal, test = parts["cal"], parts["test"]
    maps, skipped = calibration_maps(prediction, data.G, cal, test, stoich, blend)
    ensemble.calibration.clear()
    ensemble.calibration.update(maps)
    report = {"level_of_theory": data.level_of_theory, "sizes": {k: int(len(v)) for k, v in parts.items()},
              "start_graph_bounds": bound_check(ensemble, data, [data.keys[i] for i in test]),
              "n_labelled_reactions": 0 if stoich is None else int(stoich.shape[0]),
              "test": evaluate(ensemble, data, test, stoich, prediction),
              "calibration_points": {k: v.n for k, v in ensemble.calibration.items()},
              "calibration_skipped": skipped, "variance_blend": blend,
              "novelty_threshold": calibration_threshold(prediction.epistemic[cal]) if len(cal) else None}
    if resample_draws > 0:
        report["test_resampled"] = resampled_held_out(ensemble, data, parts, stoich, resample_draws,
                                                      prediction=prediction, blend=blend)
    return report


def recalibrate_energy_surrogate(path: str | Path, blend: bool = False) -> tuple[EnergyEnsemble, dict]:
    """A trained energy model with its recalibration maps fitted again on its own calibration part
    (split rebuilt from the card, ``split_of_card``; the card's networks must exist), and its test
    figures measured again; the members are untouched. The card also gets the model's
    applicability domain (``training_domain``), which models trained before 2026-11-25 lack.
    Returns the model, its card updated, and the report of ``calibrate_and_test``."""
    model = EnergyEnsemble.load(path, device="cpu")
    require_networks(model.card)
    data, parts = split_of_card(model.card)
    report = remeasure(model, data, parts, blend)
    model.card["domain"] = training_domain(data, parts, model.card).to_card()  # models from before it was kept
    model.card["recalibrated"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return model, report


def require_networks(card: dict) -> list[str]:
    """The networks a model's card names; FileNotFoundError naming those that are not here."""
    networks = card.get("networks", [])
    missing = [p for p in networks if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"the model's card names networks that are not here: {', '.join(missing)}; "
                                "build them first (make networks)")
    return networks


def remeasure(model: EnergyEnsemble, data: LabelledSpecies, parts: dict[str, np.ndarray],
              blend: bool = False) -> dict:
    """Fit ``model``'s maps on its calibration part and measure its test part (``calibrate_and_test``,
    re-splits on a random split) with the labelled reactions of the networks its card names, which
    must exist; the card takes the report. Returns the report."""
    networks = require_networks(model.card)
    stoich = labelled_reactions(networks, data.keys) if networks else None
    draws = RESAMPLED_DRAWS if model.card.get("split") == "random" else 0
    report = calibrate_and_test(model, data, parts, stoich, draws, blend)
    model.card.pop("test_resampled", None)
    model.card.update(report)
    return report


def unseen_species(model: EnergyEnsemble, label_paths: Sequence[str | Path], exclude_test: bool = False,
                   min_heavy: int = ORACLE_MAX_HEAVY) -> tuple[LabelledSpecies, dict, LabelledSpecies, np.ndarray]:
    """``(data, parts, other, index)``: the model's labels and split (species of at most ``min_heavy``
    heavy atoms out of calibration and test, as the main job labels them), the labels of
    ``label_paths`` (the card's coordination treatment), and the rows of those that the model has
    not seen (``seen_keys``; with ``exclude_test`` not tested on either) with more than ``min_heavy``
    heavy atoms."""
    data, parts = split_of_card(model.card)
    parts = without_small(parts, data.n_heavy, min_heavy)
    seen = split_keys(data, parts, model.card) if exclude_test else seen_keys(data, parts, model.card)
    other = load_labels(list(label_paths), coordination=model.card.get("coordination", "keep"))
    index = np.array([i for i, s in enumerate(other.species) if s.key not in seen and s.n_heavy > min_heavy],
                     dtype=np.int64)
    return data, parts, other, index
