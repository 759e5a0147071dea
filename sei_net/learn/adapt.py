"""Adapting a trained energy ensemble to new oracle labels by fine-tuning, in minutes on a CPU.

Retraining an ensemble takes hours on two cores; a network of a new electrolyte needs only the
species it adds. Each member starts from its trained state and trains for a few epochs (cosine
learning rate, no early stopping) on the new labels plus a replay of ``replay`` species drawn from
its own training part (all of it by default), so that it drifts less on the old chemistry. The per-element
baseline and target scaling stay as they are; the recalibration maps are fitted again on the
model's own calibration part (``fit.remeasure``), which the fine-tuning never sees, and the
card's test figures are measured again on its own test part. New labels of species the model
already trained, early-stopped, was calibrated or tested on are left out, so those parts stay what
the card says. Lower bounds (start graphs) are not replayed.

What it buys and costs, measured on the VC network no shipped model trained on
(docs/surrogates.md, "Adapting to a new network"; GFN2 labels, medians of 3 cuts): 200 labels of
its larger species, picked by the members' disagreement, take the labels-kept reaction MAE on the
other half of the network from 0.22 to 0.17 eV and its species MAE from 0.26 to 0.18 eV. On the
model's own test species the species MAE holds (0.117 against 0.122) and the all-predicted
reaction MAE nearly so (0.208 against 0.204); the labels-kept one grows by 10 % (one run).
"""

from __future__ import annotations

import datetime
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from sei_net.learn.dataset import LabelledSpecies, load_labels
from sei_net.learn.ensemble import EnergyEnsemble, load_members
from sei_net.learn.features import SpeciesGraph, featurise
from sei_net.learn.model import EnergyNet
from sei_net.learn.train import _batches, _loss


@dataclass
class AdaptConfig:
    """Fine-tuning settings: ``epochs`` over new labels + replay, peak learning rate ``lr`` (cosine
    decay to 0), ``replay`` training species per member (None: all of them). The defaults, every
    training species for 10 epochs, beat 3,000 for 20 on the new network and drift less on the old
    one, for 1.5 times the time (docs/surrogates.md, "Adapting to a new network")."""

    epochs: int = 10
    lr: float = 5e-4
    replay: int | None = None
    batch_size: int = 64
    weight_decay: float = 1e-2
    clip_grad_norm: float = 1.0
    #: pull toward the trained weights, decoupled like AdamW's decay: after each step every weight
    #: moves by lr * anchor * (its trained value - its value); 0: no pull
    anchor: float = 0.0

    def check(self) -> None:
        if (self.epochs < 1 or not self.lr > 0 or (self.replay is not None and self.replay < 0)
                or self.batch_size < 1 or self.anchor < 0):
            raise ValueError(f"adapt settings {asdict(self)} are not valid; give epochs >= 1, lr > 0, "
                             "replay >= 0 or None (all), batch_size >= 1 and anchor >= 0")


def fine_tune_member(net_config: dict, state: dict, graphs: Sequence[SpeciesGraph], y: np.ndarray, seed: int,
                     config: AdaptConfig = AdaptConfig()) -> dict:
    """One member's state after ``config.epochs`` epochs from ``state`` on standardised targets ``y``
    (mean by squared error, variance head by Gaussian NLL of the detached mean, as in training)."""
    net = load_members(EnergyNet, {"config": net_config, "states": [state]})[0]
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    y = np.asarray(y, dtype=float)
    trained = [p.detach().clone() for p in net.parameters()] if config.anchor else []
    for epoch in range(config.epochs):
        lr = config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
        for group in optimiser.param_groups:
            group["lr"] = lr
        net.train()
        for batch, target, _ in _batches(graphs, y, rng.permutation(len(graphs)), config.batch_size):
            loss, _, _ = _loss(*net(batch), target, True)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), config.clip_grad_norm)
            optimiser.step()
            if trained:
                with torch.no_grad():
                    for p, p0 in zip(net.parameters(), trained):
                        p.add_(p0 - p, alpha=min(1.0, lr * config.anchor))
    net.eval()
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


#: what every member trains on (graphs, standardised targets), once per worker process
_WORKER_DATA: tuple | None = None


def _start_worker(data: tuple) -> None:
    global _WORKER_DATA
    torch.set_num_threads(1)
    _WORKER_DATA = data


def _fine_tune_job(job: tuple, data: tuple | None = None) -> dict:
    """Fine-tune one member: ``job`` is (network config, state, replay rows, seed, settings);
    ``data`` (replay graphs, replay targets, new graphs, new targets), or the worker's."""
    net_config, state, take, seed, config = job
    replay_graphs, replay_y, new_graphs, new_y = data or _WORKER_DATA
    graphs = [replay_graphs[i] for i in take] + list(new_graphs)
    return fine_tune_member(net_config, state, graphs, np.concatenate([replay_y[take], new_y]), seed, config)


