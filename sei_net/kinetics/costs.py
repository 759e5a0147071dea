"""Reaction costs for pathfinding: non-negative numbers per reaction, lower is easier.

A cost function takes arrays of reaction free energies ``dG`` (eV), barriers (eV) and rate
constants (rate units of kinetics.rates) at ``temperature`` (K) and returns costs >= 0 (the
pathfinder's exactness needs non-negative costs). Reactions without energies (NaN) cost inf.

- ``mrnet``: exp(min(10, dG)/kT) + 1 (Blau et al., Chem. Sci. 2021): every step costs at least 1,
  so shorter paths win among downhill ones, and uphill steps are penalised by their Boltzmann factor.
- ``softplus``: ln(1 + exp(dG/kT)), a smooth max(0, dG/kT): downhill steps are nearly free.
- ``kinetic``: -ln(k/k_max) with k_max = kB*T/h, i.e. barrier/kT - ln(kappa): the cost is the
  step's slowness on a log scale, and the sum over a path is its product of rate ratios.

Plug in any callable with the same signature.
"""

from __future__ import annotations

from typing import Callable, Protocol

import numpy as np

from sei_net.constants import PLANCK_EV
from sei_net.kinetics.rates import thermal_energy


class CostFunction(Protocol):
    def __call__(self, dG: np.ndarray, barrier: np.ndarray, rate: np.ndarray,
                 temperature: float) -> np.ndarray: ...


def mrnet_cost(dG, barrier, rate, temperature: float) -> np.ndarray:
    """exp(min(10, dG)/kT) + 1 (dG in eV)."""
    dG = np.asarray(dG, dtype=float)
    return np.exp(np.minimum(10.0, dG) / thermal_energy(temperature)) + 1.0


def softplus_cost(dG, barrier, rate, temperature: float) -> np.ndarray:
    """ln(1 + exp(dG/kT)) (dG in eV)."""
    return np.logaddexp(0.0, np.asarray(dG, dtype=float) / thermal_energy(temperature))


def kinetic_cost(dG, barrier, rate, temperature: float) -> np.ndarray:
    """-ln(k / (kB*T/h)), >= 0 for any barrier >= 0 and tunnelling factor <= 1."""
    k_max = thermal_energy(temperature) / PLANCK_EV
    with np.errstate(divide="ignore"):
        return np.maximum(-np.log(np.asarray(rate, dtype=float) / k_max), 0.0)


COSTS: dict[str, Callable] = {"mrnet": mrnet_cost, "softplus": softplus_cost, "kinetic": kinetic_cost}


def get_cost(cost: str | Callable) -> Callable:
    """A cost function by name (``COSTS``) or the callable itself."""
    if callable(cost):
        return cost
    if cost not in COSTS:
        raise ValueError(f"cost {cost!r} is not known: valid costs: {', '.join(COSTS)}")
    return COSTS[cost]


def reaction_costs(cost: str | Callable, dG, barrier, rate, temperature: float) -> np.ndarray:
    """Costs of every reaction (inf where dG is NaN); raises if a cost function returns a
    negative value."""
    c = np.asarray(get_cost(cost)(dG, barrier, rate, temperature), dtype=float)
    c = np.where(np.isnan(np.asarray(dG, dtype=float)) | np.isnan(c), np.inf, c)
    if np.any(c < 0):
        raise ValueError("a path cost must be >= 0 for every reaction (exact pathfinding needs it)")
    return c
