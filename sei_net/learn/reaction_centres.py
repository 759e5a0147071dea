"""Where reactions happen, located in a table of featurised species: what a barrier model that
reads cached species embeddings needs (``learn.barrier_embedding``).

A centre atom is an atom one of whose bonds changes: formed, broken, or changed in kind or in the
smallest ring it sits in, exactly as the condensed graph of reaction counts it
(``reaction_graph.condensed_graph``; a ring closure makes every bond of the new ring a changed
one). ``locate_centres`` finds them for many atom-mapped reactions at once with numpy, and gives
each as two rows of the species table's concatenated atom array: the atom in its reactant and the
same atom in its product. Reactions refer to species by their row in the table; the atom map of a
reaction is ``Reaction.atom_map`` (product atom k sits on reactant atom ``atom_map[k]``, both sides
numbered as their species are concatenated).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sei_net.learn.features import SpeciesGraph

# bits of the packed integer key of a bond (reaction, atom, atom, bond-feature code)
_ATOM_BITS = 11
_CODE_BITS = 16
_MAX_REACTIONS = 1 << (63 - 2 * _ATOM_BITS - _CODE_BITS)


@dataclass(frozen=True)
class SpeciesTable:
    """Featurised species in one table: ``atom_start[s]`` is species s's first row of the
    concatenated atoms, ``bonds`` every species' bonds (own atom numbering) with ``bond_start``,
    and ``bond_codes`` an integer per bond that is equal exactly when the bond features are."""

    n_atoms: np.ndarray
    atom_start: np.ndarray
    bonds: np.ndarray
    bond_start: np.ndarray
    bond_codes: np.ndarray
    globals: np.ndarray

    @classmethod
    def of(cls, graphs: Sequence[SpeciesGraph]) -> "SpeciesTable":
        n_atoms = np.array([g.atoms.shape[0] for g in graphs], dtype=np.int64)
        n_bonds = np.array([g.bonds.shape[0] for g in graphs], dtype=np.int64)
        features = np.concatenate([g.bond_features for g in graphs]) if len(graphs) else np.zeros((0, 16))
        packed = np.packbits(features > 0.5, axis=1)
        if packed.shape[1] > _CODE_BITS // 8:
            raise ValueError(f"bond features of {features.shape[1]} bits do not fit a {_CODE_BITS}-bit code")
        codes = np.zeros(len(packed), dtype=np.int64)
        for column in range(packed.shape[1]):
            codes = (codes << 8) | packed[:, column]
        return cls(n_atoms=n_atoms, atom_start=first_rows(n_atoms),
                   bonds=np.concatenate([g.bonds for g in graphs]).reshape(-1, 2).astype(np.int64)
                   if len(graphs) else np.zeros((0, 2), np.int64),
                   bond_start=first_rows(n_bonds), bond_codes=codes,
                   globals=np.stack([g.globals for g in graphs]) if len(graphs) else np.zeros((0, 0)))


@dataclass(frozen=True)
class ReactionCentres:
    """The centre atoms of n reactions: ``reaction`` (which reaction each belongs to, sorted),
    ``reactant_row`` and ``product_row`` (rows of the species table's atoms)."""

    reaction: np.ndarray
    reactant_row: np.ndarray
    product_row: np.ndarray


def first_rows(counts: np.ndarray) -> np.ndarray:
    """Where each of consecutive blocks of ``counts`` rows starts (exclusive cumulative sum)."""
    return np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64) if len(counts) else np.zeros(0, np.int64)


def concatenated_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated aranges [starts[i], starts[i] + counts[i]) (numpy, no Python loop)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    return np.repeat(starts - first_rows(counts), counts) + np.arange(total, dtype=np.int64)


@dataclass(frozen=True)
class _Side:
    """One side of every reaction: its atoms (table rows, in side order) and bonds (side atoms)."""

    atom_rows: np.ndarray
    side_start: np.ndarray
    bond_reaction: np.ndarray
    bond_atoms: np.ndarray
    bond_codes: np.ndarray