def standardised_targets(ensemble: EnergyEnsemble, data: LabelledSpecies) -> tuple[list, np.ndarray]:
    """Featurised species and their targets in the ensemble's standardised units (baseline removed)."""
    graphs = [featurise(s) for s in data.species]
    if not graphs:
        return graphs, np.zeros(0)
    composition = np.stack([g.composition for g in graphs])
    charge = np.array([s.charge for s in data.species], dtype=float)
    return graphs, (np.asarray(data.G, dtype=float) - ensemble.baseline(composition, charge) - ensemble.y_mean) / ensemble.y_std


def fine_tune(ensemble: EnergyEnsemble, new: LabelledSpecies, replay_pool: LabelledSpecies,
              config: AdaptConfig = AdaptConfig(), seed: int = 0, workers: int = 1) -> EnergyEnsemble:
    """A copy of ``ensemble`` whose members are fine-tuned on ``new`` plus ``config.replay`` species
    of ``replay_pool`` (drawn per member with seed + m; ``new`` may be empty: the replay alone, a
    control for the extra epochs). ``workers`` > 1: members in that many
    one-thread processes. Maps and card are the original's (``adapt_energy_surrogate`` refits them)."""
    config.check()
    if workers < 1:
        raise ValueError(f"workers={workers} is not valid; give 1 or more")
    new_graphs, new_y = standardised_targets(ensemble, new)
    if new_graphs:
        known = ensemble.baseline.knows(np.stack([g.composition for g in new_graphs]))
        if not known.all():
            raise ValueError(f"new label {new.species[int(np.flatnonzero(~known)[0])].key!r} has an element the "
                             f"model's baseline has no term for (it knows {', '.join(ensemble.baseline.elements)}); "
                             "a new element needs a model trained with it (sei-net train)")
    data = (*standardised_targets(ensemble, replay_pool), new_graphs, new_y)   # featurised once for all members
    n_replay = len(replay_pool) if config.replay is None else min(config.replay, len(replay_pool))
    jobs = [(member.config, {k: v.detach().cpu().clone() for k, v in member.state_dict().items()},
             np.random.default_rng(seed + m).choice(len(replay_pool), n_replay, replace=False), seed + m, config)
            for m, member in enumerate(ensemble.members)]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_worker, initargs=(data,)) as pool:
            states = list(pool.map(_fine_tune_job, jobs))
    else:
        states = [_fine_tune_job(job, data) for job in jobs]
    members = load_members(EnergyNet, {"config": ensemble.members[0].config, "states": states})
    return EnergyEnsemble(members, ensemble.baseline, ensemble.y_mean, ensemble.y_std, ensemble.level_of_theory,
                          dict(ensemble.calibration), dict(ensemble.card)).to(ensemble.device)


def adapt_energy_surrogate(path: str | Path, label_paths: Sequence[str | Path], config: AdaptConfig = AdaptConfig(),
                           seed: int = 0, workers: int = 1) -> tuple[EnergyEnsemble, dict]:
    """The model at ``path`` fine-tuned on the labels of ``label_paths`` (``fine_tune``; replay from
    its training part), its maps refitted on its own calibration part and its test part measured
    again (``fit.remeasure``; the card's networks must exist). Returns the model and its
    report; the card records what it was adapted to (``adapted``: files, settings, species keys)."""
    from sei_net.learn.fit import remeasure, require_networks, split_keys, split_of_card, training_domain

    model = EnergyEnsemble.load(path, device="cpu")
    require_networks(model.card)          # before the minutes of fine-tuning: remeasure needs them
    data, parts = split_of_card(model.card)
    labels = load_labels(list(label_paths), coordination=model.card.get("coordination", "keep"))
    if labels.level_of_theory != model.level_of_theory:
        raise ValueError(f"the labels are at {labels.level_of_theory!r} but the model at {model.level_of_theory!r}; "
                         "give labels of the model's level of theory")
    # the card's own parts stay as the card says; species of an earlier adaptation train again
    known = split_keys(data, parts)
    fresh = [i for i, key in enumerate(labels.keys) if key not in known]
    if not fresh:
        raise ValueError(f"every species of {', '.join(map(str, label_paths))} is already in the model's split; "
                         "give labels of species it has not seen")
    tuned = fine_tune(model, labels.subset(fresh), data.subset(parts["train"]), config, seed, workers)
    report = remeasure(tuned, data, parts)
    earlier = tuned.card.get("adapted", {})
    tuned.card["adapted"] = {
        "labels": [*earlier.get("labels", []), *map(str, label_paths)],
        "keys": sorted(set(earlier.get("keys", [])) | {labels.keys[i] for i in fresh}),
        "left_out_known": len(labels) - len(fresh), "config": asdict(config), "seed": seed,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    tuned.card["domain"] = training_domain(data, parts, tuned.card).to_card()   # the new labels' environments too
    return tuned, report
