"""Temporal acceleration of stochastic kinetics by scaling down fast, quasi-equilibrated reversible
pairs (Dybeck, Plaisance & Neurock, J. Chem. Theory Comput. 13, 1525 (2017); the superbasin idea of
Chatterjee & Voter, J. Chem. Phys. 132, 194101 (2010)).

Generated SEI networks hold reversible pairs (Li+ coordination, ring flips of radical anions) that
fire at 10^11-10^13 s^-1 while the chemistry that matters runs at 10^2-10^8 s^-1: the direct method
spends nearly every event on a pair that goes back and forth and simulated time crawls. Both rate
constants of such a pair are divided by the same factor alpha >= 1, which keeps its equilibrium
constant, so the pair stays equilibrated and only its (uninteresting) turnover slows down.

The trajectory runs in windows of ``window`` events. At the end of each window, for each pair
(j, j') with nf and nr firings in the window (n = nf + nr):

- **quasi-equilibrated** when n >= ``min_events`` and |nf - nr| <= ``tolerance`` * n;
- the **slow rate** R_slow is the net number of events, |nf - nr|, of every pair that is not
  quasi-equilibrated (all events of a reaction without a reverse), divided by the window's simulated
  time (at least one event, so a window without slow events still bounds it). Net, not gross: a
  pair too rarely fired to be judged but going back and forth changes nothing; its counting noise
  (~sqrt(n)) only makes R_slow larger, the safe side;
- a quasi-equilibrated pair gets alpha such that its turnover n/dt becomes ``separation`` * R_slow:
  each pair still fires ``separation`` times per slow event, so it re-equilibrates between slow
  events (changed only when that moves alpha by more than 10 %, and never below 1);
- a scaled pair that shows a significant net flux (|nf - nr| > tolerance * n + 3 sqrt(n)) is
  driven, not equilibrated: its scaling is undone (alpha = 1).

The approximation is controlled by ``separation``: the larger, the smaller the acceleration and the
error. Tests compare accelerated runs with the exact solution of a fast-equilibrium-plus-slow-step
mechanism and with the mass-action ODE (which needs no acceleration); docs/kinetics.md gives the
measured agreement on a generated network. The window rule runs inside the compiled SSA loop
(kinetics._ssa_kernel.rescale_window).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Acceleration:
    """Settings of the rate scaling (module docstring): ``window`` events per evaluation,
    ``min_events`` firings of a pair in a window to judge it, ``tolerance`` on |nf - nr|/n,
    ``separation`` pair firings per slow event kept after scaling."""

    window: int = 20_000
    min_events: int = 200
    tolerance: float = 0.15
    separation: float = 100.0

    def __post_init__(self):
        checks = [("window", self.window >= 10 and int(self.window) == self.window, "a whole number >= 10"),
                  ("min_events", self.min_events >= 10 and int(self.min_events) == self.min_events,
                   "a whole number >= 10"),
                  ("tolerance", 0 < self.tolerance < 1, "between 0 and 1"),
                  ("separation", self.separation >= 2, "2 or more")]
        for name, ok, valid in checks:
            if not ok:
                raise ValueError(f"acceleration {name} {getattr(self, name)!r} is not valid: give {valid}")

    def as_array(self) -> np.ndarray:
        """The kernel's parameter vector (window, min_events, tolerance, separation)."""
        return np.array([self.window, self.min_events, self.tolerance, self.separation], dtype=float)

    def describe(self) -> dict:
        return asdict(self) | {"method": "rate scaling of fast quasi-equilibrated reversible pairs "
                                         "(Dybeck, Plaisance & Neurock, JCTC 13, 1525 (2017))"}


#: kernel parameter vector that switches acceleration off
OFF = np.zeros(4)


def reverse_partners(graph) -> np.ndarray:
    """For each reaction of ``graph`` (kinetics.hypergraph.HyperGraph) the index of its reverse
    (reactants and products swapped, same coefficients) or -1. Reactions with the same reactants
    and products are paired in order; a reaction that changes nothing has no partner."""
    keys = [(tuple(sorted(graph.reactants(j))), tuple(sorted(graph.products(j))))
            for j in range(graph.n_reactions)]
    groups: dict[tuple, list[int]] = {}
    for j, key in enumerate(keys):
        groups.setdefault(key, []).append(j)
    partner = np.full(graph.n_reactions, -1, dtype=np.int64)
    for key, members in groups.items():
        if key[0] == key[1] or partner[members[0]] >= 0:
            continue
        for j, k in zip(members, groups.get((key[1], key[0]), [])):
            partner[j], partner[k] = k, j
    return partner
