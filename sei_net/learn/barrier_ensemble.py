"""Deep ensemble of barrier networks: training, prediction with member-wise dG, persistence.

Member m turns reaction i's dG (eV; member-wise when an energy ensemble of the same size supplies
them, so the energy and barrier uncertainties travel together) into barrier_im =
clipped_marcus(dG_im, lambda_im) and an aleatoric variance s2_im. Ensemble mean, epistemic
(var over members), aleatoric (mean over members) and isotonic recalibration are those of
``sei_net.learn.ensemble.EnsemblePrediction``.

Training one member: squared or absolute error of the barrier (eV; ``BarrierTrainConfig.loss``),
then, after a warm-up, the Gaussian NLL of the detached barrier's residuals for the variance head
(as for the energy members); AdamW with cosine decay; early stopping on the validation error of the
same kind. The absolute error suits the labels' heavy tails (most barrierless reactions sit at
exactly max(0, dG), a few transition states are off by an eV) and is the metric the model is
judged by.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from sei_net.chem.reaction import Reaction
from sei_net.learn.barrier_embedding import (ARCHITECTURE as EMBEDDING, EmbeddingBarrierNet, PreparedReactions,
                                             cached_lambdas, prepare_reactions, training_batch)
from sei_net.learn.barrier_model import CLASS_COLUMNS, BarrierNet, clipped_marcus, fit_class_lambdas
from sei_net.learn.batching import collate
from sei_net.learn.calibration import IsotonicVarianceMap
from sei_net.learn.ensemble import (EnsemblePrediction, load_members, read_model_file, resolve_device,
                                    write_model_file)
from sei_net.learn.reaction_graph import ReactionGraph, condensed_graph
from sei_net.learn.train import EarlyStopping, TrainConfig

FORMAT_VERSION = 1
BARRIER_LOSSES = ("squared", "absolute")
#: 'cgr': message passing over each reaction's condensed graph (``barrier_model``); 'species_embedding':
#: each species encoded once, each reaction read from its centre atoms' states (``barrier_embedding``)
ARCHITECTURES = ("cgr", EMBEDDING)


@dataclass
class BarrierTrainConfig(TrainConfig):
    """``TrainConfig`` with the barrier network's defaults (smaller: a few hundred labels)."""

    hidden: int = 48
    layers: int = 3
    batch_size: int = 32
    #: 'squared' or 'absolute' error of the barrier
    loss: str = "absolute"
    #: start from the per-class clipped-Marcus fit and learn departures from it (``barrier_model``)
    anchored: bool = False
    #: one of ``ARCHITECTURES``
    architecture: str = "cgr"

    def __post_init__(self):
        if self.loss not in BARRIER_LOSSES:
            raise ValueError(f"barrier loss {self.loss!r} is not valid; valid losses: {', '.join(BARRIER_LOSSES)}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"barrier architecture {self.architecture!r} is not valid; "
                             f"valid: {', '.join(ARCHITECTURES)}")
        if self.anchored and self.architecture != "cgr":
            raise ValueError("the anchored variant is built for the 'cgr' architecture only")

    def new_network(self):
        """An untrained member of these settings."""
        if self.architecture == EMBEDDING:
            return EmbeddingBarrierNet(self.hidden, self.layers)
        return BarrierNet(self.hidden, self.layers, self.anchored)


def prepare(reactions: Sequence[Reaction], architecture: str,
            cache: dict | None = None) -> list[ReactionGraph] | PreparedReactions:
    """What a member of ``architecture`` reads for ``reactions``: their condensed graphs ('cgr') or
    ``PreparedReactions``. ``cache``: species key -> featurised species, kept across calls."""
    if architecture == EMBEDDING:
        return prepare_reactions(reactions, cache)
    return [condensed_graph(r, cache) for r in reactions]


def take(inputs: list[ReactionGraph] | PreparedReactions, idx) -> list[ReactionGraph] | PreparedReactions:
    """The reactions ``idx`` of prepared inputs (either architecture)."""
    if isinstance(inputs, PreparedReactions):
        return inputs.subset(idx)
    return [inputs[i] for i in idx]


