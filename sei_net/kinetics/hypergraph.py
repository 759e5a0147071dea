"""A network as arrays: the species/reaction hypergraph in CSR form, and reaction free energies.

Species are indexed by their store id (index 0 unused when ids start at 1). Each reaction lists its
distinct reactants and products with stoichiometric coefficients; ``consumers`` maps a species to
the reactions that take it as a reactant. Nothing here holds a Python object per species or reaction,
so a network of 10^6 reactions costs tens of MB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from sei_net.constants import oracle_of
from sei_net.energy.thermal import REFERENCE_TEMPERATURE

#: Preference among energy sources when a network has several and the caller names none:
#: imported DFT first, then a surrogate (any ``<oracle>-surrogate``: it scores every species), then
#: the GFN2 oracle.
SOURCE_PREFERENCE = ("rnmc", "mrnet", "libe", "surrogate", "gfn2")


def _preference_rank(source: str) -> int:
    """Position of ``source`` in SOURCE_PREFERENCE (surrogates by their kind), unknown ones last."""
    kind = "surrogate" if oracle_of(source) != source else source
    return SOURCE_PREFERENCE.index(kind) if kind in SOURCE_PREFERENCE else len(SOURCE_PREFERENCE)


def _side_order(ptr: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Sum of the coefficients in each CSR row (0 for an empty row)."""
    total = np.zeros(len(ptr) - 1, dtype=np.int64)
    rows = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    np.add.at(total, rows, np.asarray(coef, dtype=np.int64))
    return total


def _csr_unique(ptr: np.ndarray, species: np.ndarray, n_species: int):
    """Distinct species per row with their counts: (ptr, species, coef), rows kept in order."""
    n_rows = len(ptr) - 1
    row = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(ptr))
    code, counts = np.unique(row * n_species + species, return_counts=True)
    urow = code // n_species
    uptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(urow, minlength=n_rows), out=uptr[1:])
    return uptr, (code % n_species).astype(np.int64), counts.astype(np.int64)


@dataclass
class HyperGraph:
    """Reactions of a network as CSR arrays (see the module docstring). ``reaction_id`` holds store ids."""

    n_species: int
    reaction_id: np.ndarray
    kind: np.ndarray
    electrons: np.ndarray
    r_ptr: np.ndarray
    r_species: np.ndarray
    r_coef: np.ndarray
    p_ptr: np.ndarray
    p_species: np.ndarray
    p_coef: np.ndarray
    c_ptr: np.ndarray
    c_reaction: np.ndarray

    @property
    def n_reactions(self) -> int:
        return len(self.reaction_id)

    @classmethod
    def from_table(cls, table: dict[str, np.ndarray], n_species: int | None = None) -> "HyperGraph":
        """From ``NetworkStore.reaction_table()`` (participants may repeat a species)."""
        rs, ps = table["reactant_species"], table["product_species"]
        if n_species is None:
            n_species = int(max(rs.max(initial=0), ps.max(initial=0))) + 1
        r_ptr, r_sp, r_coef = _csr_unique(table["reactant_ptr"], rs, n_species)
        p_ptr, p_sp, p_coef = _csr_unique(table["product_ptr"], ps, n_species)
        rows = np.repeat(np.arange(len(r_ptr) - 1, dtype=np.int64), np.diff(r_ptr))
        order = np.argsort(r_sp, kind="stable")
        c_ptr = np.zeros(n_species + 1, dtype=np.int64)
        np.cumsum(np.bincount(r_sp, minlength=n_species), out=c_ptr[1:])
        return cls(n_species, np.asarray(table["id"], dtype=np.int64), np.asarray(table["kind"], dtype=object),
                   np.asarray(table["electrons"], dtype=np.int64), r_ptr, r_sp, r_coef, p_ptr, p_sp,
                   p_coef, c_ptr, rows[order])

    @classmethod
    def from_lists(cls, reactants: Sequence[Sequence[int]], products: Sequence[Sequence[int]],
                   electrons: Sequence[int] | None = None, kinds: Sequence[str] | None = None,
                   n_species: int | None = None) -> "HyperGraph":
        """From Python lists of species indices per reaction (repeat an index for a coefficient)."""
        n = len(reactants)
        table = {
            "id": np.arange(n, dtype=np.int64),
            "kind": np.array(list(kinds) if kinds is not None else ["other"] * n, dtype=object),
            "electrons": np.array(list(electrons) if electrons is not None else [0] * n, dtype=np.int64),
            "reactant_ptr": np.concatenate([[0], np.cumsum([len(r) for r in reactants])]).astype(np.int64),
            "reactant_species": np.array([s for r in reactants for s in r], dtype=np.int64),
            "product_ptr": np.concatenate([[0], np.cumsum([len(p) for p in products])]).astype(np.int64),
            "product_species": np.array([s for p in products for s in p], dtype=np.int64),
        }
        return cls.from_table(table, n_species)

    @classmethod
    def from_store(cls, store) -> "HyperGraph":
        """From an open ``NetworkStore``; species index = store species id."""
        n_species = int(store.conn.execute("SELECT COALESCE(MAX(id), 0) FROM species").fetchone()[0]) + 1
        return cls.from_table(store.reaction_table(), n_species)

    def reactants(self, r: int) -> list[tuple[int, int]]:
        """(species, coefficient) pairs of reaction index ``r``."""
        a, b = self.r_ptr[r], self.r_ptr[r + 1]
        return list(zip(self.r_species[a:b].tolist(), self.r_coef[a:b].tolist()))

    def products(self, r: int) -> list[tuple[int, int]]:
        a, b = self.p_ptr[r], self.p_ptr[r + 1]
        return list(zip(self.p_species[a:b].tolist(), self.p_coef[a:b].tolist()))

    def reactant_order(self) -> np.ndarray:
        """Number of reactant species of every reaction, with coefficients (electrons excluded)."""
        return _side_order(self.r_ptr, self.r_coef)

    def product_order(self) -> np.ndarray:
        """Number of product species of every reaction, with coefficients (electrons excluded)."""
        return _side_order(self.p_ptr, self.p_coef)

    def stoichiometry(self) -> sp.csr_matrix:
        """Sparse (reactions x species) matrix: +coef for products, -coef for reactants."""
        nr = self.n_reactions
        rows = np.concatenate([np.repeat(np.arange(nr), np.diff(self.p_ptr)),
                               np.repeat(np.arange(nr), np.diff(self.r_ptr))])
        cols = np.concatenate([self.p_species, self.r_species])
        vals = np.concatenate([self.p_coef, -self.r_coef]).astype(float)
        return sp.csr_matrix((vals, (rows, cols)), shape=(nr, self.n_species))

    def reaction_dG(self, G: np.ndarray, electron_free_energy: float) -> np.ndarray:
        """Reaction free energies (eV): sum(nu_p G_p) - sum(nu_r G_r) - electrons * G_e.

        ``G`` has shape (n_species,) or (n_species, M) for ensemble members (NaN where a species has
        no energy: its reactions get NaN). ``electron_free_energy`` G_e in eV (DESIGN.md)."""
        G = np.asarray(G, dtype=float)
        finite = np.isfinite(G)
        N = self.stoichiometry()
        dG = N @ np.where(finite, G, 0.0)
        missing = abs(N) @ (~finite).astype(float)
        dG = dG - (self.electrons * electron_free_energy if G.ndim == 1
                   else (self.electrons * electron_free_energy)[:, None])
        dG[missing > 0] = np.nan
        return dG


