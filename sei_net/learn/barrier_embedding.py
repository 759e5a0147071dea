"""The barrier network on species embeddings: each species is encoded once, and a reaction is read
from its species' atom states at the reaction centre, so scoring many reactions over a network's
species costs one species encoding each plus a small head per reaction.

A species encoder (the energy network's message passing, ``model.SpeciesEncoder``) gives every
atom a state h and every species a state u. For a reaction, each centre atom (``reaction_centres``)
contributes phi([h_r + h_p, |h_r - h_p|]), h_r its state in its reactant and h_p in its product
(through the atom map); their sum and mean, with psi([U_r + U_p, |U_r - U_p|, g]) (U the summed
species states of a side, g the CGR global features, ``reaction_graph.reaction_globals``), give
lambda (eV) through a softplus and the aleatoric variance (eV^2), as ``barrier_model.BarrierNet``
does. Every input pairs the two sides symmetrically, so a reaction and its reverse get the same
lambda and, through the clipped Marcus form, barriers that differ by exactly dG.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np
import torch
from torch import nn

from sei_net.chem.reaction import Reaction
from sei_net.learn.barrier_model import MIN_LAMBDA, MIN_VARIANCE
from sei_net.learn.batching import collate
from sei_net.learn.features import SpeciesGraph, featurise
from sei_net.learn.model import SpeciesEncoder, _segment_sum, mlp
from sei_net.learn.reaction_centres import ReactionCentres, SpeciesTable, concatenated_ranges, locate_centres
from sei_net.learn.reaction_graph import N_CGR_GLOBAL_FEATURES, reaction_globals

ARCHITECTURE = "species_embedding"


@dataclass(frozen=True)
class PreparedReactions:
    """Reactions as the embedding network reads them: the featurised species (``graphs``, in
    ``table`` order), each reaction's species as rows of that table (flat arrays with starts,
    ``reactant_start[i]:reactant_start[i + 1]``), its centre atoms and its CGR global features."""

    graphs: list[SpeciesGraph]
    table: SpeciesTable
    reactant_species: np.ndarray
    reactant_start: np.ndarray
    product_species: np.ndarray
    product_start: np.ndarray
    centres: ReactionCentres
    globals: np.ndarray

    def __len__(self) -> int:
        return len(self.globals)

    @cached_property
    def centre_start(self) -> np.ndarray:
        """Where each reaction's centre entries start (n + 1 entries; centres are sorted by reaction)."""
        return np.searchsorted(self.centres.reaction, np.arange(len(self) + 1))

    def sides(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Reactions ``idx``'s reactant species (table rows, concatenated in order), how many each
        has, and the same for the products."""
        r_counts, p_counts = np.diff(self.reactant_start)[idx], np.diff(self.product_start)[idx]
        return (self.reactant_species[concatenated_ranges(self.reactant_start[idx], r_counts)], r_counts,
                self.product_species[concatenated_ranges(self.product_start[idx], p_counts)], p_counts)

    def subset(self, idx: Sequence[int]) -> "PreparedReactions":
        """The reactions ``idx`` (distinct), in that order, over a table of only their species."""
        idx = np.asarray(idx, dtype=np.int64)
        position = np.full(len(self), -1, dtype=np.int64)
        position[idx] = np.arange(len(idx))
        keep = position[self.centres.reaction] >= 0
        reaction = position[self.centres.reaction[keep]]
        order = np.argsort(reaction, kind="stable")
        r_species, r_counts, p_species, p_counts = self.sides(idx)
        used = np.unique(np.concatenate([r_species, p_species]))
        graphs = [self.graphs[k] for k in used]
        table = SpeciesTable.of(graphs)

        def moved(rows):
            old = np.searchsorted(self.table.atom_start, rows, side="right") - 1
            return table.atom_start[np.searchsorted(used, old)] + rows - self.table.atom_start[old]

        centres = ReactionCentres(reaction[order], moved(self.centres.reactant_row[keep][order]),
                                  moved(self.centres.product_row[keep][order]))
        return PreparedReactions(graphs, table, np.searchsorted(used, r_species), _offsets(r_counts),
                                 np.searchsorted(used, p_species), _offsets(p_counts), centres, self.globals[idx])


def _offsets(counts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def prepare_reactions(reactions: Sequence[Reaction], cache: dict | None = None) -> PreparedReactions:
    """``PreparedReactions`` of atom-mapped reactions (ValueError for one without an atom map).
    ``cache``: species key -> featurised species, kept across calls (a network's species recur)."""
    rows: dict[str, int] = {}
    graphs: list[SpeciesGraph] = []

    def row(species) -> int:
        if (r := rows.get(species.key)) is None:
            graph = None if cache is None else cache.get(species.key)
            if graph is None:
                graph = featurise(species)
                if cache is not None:
                    cache[species.key] = graph
            r = rows[species.key] = len(graphs)
            graphs.append(graph)
        return r

    for reaction in reactions:
        if reaction.atom_map is None:
            raise ValueError(f"reaction {reaction.key} has no atom map: the barrier model needs one")
    reactants = [[row(s) for s in r.reactants] for r in reactions]
    products = [[row(s) for s in r.products] for r in reactions]
    table = SpeciesTable.of(graphs)
    centres = locate_centres(table, reactants, products, [r.atom_map for r in reactions])
    n_r = np.array([len(s) for s in reactants], dtype=np.int64)
    n_p = np.array([len(s) for s in products], dtype=np.int64)
    flat_r = np.fromiter((s for side in reactants for s in side), np.int64, int(n_r.sum()))
    flat_p = np.fromiter((s for side in products for s in side), np.int64, int(n_p.sum()))
    width = table.globals.shape[1] if len(graphs) else 0
    side_sum = [np.zeros((len(reactions), width)) for _ in range(2)]
    np.add.at(side_sum[0], np.repeat(np.arange(len(reactions)), n_r), table.globals[flat_r])
    np.add.at(side_sum[1], np.repeat(np.arange(len(reactions)), n_p), table.globals[flat_p])
    glob = (reaction_globals(side_sum[0], side_sum[1], [r.kind for r in reactions], n_r, n_p) if len(reactions)
            else np.zeros((0, N_CGR_GLOBAL_FEATURES), np.float32))
    return PreparedReactions(graphs, table, flat_r, _offsets(n_r), flat_p, _offsets(n_p), centres, glob)


@dataclass(frozen=True)
class HeadInputs:
    """Index tensors of a batch of reactions into atom states ``h`` and species states ``u``."""

    n: int
    centre_reaction: torch.Tensor
    reactant_row: torch.Tensor
    product_row: torch.Tensor
    reactant_species: torch.Tensor
    reactant_reaction: torch.Tensor
    product_species: torch.Tensor
    product_reaction: torch.Tensor
    globals: torch.Tensor

    def to(self, device) -> "HeadInputs":
        return HeadInputs(self.n, *(getattr(self, f).to(device) for f in list(self.__dataclass_fields__)[1:]))


def _long(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64))


def _head_inputs(prep: PreparedReactions, idx: np.ndarray) -> HeadInputs:
    """The head's index tensors for reactions ``idx`` of ``prep``, into the states of its table."""
    start = prep.centre_start
    counts = start[idx + 1] - start[idx]
    centre = concatenated_ranges(start[idx], counts)
    r_species, r_counts, p_species, p_counts = prep.sides(idx)
    return HeadInputs(len(idx), _long(np.repeat(np.arange(len(idx)), counts)),
                      _long(prep.centres.reactant_row[centre]), _long(prep.centres.product_row[centre]),
                      _long(r_species), _long(np.repeat(np.arange(len(idx)), r_counts)),
                      _long(p_species), _long(np.repeat(np.arange(len(idx)), p_counts)),
                      torch.from_numpy(prep.globals[idx]))


def training_batch(prep: PreparedReactions, idx: Sequence[int]):
    """(GraphBatch of the species the reactions ``idx`` touch, HeadInputs into its states)."""
    batch = prep.subset(idx)
    return collate(batch.graphs), _head_inputs(batch, np.arange(len(batch)))


class EmbeddingBarrierNet(nn.Module):
    """Species batch and head inputs in; (lambda in eV, aleatoric variance in eV^2) per reaction out."""

    def __init__(self, hidden: int = 48, layers: int = 3, architecture: str = ARCHITECTURE):
        super().__init__()
        if architecture != ARCHITECTURE:
            raise ValueError(f"architecture {architecture!r} is not {ARCHITECTURE!r}")
        self.config = {"hidden": hidden, "layers": layers, "architecture": ARCHITECTURE}
        self.encoder = SpeciesEncoder(hidden, layers)
        self.centre_update = mlp(2 * hidden, hidden, hidden)
        self.global_update = mlp(2 * hidden + N_CGR_GLOBAL_FEATURES, hidden, hidden)
        self.lambda_readout = mlp(3 * hidden, hidden, 1)
        self.variance_readout = mlp(3 * hidden, hidden, 1)

    def forward(self, batch, inputs: HeadInputs) -> tuple[torch.Tensor, torch.Tensor]:
        h, u = self.encoder.embed(batch)
        return self.head(h, u, inputs)

    def head(self, h: torch.Tensor, u: torch.Tensor, inputs: HeadInputs) -> tuple[torch.Tensor, torch.Tensor]:
        """lambda and variance from atom states ``h`` and species states ``u`` (see the module docstring)."""
        hr, hp = h[inputs.reactant_row], h[inputs.product_row]
        per_centre = self.centre_update(torch.cat([hr + hp, (hr - hp).abs()], dim=1))
        total = _segment_sum(per_centre, inputs.centre_reaction, inputs.n)
        count = torch.bincount(inputs.centre_reaction, minlength=inputs.n).clamp(min=1).to(total.dtype)
        ur = _segment_sum(u[inputs.reactant_species], inputs.reactant_reaction, inputs.n)
        up = _segment_sum(u[inputs.product_species], inputs.product_reaction, inputs.n)
        side = self.global_update(torch.cat([ur + up, (ur - up).abs(), inputs.globals], dim=1))
        pooled = torch.cat([total, total / count[:, None], side], dim=1)
        lam = nn.functional.softplus(self.lambda_readout(pooled)[:, 0]) + MIN_LAMBDA
        variance = nn.functional.softplus(self.variance_readout(pooled)[:, 0]) + MIN_VARIANCE
        return lam, variance

    def species_states(self, graphs: Sequence[SpeciesGraph], device, batch_size: int = 2048):
        """Atom states (all atoms of ``graphs`` in order) and species states, in batches."""
        hs, us = [], []
        for start in range(0, len(graphs), batch_size):
            h, u = self.encoder.embed(collate(graphs[start:start + batch_size]).to(device))
            hs.append(h)
            us.append(u)
        return torch.cat(hs), torch.cat(us)


def cached_lambdas(model: EmbeddingBarrierNet, prep: PreparedReactions, device,
                   batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """lambda (eV) and aleatoric variance (eV^2) of every reaction of ``prep``: each species
    encoded once (``species_states``), then the head over the reactions (``head_lambdas``)."""
    if len(prep) == 0:
        return np.empty(0), np.empty(0)
    with torch.inference_mode():
        h, u = model.species_states(prep.graphs, device)
    return head_lambdas(model, h, u, prep, batch_size)


def head_lambdas(model: EmbeddingBarrierNet, h: torch.Tensor, u: torch.Tensor, prep: PreparedReactions,
                 batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """lambda (eV) and aleatoric variance (eV^2) of every reaction of ``prep`` from the species
    states of its table (``species_states``), the head run on ``batch_size`` reactions at a time
    (small batches keep the gathered states in cache: 2,048 ran 3x faster than 65,536 on one core)."""
    lam, var = np.empty(len(prep)), np.empty(len(prep))
    with torch.inference_mode():
        for first in range(0, len(prep), batch_size):
            idx = np.arange(first, min(first + batch_size, len(prep)))
            l, v = model.head(h, u, _head_inputs(prep, idx).to(h.device))
            lam[idx], var[idx] = l.double().cpu().numpy(), v.double().cpu().numpy()
    return lam, var