def _network_class(config: dict):
    return EmbeddingBarrierNet if config.get("architecture", "cgr") == EMBEDDING else BarrierNet


def _batch(graphs, idx, device):
    if isinstance(graphs, PreparedReactions):
        batch, inputs = training_batch(graphs, idx)
        return batch.to(device), inputs.to(device)
    chosen = [graphs[i] for i in idx]
    centre = torch.from_numpy(np.concatenate([g.centre for g in chosen]))
    return collate(chosen).to(device), centre.to(device)


def _predict_member(model, graphs, dG: np.ndarray, device, batch_size: int = 1024):
    """(barrier, aleatoric variance, lambda) of one member for prepared reactions (eV, eV^2, eV)."""
    if isinstance(graphs, PreparedReactions):
        lam, var = cached_lambdas(model, graphs, device)
    else:
        lam, var = np.empty(len(graphs)), np.empty(len(graphs))
        with torch.inference_mode():
            for start in range(0, len(graphs), batch_size):
                idx = range(start, min(start + batch_size, len(graphs)))
                l, v = model(*_batch(graphs, idx, device))
                lam[start:start + len(l)] = l.double().cpu().numpy()
                var[start:start + len(l)] = v.double().cpu().numpy()
    barrier = clipped_marcus(torch.from_numpy(np.asarray(dG, float)), torch.from_numpy(lam)).numpy()
    return barrier, var, lam