@dataclass
class SpeciesEnergies:
    """Free energies (eV) by species index: ``G`` (NaN where missing), optional ``members``
    (n_species x M) and ``sigma``; ``source`` and ``level_of_theory`` name where they come from;
    ``left_out``: SMILES -> reason for the species outside the oracle's domain (energy.domain),
    whose stored energies are set to NaN here; ``temperature``: K of every G."""

    G: np.ndarray
    members: np.ndarray | None
    sigma: np.ndarray | None
    source: str
    level_of_theory: str
    left_out: dict[str, str] = field(default_factory=dict)
    temperature: float = REFERENCE_TEMPERATURE

    @property
    def n_members(self) -> int:
        return 0 if self.members is None else self.members.shape[1]


def species_energies(store, n_species: int, source: str | None = None) -> SpeciesEnergies:
    """Read one energy source of a store into arrays. Without ``source``, the source that covers
    the most species wins (ties by ``SOURCE_PREFERENCE``). Species outside the source's oracle
    domain (energy.domain) get NaN: their reactions drop out of paths and kinetics."""
    from sei_net.energy.domain import outside_domain

    counts = store.energy_sources()
    if not counts:
        raise ValueError(f"{store.path.name} has no species energies: label it (sei-net label) or "
                         "import energies first")
    if source is None:
        source = max(counts, key=lambda s: (counts[s], -_preference_rank(s)))
    elif source not in counts:
        raise ValueError(f"energy source {source!r} is not in {store.path.name}: "
                         f"valid sources: {', '.join(sorted(counts))}")
    rows = store.energies(source)
    G = np.full(n_species, np.nan)
    sigma = np.full(n_species, np.nan)
    n_members = max((len(r["members"]) for r in rows if r["members"] is not None), default=0)
    members = np.full((n_species, n_members), np.nan) if n_members else None
    levels, temperatures = set(), set()
    for r in rows:
        G[r["species_id"]] = r["G"]
        levels.add(r["level_of_theory"])
        temperatures.add(REFERENCE_TEMPERATURE if r["temperature"] is None else float(r["temperature"]))
        if r["sigma"] is not None:
            sigma[r["species_id"]] = r["sigma"]
        if members is not None and r["members"] is not None and len(r["members"]) == n_members:
            members[r["species_id"]] = r["members"]
    left_out = {}
    ids = store.species_ids
    for key, (smiles, reason) in outside_domain(source).items():
        s = ids.get(key)
        if s is not None and np.isfinite(G[s]):
            G[s] = sigma[s] = np.nan
            if members is not None:
                members[s] = np.nan
            left_out[smiles] = reason
    if len(temperatures) > 1:
        raise ValueError(f"energy source {source!r} of {store.path.name} mixes free energies at "
                         f"{', '.join(f'{t:g}' for t in sorted(temperatures))} K; store one temperature per source")
    has_sigma = np.isfinite(sigma).any()
    return SpeciesEnergies(G, members, sigma if has_sigma else None, source, "; ".join(sorted(levels)),
                           left_out, temperatures.pop() if temperatures else REFERENCE_TEMPERATURE)
