"""A network as a kinetic mechanism: reactions, rate constants, propensity constants, initial state.

Two propensity conventions (DESIGN.md):

- ``physical``: mass action with the IUPAC rate of reaction r_j = k_j prod_i [X_i]^nu_ij (mol L^-1 s^-1;
  k in (L/mol)^(m-1) s^-1 for reactant order m; electrode reductions are pseudo-first order, the
  electron is not a species). The stochastic propensity is a_j = k_j (N_A V)^(1-m) prod_i n_i!/(n_i-nu_ij)!,
  so A + A -> P has a = k n(n-1)/(N_A V) and the mean-field limit is d[A]/dt = -2 k [A]^2, the same
  ODE that Cantera integrates. Simulated time is in seconds.
- ``rnmc``: RNMC's GMC propensities (factor_zero*k, k*n, factor_two*k*nA*nB,
  factor_duplicate*factor_two*k*n*(n-1)), time in RNMC's unscaled units, for side-by-side runs.

Species are indexed by store id, as in ``HyperGraph`` (index 0 unused when ids start at 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from sei_net.chem.known import species_labels
from sei_net.kinetics.hypergraph import HyperGraph

AVOGADRO = 6.02214076e23
MODES = ("physical", "rnmc")
#: RNMC's default factors (factor_zero, factor_two, factor_duplicate), as in its SEI example
RNMC_FACTORS = (1.0, 1.0, 0.5)


@dataclass
class Mechanism:
    """Reactions of a network with rate constants ``rate`` (shape (R,), units above) from
    ``rate_source``; ``names`` labels every species index (non-empty, chem.known.species_labels)."""

    graph: HyperGraph
    rate: np.ndarray
    names: list[str]
    rate_source: str
    units: str

    def __post_init__(self):
        self.rate = np.asarray(self.rate, dtype=float)
        if self.rate.shape != (self.graph.n_reactions,):
            raise ValueError(f"{len(self.rate)} rate constants for {self.graph.n_reactions} reactions")
        bad = ~np.isfinite(self.rate) | (self.rate < 0)
        if bad.any():
            raise ValueError(f"{int(bad.sum())} rate constants are negative or not finite (first: reaction "
                             f"{int(self.graph.reaction_id[np.flatnonzero(bad)[0]])}); drop those reactions "
                             "with Mechanism.subset")

    @property
    def n_species(self) -> int:
        return self.graph.n_species

    @property
    def n_reactions(self) -> int:
        return self.graph.n_reactions

    def order(self) -> np.ndarray:
        """Reactant order m of every reaction (sum of reactant coefficients; electrons excluded)."""
        return self.graph.reactant_order()

    def subset(self, keep: np.ndarray) -> "Mechanism":
        """The mechanism restricted to the reactions where the boolean mask ``keep`` is true."""
        g = self.graph
        idx = np.flatnonzero(keep)
        r_ptr, r_sp = _expanded_rows(g.r_ptr, g.r_species, g.r_coef, idx)
        p_ptr, p_sp = _expanded_rows(g.p_ptr, g.p_species, g.p_coef, idx)
        table = {"id": g.reaction_id[idx], "kind": g.kind[idx], "electrons": g.electrons[idx],
                 "reactant_ptr": r_ptr, "reactant_species": r_sp,
                 "product_ptr": p_ptr, "product_species": p_sp}
        return Mechanism(HyperGraph.from_table(table, g.n_species), self.rate[idx], self.names,
                         self.rate_source, self.units)

    def propensity_constants(self, mode: str = "physical", volume: float | None = None,
                             factors: tuple[float, float, float] = RNMC_FACTORS) -> np.ndarray:
        """c_j of a_j = c_j * prod(falling factorials of reactant counts) for ``mode`` (module
        docstring); ``volume`` in L (physical mode), ``factors`` = RNMC's (zero, two, duplicate)."""
        m = self.order()
        if mode == "physical":
            if volume is None or not volume > 0:
                raise ValueError(f"volume {volume!r} L is not valid: physical propensities need a positive "
                                 "volume in L (or mode='rnmc')")
            return self.rate * (AVOGADRO * volume) ** (1.0 - m)
        if mode != "rnmc":
            raise ValueError(f"propensity mode {mode!r} is not valid: use one of {', '.join(MODES)}")
        if m.max(initial=0) > 2:
            raise ValueError("RNMC mode takes at most two reactants per reaction")
        f_zero, f_two, f_dup = factors
        duplicate = (m == 2) & (np.diff(self.graph.r_ptr) == 1)
        return self.rate * np.select([m == 0, duplicate, m == 2], [f_zero, f_two * f_dup, f_two], 1.0)

    def net_change(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR (ptr, species, delta) of each reaction's net count change (zero entries dropped)."""
        N = self.graph.stoichiometry().tocsr()
        N.eliminate_zeros()
        N.sort_indices()
        return (N.indptr.astype(np.int64), N.indices.astype(np.int64), N.data.astype(np.int64))

    def counts(self, initial: dict[int, int]) -> np.ndarray:
        """Count vector (int64, one entry per species index) from species index -> molecules."""
        n = np.zeros(self.n_species, dtype=np.int64)
        for s, c in initial.items():
            if not 0 <= int(s) < self.n_species:
                raise ValueError(f"species index {s} is not in this network (0..{self.n_species - 1})")
            if int(c) < 0 or int(c) != c:
                raise ValueError(f"initial count {c!r} of {self.names[int(s)]} is not valid: give a "
                                 "non-negative whole number of molecules")
            n[int(s)] = int(c)
        return n


def _expanded_rows(ptr, species, coef, rows):
    """CSR rows ``rows`` of (ptr, species, coef) with each species repeated by its coefficient."""
    lens = np.diff(ptr)[rows]
    first = np.repeat(ptr[rows] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    pos = first + np.arange(lens.sum())
    per_row = np.bincount(np.repeat(np.arange(len(rows)), lens), weights=coef[pos],
                          minlength=len(rows)).astype(np.int64)
    return np.concatenate([[0], np.cumsum(per_row)]).astype(np.int64), np.repeat(species[pos], coef[pos])


def mechanism_from_rates(store, source: str) -> Mechanism:
    """A mechanism from the rate constants stored under ``source`` (e.g. 'rnmc' for an imported RNMC
    network); reactions without a stored rate are left out."""
    graph = HyperGraph.from_store(store)
    rates = store.rates(source)
    if not rates:
        raise ValueError(f"{store.path.name} has no rates from source {source!r}: "
                         f"stored rate sources: {', '.join(store.rate_sources()) or 'none'}")
    k = np.array([rates[int(r)]["rate"] if int(r) in rates else np.nan for r in graph.reaction_id])
    units = {json.dumps(v.get("data", {}).get("units")) for v in rates.values()}
    mech = Mechanism(graph, np.nan_to_num(k, nan=0.0), species_labels(store.all_species(), graph.n_species), source,
                     "; ".join(json.loads(u) or "as stored" for u in sorted(units)))
    return mech.subset(np.isfinite(k)) if np.isnan(k).any() else mech


def mechanism_from_query(query, member: int | None = None) -> Mechanism:
    """A mechanism from a prepared ``PathQuery`` (kinetics.query): its energies, potential and rate
    model; ``member`` picks one ensemble member's rates. Reactions whose rate is undefined (a species
    without an energy) are left out."""
    scores = query.scores if member is None else query.samples
    if scores is None:
        raise ValueError("the energies carry no ensemble members: member-wise kinetics needs members")
    k = scores.rate if member is None else scores.rate[:, member]
    finite = np.isfinite(k)
    mech = Mechanism(query.graph, np.where(finite, k, 0.0),
                     species_labels(query.species, query.graph.n_species),
                     f"{query.energies.source} via {query.rate_model.describe()}",
                     "s^-1 (first order), L mol^-1 s^-1 (second order)")
    return mech if finite.all() else mech.subset(finite)