def train_barrier_member(graphs, dG: np.ndarray, y: np.ndarray, train: np.ndarray,
                         val: np.ndarray, seed: int, config: BarrierTrainConfig = BarrierTrainConfig(),
                         device: str = "cpu") -> tuple[BarrierNet | EmbeddingBarrierNet, list[dict]]:
    """One member trained on the ``train`` indices of prepared reactions (``prepare`` with the
    config's architecture), early-stopped on ``val`` (eV targets)."""
    if isinstance(graphs, PreparedReactions) != (config.architecture == EMBEDDING):
        raise ValueError(f"inputs prepared for another architecture than {config.architecture!r}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = config.new_network()
    if config.anchored:
        onehot = torch.from_numpy(np.stack([graphs[i].globals[CLASS_COLUMNS] for i in train]))
        model.class_lambda.copy_(fit_class_lambdas(onehot, torch.as_tensor(np.asarray(dG)[train]),
                                                   torch.as_tensor(np.asarray(y)[train]),
                                                   2 if config.loss == "squared" else 1))
    model = model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    dG_t = torch.as_tensor(np.asarray(dG, np.float32))
    y_t = torch.as_tensor(np.asarray(y, np.float32))
    warmup = int(config.warmup_fraction * config.epochs)
    power = 2 if config.loss == "squared" else 1

    def error_power(err):
        return err.abs() ** power

    history, stopper = [], EarlyStopping(config.patience)
    for epoch in range(config.epochs):
        with_variance = epoch >= warmup
        for group in opt.param_groups:
            group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
        model.train()
        order = rng.permutation(train)
        for start in range(0, len(order), config.batch_size):
            idx = order[start:start + config.batch_size]
            lam, var = model(*_batch(graphs, idx, device))
            pred = clipped_marcus(dG_t[idx].to(device), lam)
            target = y_t[idx].to(device)
            loss = torch.mean(error_power(pred - target))
            if with_variance:
                loss = loss + torch.nn.functional.gaussian_nll_loss(pred.detach(), target, var, full=True)
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        pred, _, _ = _predict_member(model, take(graphs, val), dG[val], device)
        val_error = float(np.mean(np.abs(pred - y[val]) ** power))
        kept, stop = stopper.update(model, val_error, with_variance)
        history.append({"epoch": epoch, "val_" + ("mse" if power == 2 else "mae"): val_error, "kept": kept})
        if stop:
            break
    stopper.restore(model)
    return model, history


@dataclass
class BarrierEnsemble:
    """Trained barrier members, their recalibration map and model card."""

    members: list[BarrierNet | EmbeddingBarrierNet]
    level_of_theory: str
    calibration: IsotonicVarianceMap | None = None
    card: dict = field(default_factory=dict)
    device: str = "cpu"

    @classmethod
    def train(cls, graphs, dG: np.ndarray, y: np.ndarray, train: np.ndarray,
              val: np.ndarray, level_of_theory: str, n_members: int = 5,
              config: BarrierTrainConfig = BarrierTrainConfig(), seed: int = 0,
              device: str = "auto") -> "BarrierEnsemble":
        """``n_members`` members with seeds seed..seed+M-1 (initialisation and data order), on
        reactions prepared for the config's architecture (``prepare``)."""
        device = resolve_device(device)
        members, histories = [], []
        for m in range(n_members):
            model, hist = train_barrier_member(graphs, np.asarray(dG, float), np.asarray(y, float), train, val,
                                               seed + m, config, device)
            members.append(model)
            best = next((h for h in reversed(hist) if h["kept"]), hist[-1])
            histories.append({"epochs": len(hist), "best_epoch": best["epoch"],
                              **{k: v for k, v in best.items() if k.startswith("val_")}})
        card = {"train_size": int(len(train)), "val_size": int(len(val)), "config": config.to_dict(),
                "seed": seed, "members": histories}
        return cls(members, level_of_theory, None, card, device)

    @property
    def domain_classes(self) -> list[str] | None:
        """Reaction classes the model speaks for: the card's ``domain_classes`` (``sei-net
        train-barriers --domain``), else the classes it was trained on; None when the card names
        neither (every class)."""
        return self.card.get("domain_classes", self.card.get("trained_classes"))

    @property
    def architecture(self) -> str:
        return self.members[0].config.get("architecture", "cgr")

    def predict_graphs(self, graphs, dG: np.ndarray) -> EnsemblePrediction:
        """Member barriers (eV) for prepared reactions (``prepare`` with this model's architecture);
        ``dG`` (n,) or member-wise (n, M) reaction free energies."""
        dG = np.asarray(dG, float)
        M = len(self.members)
        if dG.ndim == 2 and dG.shape[1] != M:
            dG = dG.mean(axis=1)
        out, var = np.empty((len(graphs), M)), np.empty((len(graphs), M))
        for m, model in enumerate(self.members):
            out[:, m], var[:, m], _ = _predict_member(model, graphs, dG[:, m] if dG.ndim == 2 else dG, self.device)
        return EnsemblePrediction(out, var, self.calibration)

    def predict(self, reactions: Sequence[Reaction], dG: np.ndarray) -> EnsemblePrediction:
        return self.predict_graphs(prepare(reactions, self.architecture), dG)

    def lambdas(self, reactions: Sequence[Reaction]) -> np.ndarray:
        """lambda (eV) per reaction and member, shape (n, M); lambda/4 is the barrier at dG = 0."""
        graphs = prepare(reactions, self.architecture, {})
        return np.stack([_predict_member(m, graphs, np.zeros(len(graphs)), self.device)[2]
                         for m in self.members], axis=1)

    def calibrate(self, prediction: EnsemblePrediction, target: np.ndarray) -> IsotonicVarianceMap:
        raw = prediction.epistemic + prediction.aleatoric
        self.calibration = IsotonicVarianceMap.fit(raw, prediction.mean - np.asarray(target))
        return self.calibration

    def save(self, path: str | Path) -> None:
        payload = {"format": FORMAT_VERSION, "kind": "barrier", "config": self.members[0].config,
                   "states": [{k: v.detach().cpu() for k, v in m.state_dict().items()} for m in self.members],
                   "level_of_theory": self.level_of_theory,
                   "calibration": None if self.calibration is None else self.calibration.to_dict(),
                   "card": self.card}
        write_model_file(path, payload)

    @classmethod
    def load(cls, path: str | Path, device: str = "auto") -> "BarrierEnsemble":
        payload = read_model_file(path, "barrier", FORMAT_VERSION, "sei-net train-barriers")
        members = load_members(_network_class(payload["config"]), payload)
        cal = payload["calibration"]
        device = resolve_device(device)
        for model in members:
            model.to(device)
        return cls(members, payload["level_of_theory"], None if cal is None else IsotonicVarianceMap.from_dict(cal),
                   payload["card"], device)
