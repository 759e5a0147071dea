"""Path and product queries on a stored network: energies -> dG -> barriers -> rates -> costs -> paths.

``PathQuery.prepare`` reads a network's reactions and one energy source into arrays once, at an
electrode potential and temperature, and scores every reaction with a rate model and a cost
function; ``paths`` and ``products`` (kinetics.products) then answer queries. When the energies carry
ensemble members (or a sigma), every reaction gets member-wise dG, rates and costs as well, and the
answers carry probabilities over those members (DESIGN.md: uncertainty travels as members).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from sei_net.chem.known import known_species_keys, species_label
from sei_net.chem.size import effective_radius
from sei_net.chem.species import Species
from sei_net.constants import electron_free_energy as electron_free_energy_at
from sei_net.constants import BARRIER_SOURCE, electron_offset_for
from sei_net.energy.thermal import ThermalModel, free_energy_shift
from sei_net.kinetics.costs import get_cost, reaction_costs
from sei_net.kinetics.hypergraph import HyperGraph, SpeciesEnergies, species_energies
from sei_net.kinetics.paths import HyperPath, UnreachableError, k_best_paths
from sei_net.kinetics.rates import DEFAULT_VISCOSITY, RateModel
from sei_net.kinetics.setup import find_species


@dataclass
class Scores:
    """Per-reaction arrays (shape (R,), or (R, M) for members): dG and barrier in eV, rate in the
    units of kinetics.rates, cost (dimensionless, >= 0, inf where energies are missing)."""

    dG: np.ndarray
    barrier: np.ndarray
    rate: np.ndarray
    cost: np.ndarray


def score_reactions(graph: HyperGraph, G: np.ndarray, g_e: float, rate_model: RateModel,
                    cost: str | Callable, radius: np.ndarray) -> Scores:
    """dG, barriers, rates and costs of every reaction from species free energies ``G`` (eV; (S,) or
    (S, M)) and the electron free energy ``g_e`` (eV)."""
    dG = graph.reaction_dG(G, g_e)
    safe = np.where(np.isnan(dG), 0.0, dG)
    barrier = rate_model.barriers(safe, graph.kind, graph.electrons, radius)
    rate = rate_model.encounter_limited(rate_model.rates(barrier, graph.electrons), barrier, safe,
                                        graph.reactant_order(), graph.product_order(), graph.electrons)
    barrier[np.isnan(dG)] = np.nan
    rate[np.isnan(dG)] = np.nan
    c = reaction_costs(cost, dG, barrier, rate, rate_model.temperature)
    return Scores(dG, barrier, rate, c)


def stored_intrinsic(store, graph: HyperGraph) -> np.ndarray | None:
    """Learned lambda (eV, (R, M) members, NaN for reactions without one) in graph order, from the
    store's ``BARRIER_SOURCE`` barriers (lambda/4 each); None when the store has none."""
    rows = store.barriers(BARRIER_SOURCE)
    if not rows:
        return None
    n_members = max(len(r["members"]) if r["members"] is not None else 1 for r in rows.values())
    lam = np.full((graph.n_reactions, n_members), np.nan)
    index = {int(rid): i for i, rid in enumerate(graph.reaction_id)}
    for rid, row in rows.items():
        lam[index[rid]] = 4.0 * (row["members"] if row["members"] is not None else row["value"])
    return lam


def species_thermal(species: dict[int, Species], n_species: int) -> tuple[np.ndarray, np.ndarray]:
    """(S, Cp) in eV/K at 298.15 K by species id from the shipped additivity model (energy.thermal),
    which carries the stored free energies (all at one temperature) to the query's."""
    model = ThermalModel.load()
    ids = sorted(species)
    S, Cp = np.zeros(n_species), np.zeros(n_species)
    S[ids], Cp[ids] = model.predict([species[i] for i in ids])
    return S, Cp