def _side(table: SpeciesTable, species: Sequence[Sequence[int]]) -> _Side:
    per_reaction = np.array([len(s) for s in species], dtype=np.int64)
    slot_species = np.fromiter((s for side in species for s in side), dtype=np.int64, count=int(per_reaction.sum()))
    slot_reaction = np.repeat(np.arange(len(species)), per_reaction)
    slot_atoms = table.n_atoms[slot_species]
    side_atoms = np.bincount(slot_reaction, weights=slot_atoms, minlength=len(species)).astype(np.int64)
    side_start = first_rows(side_atoms)
    slot_offset = first_rows(slot_atoms) - side_start[slot_reaction]     # first side atom of each slot
    atom_rows = concatenated_ranges(table.atom_start[slot_species], slot_atoms)
    bond_counts = np.diff(np.append(table.bond_start, len(table.bonds)))[slot_species]
    bond_rows = concatenated_ranges(table.bond_start[slot_species], bond_counts)
    bond_slot = np.repeat(np.arange(len(slot_species)), bond_counts)
    return _Side(atom_rows, side_start, slot_reaction[bond_slot],
                 table.bonds[bond_rows] + slot_offset[bond_slot, None], table.bond_codes[bond_rows])


def _bond_keys(reaction: np.ndarray, atoms: np.ndarray, codes: np.ndarray) -> np.ndarray:
    low, high = atoms.min(axis=1), atoms.max(axis=1)
    return (((reaction << _ATOM_BITS | low) << _ATOM_BITS | high) << _CODE_BITS) | codes


def locate_centres(table: SpeciesTable, reactants: Sequence[Sequence[int]], products: Sequence[Sequence[int]],
                   atom_maps: Sequence[np.ndarray]) -> ReactionCentres:
    """The centre atoms of every reaction (module docstring): ``reactants[i]`` and ``products[i]``
    are reaction i's species as rows of ``table``, ``atom_maps[i]`` its atom map. Raises
    ValueError for more reactions or larger sides than the packed keys hold."""
    if len(reactants) >= _MAX_REACTIONS:
        raise ValueError(f"{len(reactants)} reactions: locate_centres takes fewer than {_MAX_REACTIONS} at once")
    r, p = _side(table, reactants), _side(table, products)
    sizes = np.diff(np.append(r.side_start, len(r.atom_rows)))
    if len(sizes) and sizes.max() >= 1 << _ATOM_BITS:
        raise ValueError(f"a reaction side of {sizes.max()} atoms: locate_centres takes fewer than {1 << _ATOM_BITS}")
    amap = np.concatenate([np.asarray(m, np.int64) for m in atom_maps]) if len(atom_maps) else np.zeros(0, np.int64)
    if len(amap) != len(r.atom_rows):
        raise ValueError(f"the atom maps cover {len(amap)} atoms, the reactants {len(r.atom_rows)}")
    # product bonds on reactant atoms: product side atom k of reaction i sits on reactant atom amap[start_i + k]
    p_on_r = amap[p.side_start[p.bond_reaction, None] + p.bond_atoms]
    keys = np.concatenate([_bond_keys(r.bond_reaction, r.bond_atoms, r.bond_codes),
                           _bond_keys(p.bond_reaction, p_on_r, p.bond_codes)])
    unique, counts = np.unique(keys, return_counts=True)
    changed = unique[counts == 1] >> _CODE_BITS
    atom_mask = (1 << _ATOM_BITS) - 1
    reaction = changed >> (2 * _ATOM_BITS)
    centre = np.unique(np.concatenate([(reaction << _ATOM_BITS) | ((changed >> _ATOM_BITS) & atom_mask),
                                       (reaction << _ATOM_BITS) | (changed & atom_mask)]))
    reaction, atom = centre >> _ATOM_BITS, centre & atom_mask
    # the product atom on reactant atom a: the inverse of the atom map
    inverse = np.empty_like(amap)
    inverse[r.side_start[np.repeat(np.arange(len(atom_maps)), sizes)] + amap] = \
        np.arange(len(amap)) - np.repeat(r.side_start, sizes)
    product_atom = inverse[r.side_start[reaction] + atom]
    return ReactionCentres(reaction=reaction, reactant_row=r.atom_rows[r.side_start[reaction] + atom],
                           product_row=p.atom_rows[p.side_start[reaction] + product_atom])
