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

    def to_dict(self) -> dict:
        return asdict(self)


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
        yield collate([graphs[i] for i in idx]), torch.from_numpy(y[idx].astype(np.float32))


def _loss(mean, var, y, with_variance: bool):
    """(total loss, squared error, NLL) means over the batch; the NLL term sees a detached mean."""
    mse = torch.mean((mean - y) ** 2)
    if not with_variance:
        return mse, mse, torch.zeros(())
    nll = torch.nn.functional.gaussian_nll_loss(mean.detach(), y, var, full=True)
    return mse + nll, mse, nll


def _evaluate(model: EnergyNet, batches, device) -> tuple[float, float]:
    """Validation (mean squared error, Gaussian NLL) in standardised units."""
    model.eval()
    se, nll, count = 0.0, 0.0, 0
    with torch.no_grad():
        for batch, y in batches:
            mean, var = model(batch.to(device))
            y = y.to(device)
            se += float(((mean - y) ** 2).sum())
            nll += float(torch.nn.functional.gaussian_nll_loss(mean, y, var, full=True, reduction="sum"))
            count += len(y)
    return se / max(count, 1), nll / max(count, 1)


def train_member(train_graphs: Sequence[SpeciesGraph], train_y: np.ndarray,
                 val_graphs: Sequence[SpeciesGraph], val_y: np.ndarray, seed: int,
                 config: TrainConfig = TrainConfig(), device: str = "cpu",
                 log: Callable[[dict], None] | None = None) -> tuple[EnergyNet, list[dict]]:
    """Train one member on standardised targets; returns the model (the state with the best
    validation squared error after the warm-up) and its per-epoch history (``kept`` marks the
    epochs whose state was saved as the best so far; the last of them is the returned model)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = EnergyNet(config.hidden, config.layers).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    warmup = int(config.warmup_fraction * config.epochs)
    val_batches = list(_batches(val_graphs, val_y, np.arange(len(val_y)), 1024))
    history: list[dict] = []
    stopper = EarlyStopping(config.patience)
    for epoch in range(config.epochs):
        with_variance = epoch >= warmup
        for group in optimiser.param_groups:
            group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * epoch / config.epochs))
        model.train()
        total_se, total_nll = 0.0, 0.0
        for batch, y in _batches(train_graphs, train_y, rng.permutation(len(train_y)), config.batch_size):
            batch, y = batch.to(device), y.to(device)
            loss, mse, nll = _loss(*model(batch), y, with_variance)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total_se += float(mse.detach()) * len(y)
            total_nll += float(nll.detach()) * len(y)
        val_mse, val_nll = _evaluate(model, val_batches, device)
        kept, stop = stopper.update(model, val_mse, with_variance)
        record = {"epoch": epoch, "train_mse": total_se / len(train_y), "train_nll": total_nll / len(train_y),
                  "val_mse": val_mse, "val_nll": val_nll, "kept": kept}
        history.append(record)
        if log is not None:
            log(record)
        if stop:
            break
    stopper.restore(model)
    return model, history