@dataclass
class PathQuery:
    """A network prepared for path and product queries (see the module docstring)."""

    store: object
    graph: HyperGraph
    energies: SpeciesEnergies
    potential: float
    electron_free_energy: float
    rate_model: RateModel
    scores: Scores
    samples: Scores | None
    species: dict[int, Species]
    radius: np.ndarray               # Å, the reduced species' effective radius per redox reaction (Marcus)
    member_G: np.ndarray | None      # (S, M) eV: the energy members, or Gaussian draws from sigma
    cost: str | Callable
    thermal: tuple[np.ndarray, np.ndarray] | None = None  # (S, Cp) eV/K per species, once needed

    @classmethod
    def prepare(cls, store, *, source: str | None = None, potential: float | None = None,
                electron_free_energy: float | None = None, temperature: float | None = None,
                cost: str | Callable = "mrnet", rate_model: RateModel | None = None,
                n_samples: int = 32, seed: int = 0, electrode: str = "marcus",
                viscosity: float | None = DEFAULT_VISCOSITY) -> "PathQuery":
        """Score a network. ``potential`` (V vs Li/Li+) defaults to the recipe's (else 0.0);
        ``electron_free_energy`` (eV) overrides it. ``temperature`` (K) defaults to the recipe's
        (else 298.15). ``n_samples`` Gaussian draws are used when the energies have a sigma but no
        members. ``electrode``: the electrode kinetics of the rate model made here
        (``RateModel.electrode``: 'marcus' or 'mhc'), and ``viscosity`` (Pa s) its encounter limit
        of bimolecular steps (None: none), unless ``rate_model`` is given."""
        get_cost(cost)
        if temperature is None:
            temperature = float(store.get_meta("temperature", "298.15"))
        if potential is None:
            potential = float(store.get_meta("potential", "0.0"))
        graph = HyperGraph.from_store(store)
        if rate_model is None:
            intrinsic = stored_intrinsic(store, graph)
            rate_model = RateModel(temperature=temperature, intrinsic=intrinsic,
                                   intrinsic_source="" if intrinsic is None else BARRIER_SOURCE, electrode=electrode,
                                   viscosity=viscosity)
        if rate_model.temperature != temperature:
            raise ValueError(f"rate model temperature {rate_model.temperature} K differs from the "
                             f"query temperature {temperature} K")
        energies = species_energies(store, graph.n_species, source)
        if electron_free_energy is None:
            electron_free_energy = electron_free_energy_at(potential, electron_offset_for(energies.source))
        species = store.all_species()
        radius = np.zeros(graph.n_reactions)
        redox = np.flatnonzero(graph.electrons != 0)
        radii: dict[int, float] = {}
        for r in redox:
            # the species that takes or gives the electron: the lone reactant, or the lone product of
            # an associative oxidation (the reverse of a dissociative reduction, generate.dissociative),
            # so that both directions of a pair share lambda and keep detailed balance
            one_product = (graph.r_coef[graph.r_ptr[r]:graph.r_ptr[r + 1]].sum() > 1
                           and graph.p_coef[graph.p_ptr[r]:graph.p_ptr[r + 1]].sum() == 1)
            s = int(graph.p_species[graph.p_ptr[r]] if one_product else graph.r_species[graph.r_ptr[r]])
            if s not in radii:
                radii[s] = effective_radius(species[s])
            radius[r] = radii[s]
        members = energies.members
        if members is None and energies.sigma is not None:
            rng = np.random.default_rng(seed)
            sigma = np.nan_to_num(energies.sigma, nan=0.0)
            members = energies.G[:, None] + sigma[:, None] * rng.standard_normal((graph.n_species, n_samples))
        return cls._scored(store, graph, energies, species, radius, members, cost, float(potential),
                           float(electron_free_energy), rate_model)

    @classmethod
    def _scored(cls, store, graph, energies, species, radius, members, cost, potential: float,
                electron_free_energy: float, rate_model: RateModel,
                thermal: tuple[np.ndarray, np.ndarray] | None = None) -> "PathQuery":
        G, G_members = energies.G, members
        if rate_model.temperature != energies.temperature:
            thermal = thermal or species_thermal(species, graph.n_species)
            shift = (free_energy_shift(*thermal, rate_model.temperature)
                     - free_energy_shift(*thermal, energies.temperature))
            G = G + shift
            G_members = None if members is None else members + shift[:, None]
        scores = score_reactions(graph, G, electron_free_energy, rate_model, cost, radius)
        samples = (score_reactions(graph, G_members, electron_free_energy, rate_model, cost, radius)
                   if members is not None else None)
        return cls(store, graph, energies, potential, electron_free_energy, rate_model,
                   scores, samples, species, radius, members, cost, thermal)

    @property
    def cost_name(self) -> str:
        """The cost function's name ('custom' for an unnamed callable)."""
        return self.cost if isinstance(self.cost, str) else getattr(self.cost, "__name__", "custom")

    @property
    def known(self) -> dict[str, str]:
        """Species key -> known SEI name (chem.known)."""
        return known_species_keys()

    def at(self, potential: float, temperature: float | None = None) -> "PathQuery":
        """The same network, energies and members scored at another electrode ``potential``
        (V vs Li/Li+) and ``temperature`` (K; default this query's), without reading the store
        again (potential sweeps)."""
        rate_model = (self.rate_model if temperature is None
                      else replace(self.rate_model, temperature=float(temperature)))
        g_e = electron_free_energy_at(potential, electron_offset_for(self.energies.source))
        return self._scored(self.store, self.graph, self.energies, self.species, self.radius, self.member_G,
                            self.cost, float(potential), g_e, rate_model, self._thermal_at(rate_model.temperature))

    def with_rate_model(self, rate_model: RateModel) -> "PathQuery":
        """The same network, energies, members, potential and electron free energy scored with
        another rate model (at its temperature), without reading the store again."""
        return self._scored(self.store, self.graph, self.energies, self.species, self.radius, self.member_G,
                            self.cost, self.potential, self.electron_free_energy, rate_model,
                            self._thermal_at(rate_model.temperature))

    # ------------------------------------------------------------------ helpers
    def _thermal_at(self, temperature: float) -> tuple[np.ndarray, np.ndarray] | None:
        """(S, Cp) of every species when ``temperature`` (K) is not the energies', made once per
        query and kept, so a sweep over temperatures builds them once."""
        if self.thermal is None and temperature != self.energies.temperature:
            self.thermal = species_thermal(self.species, self.graph.n_species)
        return self.thermal

    def species_id(self, query: str) -> int:
        """Species id from a name, SMILES or key, or a known SEI species name (chem.known) such as
        LEDC; one clear error if absent."""
        return find_species(self.store, query)

    def label(self, s: int) -> str:
        """The species' stored name, else its known SEI name, else its SMILES."""
        return species_label(self.species[s])

    def step(self, r: int, times: int = 1) -> dict:
        """One reaction as a JSON-ready dict: names, electrons, dG (eV) and its spread over the energy
        members (dG_sigma, eV: their population standard deviation, since the members are the
        predictive distribution; None without members), barrier (eV), rate."""
        def side(pairs):
            return [self.label(s) for s, c in pairs for _ in range(c)]
        return {"reaction_id": int(self.graph.reaction_id[r]), "times": int(times),
                "kind": str(self.graph.kind[r]),
                "reactants": side(self.graph.reactants(r)), "products": side(self.graph.products(r)),
                "electrons": int(self.graph.electrons[r]), "dG": float(self.scores.dG[r]),
                "dG_sigma": (float(np.std(self.samples.dG[r])) if self.samples is not None else None),
                "barrier": float(self.scores.barrier[r]), "rate": float(self.scores.rate[r])}

    # ------------------------------------------------------------------ queries
    def paths(self, sources: list[int], target: int, k: int = 5) -> list[HyperPath]:
        """The k cheapest derivations of ``target`` from ``sources`` (species ids), with
        ``probability_best`` among them over the energy members when there are members."""
        try:
            paths = k_best_paths(self.graph, self.scores.cost, sources, target, k, self.scores.dG)
        except UnreachableError:
            raise UnreachableError(
                f"{self.label(target)} cannot be made from {', '.join(self.label(s) for s in sources)} "
                f"with this network's reactions and {self.energies.source} energies (reactions with a "
                "species lacking an energy are skipped)") from None
        if self.samples is not None:
            member_costs = np.array([[p.cost_under(self.samples.cost[:, m]) for p in paths]
                                     for m in range(self.samples.cost.shape[1])])
            best = np.argmin(member_costs, axis=1)
            for i, p in enumerate(paths):
                p.probability_best = float(np.mean(best == i))
        return paths

    def describe(self) -> dict:
        """The settings every reported number depends on."""
        return {"energy_source": self.energies.source, "level_of_theory": self.energies.level_of_theory,
                "potential_V_vs_Li": self.potential, "electron_free_energy_eV": self.electron_free_energy,
                "temperature_K": self.rate_model.temperature,
                "free_energies": (f"stored at {self.energies.temperature:g} K" + (
                    "" if self.energies.temperature == self.rate_model.temperature else
                    f", carried to {self.rate_model.temperature:g} K with S and Cp of the thermal model "
                    "(energy.thermal)")), "cost": self.cost_name,
                "rate_model": self.rate_model.describe(),
                "left_out_outside_oracle_domain": self.energies.left_out,
                "uncertainty": (f"{self.samples.cost.shape[1]} energy members"
                                if self.samples is not None else "none (energies carry no members or sigma)")}
