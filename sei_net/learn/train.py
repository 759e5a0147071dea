"""Training one ensemble member: the mean by squared error, the variance by Gaussian negative log
likelihood of the (detached) mean's residuals.

The mean never sees the NLL: NLL training lets a network excuse hard points with large variances
instead of fitting them, which costs accuracy on small data sets. The variance head starts after
a warm-up (``warmup_fraction`` of the epochs), once the residuals it learns from mean something.
Learning rate: cosine decay over all epochs. The state with the lowest validation squared error
(after the warm-up) is kept (early stopping). Everything runs in standardised target units.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np
import torch

from sei_net.learn.batching import collate
from sei_net.learn.features import SpeciesGraph
from sei_net.learn.model import EnergyNet


@dataclass
class TrainConfig:
    """Hyperparameters of one member. ``warmup_fraction`` of the epochs train the mean alone."""

    hidden: int = 64
    layers: int = 4
    epochs: int = 300
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-2
    warmup_fraction: float = 0.3
    patience: int = 80
    #: clip each step's gradient to this global L2 norm (None: no clipping). 1.0 by default: on the
    #: shipped labels it kept a member from a one-epoch spike that killed it, and three clipped
    #: members beat the same seeds unclipped (validation MSE 0.033-0.035 against 0.043-0.049;
    #: docs/surrogates.md, "Gradient clipping")
    clip_grad_norm: float | None = 1.0
    #: error penalty of the mean: None is the squared error; a number d (eV) is the Huber loss,
    #: squared below d and linear beyond, so a few outlying labels pull less
    huber_delta: float | None = None
    #: keep an exponential moving average of the weights (this decay per optimiser step) and
    #: validate, early-stop and return the averaged network; None: the raw weights
    ema_decay: float | None = None
    #: the variance head reads detached features, so its NLL trains only the head and not the
    #: message-passing layers shared with the mean (measured, not the default: docs/surrogates.md,
    #: "Training settings screened")
    detach_variance: bool = False

    def network_config(self) -> dict:
        """Keyword arguments of the ``EnergyNet`` these settings train."""
        return {"hidden": self.hidden, "layers": self.layers, "detach_variance": self.detach_variance}

    def to_dict(self) -> dict:
        """The settings; an option added after the first trained models (``LATER_OPTIONS``) is left
        out while it has the value that reproduces training from before it existed, so checkpoint
        fingerprints and model cards of those runs still match."""
        return {k: v for k, v in asdict(self).items() if k not in LATER_OPTIONS or LATER_OPTIONS[k] != v}


#: options added to TrainConfig after models were trained, and the value that trains as before them
LATER_OPTIONS = {"huber_delta": None, "ema_decay": None, "detach_variance": False, "architecture": "cgr"}


class EarlyStopping:
    """Keeps the model state with the lowest validation squared error once the variance head
    trains (after the warm-up), and says when ``patience`` epochs have passed without a better one."""

    def __init__(self, patience: int):
        self.patience, self.best, self.state, self.since = patience, math.inf, None, 0

    def update(self, model: torch.nn.Module, val_mse: float, with_variance: bool) -> tuple[bool, bool]:
        """(this epoch's state was kept, training should stop)."""
        if not with_variance:
            return False, False
        if val_mse < self.best:
            self.best, self.state, self.since = val_mse, copy.deepcopy(model.state_dict()), 0
            return True, False
        self.since += 1
        return False, self.since >= self.patience

    def restore(self, model: torch.nn.Module) -> None:
        """Load the kept state (if any) and switch the model to evaluation mode."""
        if self.state is not None:
            model.load_state_dict(self.state)
        model.eval()


def _batches(graphs: Sequence[SpeciesGraph], y: np.ndarray, order: np.ndarray, size: int):
    for start in range(0, len(order), size):
        idx = order[start:start + size]
        yield collate([graphs[i] for i in idx]), torch.from_numpy(y[idx].astype(np.float32)), idx


def _penalty(error: torch.Tensor, huber_delta: float | None) -> torch.Tensor:
    """Squared error, or (with ``huber_delta``) twice the Huber loss: error^2 below the delta and
    2 delta |error| - delta^2 beyond it, so both agree for small errors."""
    if huber_delta is None:
        return error ** 2
    return 2.0 * torch.nn.functional.huber_loss(error, torch.zeros_like(error), reduction="none", delta=huber_delta)


def _loss(mean, var, y, with_variance: bool, bound: torch.Tensor | None = None,
          huber_delta: float | None = None):
    """(total loss, squared error, NLL) over the batch's labels; the NLL term sees a detached mean.

    Rows flagged in ``bound`` are lower bounds: they cost the penalty of relu(y - mean) (nothing
    once the prediction is at or above the bound), summed and divided by the number of labels in
    the batch, so a violated bound weighs as much as a label's error and the labels' gradient
    scale is the same with or without bounds. The penalty is the squared error, or the Huber loss
    with ``huber_delta``."""
    if bound is None:
        bound = torch.zeros_like(y, dtype=torch.bool)
    label = ~bound
    n_labels = label.sum().clamp(min=1)
    mse = torch.sum(((mean - y) ** 2)[label]) / n_labels
    fit = mse if huber_delta is None else torch.sum(_penalty(mean - y, huber_delta)[label]) / n_labels
    total = fit + torch.sum(_penalty(torch.relu(y - mean)[bound], huber_delta)) / n_labels
    if not with_variance or not label.any():
        return total, mse, torch.zeros(())
    nll = torch.nn.functional.gaussian_nll_loss(mean.detach()[label], y[label], var[label], full=True)
    return total + nll, mse, nll


def _evaluate(model: EnergyNet, batches, device) -> tuple[float, float]:
    """Validation (mean squared error, Gaussian NLL) in standardised units."""
    model.eval()
    se, nll, count = 0.0, 0.0, 0
    with torch.no_grad():
        for batch, y, _ in batches:
            mean, var = model(batch.to(device))
            y = y.to(device)
            se += float(((mean - y) ** 2).sum())
            nll += float(torch.nn.functional.gaussian_nll_loss(mean, y, var, full=True, reduction="sum"))
            count += len(y)
    return se / max(count, 1), nll / max(count, 1)


def largest_miss(model: EnergyNet, graphs: Sequence[SpeciesGraph], y: np.ndarray, device: str,
                 lower_bounds: bool = False) -> tuple[float, int]:
    """(largest error, its index) of ``model``'s mean over ``graphs`` against standardised targets
    ``y``: |mean - y|, or with ``lower_bounds`` how far the mean falls below y (0 at or above it);
    (0.0, -1) for no graphs."""
    if not len(graphs):
        return 0.0, -1
    model.eval()
    errors = []
    with torch.no_grad():
        for batch, target, _ in _batches(graphs, np.asarray(y), np.arange(len(graphs)), 1024):
            mean, _ = model(batch.to(device))
            error = target.to(device) - mean
            errors.append((torch.relu(error) if lower_bounds else error.abs()).cpu().numpy())
    errors = np.concatenate(errors)
    worst = int(np.argmax(errors))
    return float(errors[worst]), worst


def train_member(train_graphs: Sequence[SpeciesGraph], train_y: np.ndarray,
                 val_graphs: Sequence[SpeciesGraph], val_y: np.ndarray, seed: int,
                 config: TrainConfig = TrainConfig(), device: str = "cpu",
                 log: Callable[[dict], None] | None = None,
                 bound_graphs: Sequence[SpeciesGraph] = (), bound_y: np.ndarray | None = None,
                 y_scale: float = 1.0) -> tuple[EnergyNet, list[dict]]:
    """Train one member on standardised targets; returns the model (the state with the best
    validation squared error after the warm-up) and its per-epoch history (``kept`` marks the
    epochs whose state was saved as the best so far; the last of them is the returned model).
    ``bound_graphs``/``bound_y``: species whose standardised target is only a lower bound
    (``_loss``); they are shuffled into the training batches. ``y_scale``: eV per standardised
    unit (turns ``config.huber_delta`` into standardised units)."""
    delta = None if config.huber_delta is None else config.huber_delta / y_scale
    graphs = list(train_graphs) + list(bound_graphs)
    y_all = np.concatenate([train_y, np.asarray(bound_y if bound_y is not None else [], dtype=float)])
    is_bound = torch.from_numpy(np.arange(len(graphs)) >= len(train_graphs))
    n_labels = len(train_y)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = EnergyNet(**config.network_config()).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    warmup = int(config.warmup_fraction * config.epochs)
    averaged = None if config.ema_decay is None else copy.deepcopy(model)
    judged = model if averaged is None else averaged           # the network validated and returned
    val_batches = list(_batches(val_graphs, val_y, np.arange(len(val_y)), 1024))
    history: list[dict] = []
    stopper = EarlyStopping(config.patience)
    for epoch in range(config.epochs):
        with_variance = epoch >= warmup
        for group in optimiser.param_groups:
            group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
        model.train()
        total_se, total_nll = 0.0, 0.0
        for batch, y, idx in _batches(graphs, y_all, rng.permutation(len(graphs)), config.batch_size):
            batch, y, bound = batch.to(device), y.to(device), is_bound[idx].to(device)
            loss, mse, nll = _loss(*model(batch), y, with_variance, bound, delta)
            optimiser.zero_grad()
            loss.backward()
            if config.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
            optimiser.step()
            if averaged is not None:
                _average_into(averaged, model, config.ema_decay)
            labels_here = int((~bound).sum())
            total_se += float(mse.detach()) * labels_here
            total_nll += float(nll.detach()) * labels_here
        val_mse, val_nll = _evaluate(judged, val_batches, device)
        kept, stop = stopper.update(judged, val_mse, with_variance)
        record = {"epoch": epoch, "train_mse": total_se / n_labels, "train_nll": total_nll / n_labels,
                  "val_mse": val_mse, "val_nll": val_nll, "kept": kept}
        history.append(record)
        if log is not None:
            log(record)
        if stop:
            break
    stopper.restore(judged)
    return judged, history


def _average_into(averaged: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """averaged <- decay * averaged + (1 - decay) * model, parameter by parameter."""
    with torch.no_grad():
        for a, p in zip(averaged.parameters(), model.parameters()):
            a.mul_(decay).add_(p, alpha=1.0 - decay)
