"""Likely SEI products: species that are cheap to make from the starting species and that nothing
consumes quickly.

A species is *kinetically stable* when every exergonic reaction (dG < 0) that could consume it on
its own, at the electrode, or with the starting species (the electrolyte) has a barrier above
``stability_barrier`` (eV). An endergonic step, however fast, only sets up a small equilibrium
(a fraction exp(-dG/kT) of the species) and does not drain it by itself; draining through such a
pre-equilibrium and a later step is a path-level effect this first-order filter does not see.
Reactions with other products or intermediates as partners do not count: those partners are minor
(radicals are transient), so such steps are second order in small amounts. By default the stability
barrier is the one that gives a half-life of one hour at the query temperature with co-reactants at
1 mol/L, kT ln((kT/h) * 3600 s / ln 2), 0.98 eV at 298.15 K. Likely products are the reachable,
stable, closed-shell species ranked by path cost. Li+ association and dissociation (reaction kinds
coordination/decoordination) do not count as consumption: they are fast and reversible, and a
product with a Li+ more or less is the same product. With energy members, ``probability_top_k`` is
the fraction of members in which a species is among the top k.

The list is the top k of the ranking from the mean energies, followed (``ranked_by: "members"``) by
any species that more than half of the members put in their top k but the mean ranking leaves
out: the stability filter is a threshold (dG < 0), so a consuming step that the members split on
can land at dG ~ 0 on the mean and decide a verdict that most members do not share (LEDC's
reduction at 0 V is such a step for the energy ensembles trained so far; docs/surrogates.md).
"""

from __future__ import annotations

import math

import numpy as np

from sei_net.constants import PLANCK_EV
from sei_net.kinetics.paths import shortest_hyperpaths
from sei_net.kinetics.rates import thermal_energy

#: Neutral species that leave the electrolyte as gas.
GASES = {"C2H4", "CO", "CO2", "H2", "CH4", "C2H6", "O2", "PF5", "POF3", "C2H2"}


def default_stability_barrier(temperature: float, half_life: float = 3600.0) -> float:
    """Barrier (eV) whose Eyring rate gives ``half_life`` (s) at ``temperature`` (K)."""
    kt = thermal_energy(temperature)
    return kt * math.log((kt / PLANCK_EV) * half_life / math.log(2.0))


def classify(species, name: str | None = None) -> str:
    """'radical', 'gas', 'organic' (has C-H), 'inorganic' (no C-H), or 'ion' for a charged
    closed-shell species (a product needs its counter-ion to deposit)."""
    if species.multiplicity > 1:
        return "radical"
    if name in GASES:
        return "gas"
    if species.charge != 0:
        return "ion"
    has_ch = any({species.elements[i], species.elements[j]} == {"C", "H"} for i, j, _ in species.bonds)
    return "organic" if has_ch else "inorganic"


def _min_consuming_barrier(graph, sources: np.ndarray, barrier: np.ndarray, dG: np.ndarray) -> np.ndarray:
    """Per species, the lowest barrier (eV) of an exergonic reaction (dG < 0 eV) that consumes it
    alone, at the electrode, or with starting species only (Li+ association/dissociation excluded)."""
    is_source = np.zeros(graph.n_species, dtype=bool)
    is_source[sources] = True
    n_r = np.diff(graph.r_ptr)
    rows = np.repeat(np.arange(graph.n_reactions), n_r)
    n_other = np.bincount(rows, weights=~is_source[graph.r_species], minlength=graph.n_reactions)
    counts = np.isfinite(barrier) & (dG < 0) & ~np.isin(graph.kind, ("coordination", "decoordination"))
    out = np.full(graph.n_species, np.inf)
    # a participant counts when every other reactant of its reaction is a starting species
    own = ~is_source[graph.r_species]
    sel = counts[rows] & (n_other[rows] - own <= 0)
    np.minimum.at(out, graph.r_species[sel], barrier[rows[sel]])
    return out


def _ranking(graph, cost, barrier, dG, sources, threshold, eligible):
    dist, _, _ = shortest_hyperpaths(graph, cost, sources)
    reachable = np.isfinite(dist)
    stable = _min_consuming_barrier(graph, np.asarray(sources), barrier, dG) >= threshold
    candidates = np.flatnonzero(reachable & stable & eligible)
    return dist, candidates[np.argsort(dist[candidates], kind="stable")]


def likely_products(query, sources: list[int], top: int = 20,
                    stability_barrier: float | None = None) -> list[dict]:
    """Ranked likely products (see the module docstring), JSON-ready dicts with species, smiles,
    class, cost (the mean energies' path cost), known name, probability_top_k (None without energy
    members) and ranked_by ("mean": the first ``top``; "members": a species more than half of the
    members rank in their top ``top`` that the mean ranking does not, after them, most probable
    first)."""
    if stability_barrier is None:
        stability_barrier = default_stability_barrier(query.rate_model.temperature)
    known = query.known
    src = set(int(s) for s in sources)
    eligible = np.zeros(query.graph.n_species, dtype=bool)
    classes = {}
    for sid, sp in query.species.items():
        classes[sid] = classify(sp, known.get(sp.key))
        eligible[sid] = sid not in src and classes[sid] != "radical"
    # reactions without energies have NaN barriers; _min_consuming_barrier skips them
    dist, ranked = _ranking(query.graph, query.scores.cost, query.scores.barrier, query.scores.dG, sources,
                            stability_barrier, eligible)
    ranked = ranked[:top]
    prob, by_members = None, np.zeros(0, dtype=np.int64)
    if query.samples is not None:
        counts = np.zeros(query.graph.n_species)
        n_members = query.samples.cost.shape[1]
        for m in range(n_members):
            _, r_m = _ranking(query.graph, query.samples.cost[:, m], query.samples.barrier[:, m],
                              query.samples.dG[:, m],
                              sources, stability_barrier, eligible)
            counts[r_m[:top]] += 1
        prob = counts / n_members
        majority = np.flatnonzero(prob > 0.5)
        by_members = majority[~np.isin(majority, ranked)]
        by_members = by_members[np.lexsort((dist[by_members], -prob[by_members]))]
    out = []
    for s, by in [(s, "mean") for s in ranked.tolist()] + [(s, "members") for s in by_members.tolist()]:
        sp = query.species[s]
        out.append({"species_id": s, "species": query.label(s), "smiles": sp.smiles, "class": classes[s],
                    "known_as": known.get(sp.key), "cost": float(dist[s]) if np.isfinite(dist[s]) else None,
                    "probability_top_k": None if prob is None else float(prob[s]), "ranked_by": by})
    return out
