"""Probe: refit each member's detached variance head on its final mean (the rest fixed); measured, not adopted.

With ``EnergyNet(detach_variance=True)`` the kept mean does not depend on the head, so the head
alone can be refitted afterwards on the residuals of the kept mean: the pooled states are computed
once and the head (a small MLP) is fitted by Gaussian NLL on the training labels, keeping the
state with the lowest validation NLL after the one variance scale that minimises it (the starting
head included). The ensemble is then recalibrated and measured as ``sei-net train`` does
(``calibrate_and_test``, resampled medians). Standardised target units inside, eV in the output.

    python examples/variance_head_refit.py DETACHED.pt OUT.pt     # ~2 min on two cores

On the detached ensemble of 2026-11-22 it changed nothing that matters (docs/surrogates.md,
"Variance head"): the training residuals are far smaller than held-out ones, so a head fitted to
them is no better at ranking held-out errors, and the validation NLL kept the starting head or one
a few epochs on.
"""

import copy
import sys
import time
from typing import Sequence

import numpy as np
import torch

from sei_net.learn.batching import collate
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import labelled_reactions
from sei_net.learn.features import SpeciesGraph, featurise
from sei_net.learn.fit import RESAMPLED_DRAWS, calibrate_and_test, split_of_card
from sei_net.learn.model import EnergyNet


def _residuals_and_states(model: EnergyNet, graphs: Sequence[SpeciesGraph], y: np.ndarray, device: str,
                          chunk: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """(y - mean, pooled states) of the graphs under the model's fixed layers."""
    residuals, states = [], []
    with torch.no_grad():
        for start in range(0, len(graphs), chunk):
            mean, pooled = model.mean_and_pooled(collate(list(graphs[start:start + chunk])).to(device))
            residuals.append(torch.as_tensor(y[start:start + chunk], dtype=torch.float32, device=device) - mean)
            states.append(pooled)
    return torch.cat(residuals), torch.cat(states)


def _nll(model: EnergyNet, residual: torch.Tensor, states: torch.Tensor, rescale: bool = False) -> torch.Tensor:
    """Gaussian NLL of the residuals under the head's variances; with ``rescale``, after scaling
    every variance by the one factor that minimises it (mean of r^2/var), which leaves the
    variances' ranking and shape to be judged and not their overall size."""
    var = model.variance_of(states)
    if rescale:
        var = var * torch.mean(residual ** 2 / var)
    return torch.nn.functional.gaussian_nll_loss(torch.zeros_like(residual), residual, var, full=True)


def refit_variance_head(model: EnergyNet, train_graphs: Sequence[SpeciesGraph], train_y: np.ndarray,
                        val_graphs: Sequence[SpeciesGraph], val_y: np.ndarray, epochs: int = 300,
                        lr: float = 1e-3, batch_size: int = 256, seed: int = 0, device: str = "cpu") -> dict:
    """Train ``model.variance_readout`` alone (in place) on the residuals of its fixed mean;
    returns {"val_nll_before", "val_nll_after", "best_epoch"} (standardised units, -1: the
    starting head was kept). Needs a detached head: a shared one shaped the layers it reads."""
    if not model.detach_variance:
        raise ValueError("refit_variance_head needs a model with detach_variance=True; a shared variance head "
                         "also trained the layers the mean is read from, so it cannot be refitted alone")
    if len(train_y) == 0 or len(val_y) == 0:
        raise ValueError("refit_variance_head needs training and validation labels (got "
                         f"{len(train_y)} and {len(val_y)})")
    model.eval()
    train_r, train_s = _residuals_and_states(model, train_graphs, np.asarray(train_y), device)
    val_r, val_s = _residuals_and_states(model, val_graphs, np.asarray(val_y), device)
    head = model.variance_readout
    with torch.no_grad():
        before = best = float(_nll(model, val_r, val_s, rescale=True))
    best_state, best_epoch = copy.deepcopy(head.state_dict()), -1
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(head.parameters(), lr=lr)
    for epoch in range(epochs):
        head.train()
        for idx in torch.randperm(len(train_r), generator=generator).split(batch_size):
            idx = idx.to(device)
            loss = _nll(model, train_r[idx], train_s[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        head.eval()
        with torch.no_grad():
            val = float(_nll(model, val_r, val_s, rescale=True))
        if val < best:
            best, best_state, best_epoch = val, copy.deepcopy(head.state_dict()), epoch
    head.load_state_dict(best_state)
    model.eval()
    return {"val_nll_before": before, "val_nll_after": best, "best_epoch": best_epoch}


def standardised(ensemble: EnergyEnsemble, data, part: np.ndarray) -> tuple[list, np.ndarray]:
    """Graphs and standardised targets of a part, as the ensemble's members were trained on them."""
    sub = data.subset(part)
    graphs = [featurise(s) for s in sub.species]
    comp = np.stack([g.composition for g in graphs])
    charge = np.array([s.charge for s in sub.species], dtype=float)
    return graphs, (sub.G - ensemble.baseline(comp, charge) - ensemble.y_mean) / ensemble.y_std


def main() -> None:
    source, out = sys.argv[1], sys.argv[2]
    ensemble = EnergyEnsemble.load(source, device="cpu")
    data, parts = split_of_card(ensemble.card)
    train_graphs, train_y = standardised(ensemble, data, parts["train"])
    val_graphs, val_y = standardised(ensemble, data, parts["val"])
    for m, model in enumerate(ensemble.members):
        start = time.time()
        summary = refit_variance_head(model, train_graphs, train_y, val_graphs, val_y, seed=m)
        print(f"member {m}: {summary} ({time.time() - start:.0f} s)", flush=True)
    stoich = labelled_reactions(ensemble.card["networks"], data.keys)
    report = calibrate_and_test(ensemble, data, parts, stoich, RESAMPLED_DRAWS)
    ensemble.card.update(report)
    ensemble.save(out)
    print("resampled medians (eV against GFN2):")
    for kind, metrics in report["test_resampled"]["metrics"].items():
        print(f"{kind:22s}", "  ".join(f"{name} {metrics[name]['median']:.3f}" for name in
                                       ("mae", "miscalibration_area", "coverage_95", "spearman", "ence", "nll")))


if __name__ == "__main__":
    torch.set_num_threads(2)
    main()
