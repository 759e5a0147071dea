"""Batches of species graphs as torch tensors, and torch-geometric ``Data`` views of them.

``collate`` concatenates the numpy arrays of many ``SpeciesGraph`` in one pass (no per-graph
tensor objects), which is what keeps scoring at thousands of species per second. ``to_pyg`` gives
the same graph as a ``torch_geometric.data.Data`` (bonds in both directions, as PyG expects), for
users who work with PyG tooling; ``EnergyNet`` also accepts a PyG ``Batch`` of those.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from sei_net.learn.features import SpeciesGraph


@dataclass
class GraphBatch:
    """Species graphs concatenated: ``x`` atom features, ``bond_index`` (2, n_bonds) with each bond
    once, ``bond_attr``, ``u`` global features (n_graphs, F), ``atom_graph``/``bond_graph`` the graph
    of each atom/bond, ``composition`` (n_graphs, n_elements) element counts."""

    x: torch.Tensor
    bond_index: torch.Tensor
    bond_attr: torch.Tensor
    u: torch.Tensor
    atom_graph: torch.Tensor
    bond_graph: torch.Tensor
    composition: torch.Tensor

    @property
    def n_graphs(self) -> int:
        return self.u.shape[0]

    def to(self, device) -> "GraphBatch":
        return GraphBatch(*(getattr(self, f).to(device) for f in self.__dataclass_fields__))


def collate(graphs: Sequence[SpeciesGraph]) -> GraphBatch:
    """One batch from a list of graphs (atom indices of each bond shifted into the batch)."""
    n_atoms = np.array([g.atoms.shape[0] for g in graphs])
    n_bonds = np.array([g.bonds.shape[0] for g in graphs])
    offsets = np.concatenate([[0], np.cumsum(n_atoms)[:-1]])
    bonds = np.concatenate([g.bonds for g in graphs]) + np.repeat(offsets, n_bonds)[:, None]
    index = np.arange(len(graphs))
    return GraphBatch(
        x=torch.from_numpy(np.concatenate([g.atoms for g in graphs])),
        bond_index=torch.from_numpy(np.ascontiguousarray(bonds.T)),
        bond_attr=torch.from_numpy(np.concatenate([g.bond_features for g in graphs])),
        u=torch.from_numpy(np.stack([g.globals for g in graphs])),
        atom_graph=torch.from_numpy(np.repeat(index, n_atoms)),
        bond_graph=torch.from_numpy(np.repeat(index, n_bonds)),
        composition=torch.from_numpy(np.stack([g.composition for g in graphs])),
    )


def to_pyg(graph: SpeciesGraph):
    """The graph as a ``torch_geometric.data.Data`` (x, edge_index and edge_attr over both bond
    directions, u (1, F) global features, composition (1, n_elements))."""
    from torch_geometric.data import Data

    edge_index = np.concatenate([graph.bonds.T, graph.bonds.T[::-1]], axis=1)
    edge_attr = np.concatenate([graph.bond_features, graph.bond_features])
    return Data(x=torch.from_numpy(graph.atoms), edge_index=torch.from_numpy(np.ascontiguousarray(edge_index)),
                edge_attr=torch.from_numpy(edge_attr), u=torch.from_numpy(graph.globals[None]),
                composition=torch.from_numpy(graph.composition[None]))


def from_pyg(batch) -> GraphBatch:
    """A ``GraphBatch`` from a PyG ``Data``/``Batch`` made by ``to_pyg`` (keeps one direction of
    each bond: the first half of every graph's edges)."""
    edge_index, edge_attr = batch.edge_index, batch.edge_attr
    atom_graph = getattr(batch, "batch", None)
    if atom_graph is None:
        atom_graph = torch.zeros(batch.x.shape[0], dtype=torch.long)
    edge_graph = atom_graph[edge_index[0]]
    n_edges = torch.bincount(edge_graph, minlength=batch.u.shape[0])
    starts = torch.cumsum(n_edges, 0) - n_edges
    position = torch.arange(edge_index.shape[1]) - starts[edge_graph]
    keep = position < (n_edges // 2)[edge_graph]
    return GraphBatch(x=batch.x, bond_index=edge_index[:, keep], bond_attr=edge_attr[keep], u=batch.u,
                      atom_graph=atom_graph, bond_graph=edge_graph[keep], composition=batch.composition)
