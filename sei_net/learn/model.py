"""The species energy network: message passing over atoms, bonds and a global node (BonDNet-like),
with a mean and a variance head.

Each layer updates, with residual connections,
  bonds:  e_b <- e_b + phi_e([h_i + h_j, h_i * h_j, e_b, u])      (symmetric in i, j)
  atoms:  h_i <- h_i + phi_h([h_i, sum_b gate(e_b) * W h_j, u])
  global: u   <- u   + phi_u([u, mean_i h_i, mean_b e_b])
The mean is extensive, a sum of per-atom contributions read from [h_i, u]; the variance is read
from [sum h, mean h, u] through a softplus; with ``detach_variance`` that input is detached, so
the variance head's loss cannot move the message-passing layers the mean is read from. Outputs
are in the standardised units of the target (``sei_net.learn.ensemble`` converts to eV and adds
the per-element baseline).
"""

from __future__ import annotations

import torch
from torch import nn

from sei_net.learn.features import N_ATOM_FEATURES, N_BOND_FEATURES, N_GLOBAL_FEATURES

#: floor of the predicted variance (standardised units)
MIN_VARIANCE = 1e-6


def mlp(n_in: int, n_hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, n_hidden), nn.SiLU(), nn.Linear(n_hidden, n_out))


def _segment_sum(values: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    out = values.new_zeros((n,) + values.shape[1:])
    return out.index_add_(0, index, values)


def _segment_mean(values: torch.Tensor, index: torch.Tensor, n: int) -> torch.Tensor:
    counts = torch.bincount(index, minlength=n).clamp(min=1).to(values.dtype)
    return _segment_sum(values, index, n) / counts[:, None]


class InteractionLayer(nn.Module):
    """One round of bond, atom and global updates."""

    def __init__(self, hidden: int):
        super().__init__()
        self.bond_update = mlp(4 * hidden, hidden, hidden)
        self.gate = nn.Linear(hidden, hidden)
        self.message = nn.Linear(hidden, hidden, bias=False)
        self.atom_update = mlp(3 * hidden, hidden, hidden)
        self.global_update = mlp(3 * hidden, hidden, hidden)

    def forward(self, h, e, u, bond_index, atom_graph, bond_graph):
        i, j = bond_index
        n_graphs = u.shape[0]
        e = e + self.bond_update(torch.cat([h[i] + h[j], h[i] * h[j], e, u[bond_graph]], dim=1))
        gate = torch.sigmoid(self.gate(e))
        wh = self.message(h)
        messages = _segment_sum(gate * wh[j], i, h.shape[0]) + _segment_sum(gate * wh[i], j, h.shape[0])
        h = h + self.atom_update(torch.cat([h, messages, u[atom_graph]], dim=1))
        u = u + self.global_update(torch.cat([u, _segment_mean(h, atom_graph, n_graphs),
                                              _segment_mean(e, bond_graph, n_graphs)], dim=1))
        return h, e, u


class SpeciesEncoder(nn.Module):
    """The message passing of a species graph: GraphBatch in, final atom and global states out."""

    def __init__(self, hidden: int, layers: int):
        super().__init__()
        self.atom_embed = mlp(N_ATOM_FEATURES, hidden, hidden)
        self.bond_embed = mlp(N_BOND_FEATURES, hidden, hidden)
        self.global_embed = mlp(N_GLOBAL_FEATURES, hidden, hidden)
        self.layers = nn.ModuleList(InteractionLayer(hidden) for _ in range(layers))

    def embed(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Final atom states (n_atoms, hidden) and global states (n_graphs, hidden)."""
        h, e, u = self.atom_embed(batch.x), self.bond_embed(batch.bond_attr), self.global_embed(batch.u)
        for layer in self.layers:
            h, e, u = layer(h, e, u, batch.bond_index, batch.atom_graph, batch.bond_graph)
        return h, u


class EnergyNet(SpeciesEncoder):
    """Graph network: GraphBatch in, (mean, variance) per graph out, in standardised units."""

    def __init__(self, hidden: int = 64, layers: int = 4, detach_variance: bool = False):
        super().__init__(hidden, layers)
        self.config = {"hidden": hidden, "layers": layers, "detach_variance": detach_variance}
        self.detach_variance = detach_variance
        self.atom_readout = mlp(2 * hidden, hidden, 1)
        self.variance_readout = mlp(3 * hidden, hidden, 1)

    def forward(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        mean, pooled = self.mean_and_pooled(batch)
        return mean, self.variance_of(pooled)

    def mean_and_pooled(self, batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean per graph and the pooled states [sum h, mean h, u] the variance head reads
        (detached with ``detach_variance``)."""
        h, u = self.embed(batch)
        n = u.shape[0]
        per_atom = self.atom_readout(torch.cat([h, u[batch.atom_graph]], dim=1))[:, 0]
        mean = _segment_sum(per_atom, batch.atom_graph, n)
        pooled = torch.cat([_segment_sum(h, batch.atom_graph, n), _segment_mean(h, batch.atom_graph, n), u], dim=1)
        return mean, pooled.detach() if self.detach_variance else pooled

    def variance_of(self, pooled: torch.Tensor) -> torch.Tensor:
        """The variance head: pooled states in, variance (standardised units squared) out."""
        return nn.functional.softplus(self.variance_readout(pooled)[:, 0]) + MIN_VARIANCE
