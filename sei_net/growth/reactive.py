"""The reactive Monte Carlo step of hybrid MD/MC growth (Takenaka et al. 2014; Biedermann, Diddens &
Heuer 2021), applied every few hundred MD steps.

Geometric condition: a site reacts alone (unimolecular), with a partner whose centre is within
sigma_ij + ``shell`` Å (pair), or with the electrode when the gap between its surface and the
electrode or deposit surface below it is under ``reach`` Å. Electron transfer then tunnels through the
deposit between the site and the electrode, d = min(h(x, y), z - sigma/2) thick (h: the deposit
surface height over the site), with kappa = exp(-beta d).

Dynamic condition, ``acceptance``:
- 'rate' (default): kinetic Monte Carlo of the cell's chemistry over the step's chemical time dt with
  the sites frozen (growth.kmc). Both modes take their candidates and weights from the same
  builder (growth._kmc_kernel.add_site_candidates; ReactiveKMC.candidates for this module).
- 'metropolis' (equilibrium studies only): each channel of each candidate is proposed with
  probability ``proposal`` and accepted with min(1, exp(-dG/kB T)). It samples the equilibrium of
  unimolecular and electrode steps (detailed balance), not their rates; time has no meaning. A site
  in several accepted proposals reacts once (the first in a random order; ``conflicts`` counts the rest).

Products replace reactants in place (the first at the reactants' centre, others one contact
distance away in a random direction, velocities from Maxwell-Boltzmann); gas products leave the cell.
Deposited (immobile) sites do not react.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from sei_net.constants import BOLTZMANN_EV
from sei_net.growth._kmc_kernel import product_position, reaction_centre, surface_heights
from sei_net.growth.chemistry import GrowthChemistry
from sei_net.growth.phases import GAS
from sei_net.growth.state import GrowthState, thermal_velocities
from sei_net.kinetics._ssa_kernel import rng_state

ACCEPTANCES = ("rate", "metropolis")


@dataclass(frozen=True)
class ReactiveSettings:
    """dt: chemical time per reactive step (s); beta (1/Å); reach, shell (Å); temperature (K)."""

    dt: float = 1e-9
    beta: float = 1.0
    reach: float = 3.0
    shell: float = 1.0
    acceptance: str = "rate"
    proposal: float = 0.1
    temperature: float = 298.15

    def __post_init__(self):
        if self.acceptance not in ACCEPTANCES:
            raise ValueError(f"acceptance {self.acceptance!r} is not valid: use one of {', '.join(ACCEPTANCES)}")
        if not self.dt > 0 or self.beta < 0 or self.reach < 0 or not self.shell > 0:
            raise ValueError("reactive settings: dt (s) and shell (Å) must be positive, beta (1/Å) and "
                             "reach (Å) non-negative")
        if not 0 < self.proposal <= 1:
            raise ValueError(f"proposal probability {self.proposal!r} must be in (0, 1]")


def deposit_height(xy: torch.Tensor, state: GrowthState) -> torch.Tensor:
    """Height (Å) of the deposit surface over each point ``xy`` (P, 2): the top of the union of
    deposited spheres, 0 where the electrode is bare."""
    dep = ~state.mobile
    h = surface_heights(xy.detach().cpu().numpy().astype(float), state.positions[dep].cpu().numpy(),
                        0.5 * state.sigma[dep].cpu().numpy(), state.box.cpu().numpy().astype(float))
    return torch.as_tensor(h, dtype=xy.dtype, device=xy.device)


@dataclass
class Candidates:
    family: np.ndarray      # 0 electrode, 1 unimolecular, 2 pair
    i: np.ndarray
    j: np.ndarray           # -1 for single sites
    entry: np.ndarray       # row into the family's Channels
    weight: np.ndarray      # kappa (electrode), 1 (unimolecular), 1/(N_A V_shell) x (1 or 2) (pair)
    # V_shell = 4/3 pi ((sigma_ij + shell)^3 - sigma_ij^3), in L (chemistry.py)


FAMILIES = ("electrode", "unimolecular", "pair")


def _channels_of(chem, family):
    return (chem.electrode, chem.unimolecular, chem.pair)[family]


def metropolis_events(cand: Candidates, chem: GrowthChemistry, s: ReactiveSettings,
                      rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """Accepted (family, i, j, reaction) proposals of one Metropolis step in a random order, before
    conflicts: each channel of each candidate is proposed with probability ``proposal`` and accepted
    with min(1, exp(-dG/kB T))."""
    fired = []
    kt = BOLTZMANN_EV * s.temperature
    for c in range(len(cand.family)):
        ch = _channels_of(chem, cand.family[c])
        lo, hi = ch.ptr[cand.entry[c]], ch.ptr[cand.entry[c] + 1]
        for row in range(lo, hi):
            if rng.random() < s.proposal:
                dG = ch.dG[row]
                if np.isfinite(dG) and rng.random() < math.exp(-max(dG, 0.0) / kt):
                    fired.append((int(cand.family[c]), int(cand.i[c]), int(cand.j[c]), int(ch.reaction[row])))
    order = rng.permutation(len(fired))
    return [fired[k] for k in order]


def apply_events(state: GrowthState, chem: GrowthChemistry, fired, rng: np.random.Generator,
                 temperature: float) -> tuple[list[dict], dict[int, int], int]:
    """Replace reactants by products for each fired event whose sites are still unused; returns
    (events, gases released per species, conflicts)."""
    used: set[int] = set()
    remove, add_sp, add_pos = [], [], []
    events, gases, conflicts = [], {}, 0
    pos = state.positions.cpu().numpy().astype(float)
    box = state.box.cpu().numpy().astype(float)
    sites = state.sites
    stream = rng_state(int(rng.integers(2 ** 63)))       # product placement: the kinetic MC's own helpers
    for family, i, j, reaction in fired:
        who = [i] if j < 0 else [i, j]
        if used.intersection(who):
            conflicts += 1
            continue
        used.update(who)
        remove.extend(who)
        centre = reaction_centre(pos, i, j, box)
        first_sigma = -1.0
        for p in chem.products[reaction]:
            if sites.phase[p] == GAS:
                gases[p] = gases.get(p, 0) + 1
                continue
            add_sp.append(p)
            add_pos.append(product_position(*centre, first_sigma, float(sites.sigma[p]), box, stream))
            if first_sigma < 0.0:
                first_sigma = float(sites.sigma[p])
        events.append({"family": FAMILIES[family], "reaction": reaction})
    if remove or add_sp:
        add_sp = np.asarray(add_sp, dtype=np.int64)
        state.edit(np.asarray(remove, dtype=np.int64), add_sp, np.asarray(add_pos).reshape(-1, 3),
                   thermal_velocities(sites.mass[add_sp], temperature, rng))
    return events, gases, conflicts
