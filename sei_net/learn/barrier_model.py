"""The barrier surrogate: a graph network on the condensed graph of reaction that predicts an
intrinsic barrier, turned into an activation free energy through a form that respects physics.

Form (clipped Marcus; energies in eV): with intrinsic barrier b = lambda/4 > 0 and reaction free
energy dG,
    dG_act = dG                          if dG >= lambda
           = (lambda/4) (1 + dG/lambda)^2  if |dG| < lambda
           = 0                           if dG <= -lambda   (no inverted region for bond changes)
It is never below max(0, dG), is continuous with a continuous slope, and since the CGR (hence
lambda) is the same for a reaction and its reverse, forward minus reverse barrier is exactly dG.
The network reads lambda from the pooled CGR (mean over all atoms, mean over the reaction centre,
global state) through a softplus, plus a floor of ``MIN_LAMBDA``; a second head gives the
aleatoric variance of the barrier (eV^2) through a softplus.

Anchored variant (``anchored=True``): lambda = lambda_class * exp(r), where lambda_class is the
per-class clipped-Marcus fit on the training labels (``fit_class_lambdas``, stored with the model)
and r the network's readout, which starts at exactly 0: training begins from the per-class
baseline and learns the reaction's departure from it.
"""

from __future__ import annotations

import torch
from torch import nn

from sei_net.learn.model import InteractionLayer, _segment_mean, _segment_sum, mlp
from sei_net.learn.features import N_GLOBAL_FEATURES
from sei_net.learn.reaction_graph import (N_CGR_ATOM_FEATURES, N_CGR_BOND_FEATURES, N_CGR_GLOBAL_FEATURES,
                                          REACTION_CLASSES)

#: smallest reorganisation-like energy lambda = 4 x intrinsic barrier (eV)
MIN_LAMBDA = 1e-3
#: floor of the predicted variance (eV^2)
MIN_VARIANCE = 1e-4
#: where the reaction-class one-hot sits in the CGR global features (``reaction_graph``)
CLASS_COLUMNS = slice(2 * N_GLOBAL_FEATURES, 2 * N_GLOBAL_FEATURES + len(REACTION_CLASSES))
#: lambda grid (eV) of the per-class fit
LAMBDA_GRID = torch.arange(0.01, 8.0, 0.01, dtype=torch.float64)
#: the anchored readout changes lambda by at most this factor either way (exp(3) = 20)
MAX_LOG_DEPARTURE = 3.0


def clipped_marcus(dG: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """Activation free energy (eV) from dG and lambda (eV), broadcasting; see the module docstring."""
    x = torch.clamp(dG / lam, -1.0, 1.0)
    inside = lam / 4.0 * (1.0 + x) ** 2
    return torch.where(dG >= lam, dG, inside)


def fit_lambda(dG, y, power: int = 1) -> float:
    """The lambda (eV) of ``LAMBDA_GRID`` minimising the mean |error|^power of ``clipped_marcus``
    against targets ``y`` (eV) at reaction free energies ``dG`` (eV)."""
    dG, y = torch.as_tensor(dG, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    pred = clipped_marcus(dG[None, :], LAMBDA_GRID[:, None])
    return float(LAMBDA_GRID[torch.argmin(((pred - y).abs() ** power).mean(dim=1))])


def fit_class_lambdas(class_onehot: torch.Tensor, dG: torch.Tensor, y: torch.Tensor,
                      power: int = 1) -> torch.Tensor:
    """``fit_lambda`` per reaction class (columns of ``class_onehot``); classes without examples
    get the fit over all examples."""
    out = torch.full((class_onehot.shape[1],), fit_lambda(dG, y, power), dtype=torch.float64)
    for c in range(class_onehot.shape[1]):
        mask = class_onehot[:, c] > 0.5
        if mask.any():
            out[c] = fit_lambda(dG[mask], y[mask], power)
    return out


class BarrierNet(nn.Module):
    """CGR batch in; (lambda in eV, aleatoric variance in eV^2) per reaction out."""

    def __init__(self, hidden: int = 48, layers: int = 3, anchored: bool = False):
        super().__init__()
        self.config = {"hidden": hidden, "layers": layers, "anchored": anchored}
        self.atom_embed = mlp(N_CGR_ATOM_FEATURES, hidden, hidden)
        self.bond_embed = mlp(N_CGR_BOND_FEATURES, hidden, hidden)
        self.global_embed = mlp(N_CGR_GLOBAL_FEATURES, hidden, hidden)
        self.layers = nn.ModuleList(InteractionLayer(hidden) for _ in range(layers))
        self.lambda_readout = mlp(3 * hidden, hidden, 1)
        self.variance_readout = mlp(3 * hidden, hidden, 1)
        if anchored:
            self.register_buffer("class_lambda", torch.ones(len(REACTION_CLASSES)))
            nn.init.zeros_(self.lambda_readout[-1].weight)
            nn.init.zeros_(self.lambda_readout[-1].bias)

    def forward(self, batch, centre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, e, u = self.atom_embed(batch.x), self.bond_embed(batch.bond_attr), self.global_embed(batch.u)
        for layer in self.layers:
            h, e, u = layer(h, e, u, batch.bond_index, batch.atom_graph, batch.bond_graph)
        n = u.shape[0]
        at_centre = _segment_sum(h * centre[:, None], batch.atom_graph, n) / \
            _segment_sum(centre, batch.atom_graph, n).clamp(min=1.0)[:, None]
        pooled = torch.cat([_segment_mean(h, batch.atom_graph, n), at_centre, u], dim=1)
        readout = self.lambda_readout(pooled)[:, 0]
        if self.config["anchored"]:
            prior = batch.u[:, CLASS_COLUMNS] @ self.class_lambda
            lam = prior * torch.exp(torch.clamp(readout, -MAX_LOG_DEPARTURE, MAX_LOG_DEPARTURE)) + MIN_LAMBDA
        else:
            lam = nn.functional.softplus(readout) + MIN_LAMBDA
        variance = nn.functional.softplus(self.variance_readout(pooled)[:, 0]) + MIN_VARIANCE
        return lam, variance
