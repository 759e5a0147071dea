"""One interaction site per molecule: diameter, mass, charge and phase of every network species.

- Diameter sigma (Å): the diameter of the sphere with the species' van der Waals volume
  (chem.size, Zhao-Abraham-Zissimos), times one common factor chosen so that the bulk electrolyte
  is a dense hard-sphere-like fluid of packing fraction ``packing`` (default 0.45; hard spheres
  freeze at 0.494, Hansen & McDonald, Theory of Simple Liquids). Unscaled spheres cannot hold a
  carbonate at its liquid density (neat EC at 15 mol/L would need packing 0.65, beyond random close
  packing), because real molecules are not spheres and interpenetrate.
- Mass (amu): the sum of atomic masses (ase.data).
- Charge (e): the species' total charge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sei_net.chem.size import effective_radius
from sei_net.constants import AVOGADRO
from sei_net.growth.phases import PhaseRules, is_organic

#: default hard-sphere packing fraction of the bulk electrolyte
DEFAULT_PACKING = 0.45


@dataclass
class SiteTable:
    """Per-species site parameters, indexed by network species index (unused indices hold nan
    sigma and zero mass)."""

    sigma: np.ndarray        # Å
    mass: np.ndarray         # amu
    charge: np.ndarray       # e
    phase: np.ndarray        # phases.SOLUTION / GAS / INSOLUBLE
    organic: np.ndarray      # bool: has a C-H bond
    names: list[str]
    size_scale: float        # common factor applied to the vdW diameters

    @property
    def n_species(self) -> int:
        return len(self.sigma)

    def check(self, indices) -> None:
        """Raise unless every species index in ``indices`` has site parameters."""
        bad = [int(s) for s in np.atleast_1d(indices) if not (0 <= s < self.n_species)
               or not np.isfinite(self.sigma[s])]
        if bad:
            raise ValueError(f"species index {bad[0]} has no site parameters (valid: the network's species)")


def size_scale(vdw_diameter: dict[int, float], concentration: dict[int, float],
               packing: float = DEFAULT_PACKING) -> float:
    """Factor f with pi/6 * sum_s rho_s (f d_s)^3 = ``packing`` for number densities rho_s (1/Å^3)
    from concentrations (mol/L) and vdW diameters d_s (Å)."""
    if not 0 < packing < 0.64:
        raise ValueError(f"packing fraction {packing!r} is not valid: give a fluid value in (0, 0.64)")
    eta = sum(math.pi / 6 * c * AVOGADRO * 1e-27 * vdw_diameter[s] ** 3 for s, c in concentration.items())
    if not eta > 0:
        raise ValueError("the bulk electrolyte has no molecules: give positive concentrations (mol/L)")
    return (packing / eta) ** (1.0 / 3.0)


def site_table(species: dict, n_species: int, phases: PhaseRules, bulk: dict[int, float],
               packing: float = DEFAULT_PACKING) -> SiteTable:
    """Site parameters for ``species`` (index -> Species) with the size factor from the ``bulk``
    composition (index -> mol/L); see the module docstring."""
    from sei_net.chem.known import species_labels

    sigma = np.full(n_species, np.nan)
    mass = np.zeros(n_species)
    charge = np.zeros(n_species)
    phase = np.zeros(n_species, dtype=np.int64)
    organic = np.zeros(n_species, dtype=bool)
    for i, sp in species.items():
        sigma[i] = 2.0 * effective_radius(sp)
        mass[i] = sp.mass
        charge[i] = sp.charge
        phase[i] = phases.phase(sp)
        organic[i] = is_organic(sp)
    missing = [s for s in bulk if s not in species]
    if missing:
        raise ValueError(f"bulk species index {missing[0]} is not among the network's species")
    f = size_scale({s: sigma[s] for s in bulk}, bulk, packing)
    return SiteTable(sigma * f, mass, charge, phase, organic,
                     species_labels(species, n_species), f)
