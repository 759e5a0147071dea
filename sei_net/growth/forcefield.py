"""Forces of the one-site model, in torch (CPU or GPU), and an adapter for any ASE calculator.

Every force field has ``energy_forces(state, energy=False) -> (E or None, F)`` with E in eV (0-d
tensor) and F in eV/Å, shape (N, 3). The default model (``site_model()``) is the sum of

- ``PairModel``: WCA repulsion (Weeks, Chandler & Andersen 1971: LJ cut at its minimum 2^(1/6)
  sigma_ij and shifted up by epsilon; sigma_ij = (sigma_i + sigma_j)/2 from sites.py; epsilon = kB*T
  by default, which makes the sites nearly hard spheres of diameter sigma) plus screened Coulomb
  between charged sites, q_i q_j e^2/(4 pi eps0 eps_r r) exp(-r/lambda_D), shifted-force at
  ``coulomb_cutoff`` so energy and force are continuous. eps_r = 89.78 is EC's static dielectric
  constant at 40 C (Xu, Chem. Rev. 2004, 104, 4303, Table 1); lambda_D is the Debye length of the
  bulk ionic strength (debye_length()). One site carries no dipole, so solvation is in eps_r only.
- ``Walls``: the electrode at z = 0 and the closed top at z = Lz, each a WCA wall acting on the
  site's surface: 4 eps [(a/h)^12 - (a/h)^6] + eps for h < 2^(1/6) a, a = sigma_i/2, h the distance
  to the wall. No image charges (the electrode is not polarisable in this model).

An atomistic (or any other) ASE calculator replaces PairModel through ``AseForceField``.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import torch

from sei_net.constants import AVOGADRO, BOLTZMANN_EV
from sei_net.growth.neighbours import minimum_image, pair_list
from sei_net.growth.state import GrowthState
from sei_net.kinetics.rates import COULOMB_EV_ANGSTROM

#: EC's static relative permittivity at 40 C (Xu, Chem. Rev. 2004, Table 1)
EC_DIELECTRIC = 89.78
_WCA = 2.0 ** (1.0 / 6.0)
#: pair-force routes: numba on the CPU, torch (any device), auto = numba on the CPU else torch
BACKENDS = ("auto", "numba", "torch")
#: vacuum permittivity in e^2/(eV Å)
_EPS0 = 1.0 / (4.0 * math.pi * COULOMB_EV_ANGSTROM)


def debye_length(ionic_strength: float, dielectric: float = EC_DIELECTRIC, temperature: float = 298.15) -> float:
    """Debye screening length (Å) for ionic strength I (mol/L): sqrt(eps_r eps0 kB T / (2 N_A e^2 I))."""
    if not ionic_strength > 0:
        return math.inf
    n = 2.0 * ionic_strength * AVOGADRO * 1e-27          # 2 I in ions per Å^3 (monovalent)
    return math.sqrt(dielectric * _EPS0 * BOLTZMANN_EV * temperature / n)


class ForceField(Protocol):
    def energy_forces(self, state: GrowthState, energy: bool = False) -> tuple[torch.Tensor | None, torch.Tensor]:
        ...


class PairModel:
    """WCA + screened Coulomb between sites (module docstring), with Verlet lists rebuilt when a
    site has moved more than half the ``skin`` (Å) or the particles changed."""

    def __init__(self, epsilon: float, dielectric: float = EC_DIELECTRIC, debye: float = math.inf,
                 coulomb_cutoff: float | None = None, skin: float = 1.0, coulomb: bool = True,
                 backend: str = "auto"):
        if not epsilon > 0 or not dielectric > 0 or not skin > 0:
            raise ValueError("epsilon (eV), dielectric and skin (Å) must be positive")
        if backend not in BACKENDS:
            raise ValueError(f"force backend {backend!r} is not valid: use one of {', '.join(BACKENDS)}")
        self.epsilon, self.dielectric, self.debye, self.skin = epsilon, dielectric, debye, skin
        self.coulomb = coulomb
        self.coulomb_cutoff = coulomb_cutoff if coulomb_cutoff else (3.0 * debye if math.isfinite(debye) else 12.0)
        self.backend = backend
        self._key = None          # state version of the torch route's Verlet lists
        self._checked = None      # state version whose box was checked against the cutoffs
        self.rebuilds = 0

    def _use_numba(self, state: GrowthState) -> bool:
        return self.backend == "numba" or (self.backend == "auto" and state.device.type == "cpu")

    def _check_box(self, state: GrowthState) -> None:
        need = 2.0 * max(self.coulomb_cutoff if self.coulomb else 0.0, _WCA * float(state.sigma.max()))
        if float(state.box[:2].min()) < need:
            raise ValueError(f"box x/y {state.box[:2].tolist()} Å is too small for the cutoffs: "
                             f"give at least {need:.1f} Å")

    # -- neighbour lists -------------------------------------------------------------------
    def _lists(self, state: GrowthState):
        pos = state.positions
        if self._key == state.version:
            moved = minimum_image(pos - self._ref, state.box).square().sum(-1).max()
            if float(moved) < (0.5 * self.skin) ** 2:
                return self._short, self._charged
        self.rebuilds += 1
        self._ref = pos.clone()
        self._key = state.version
        cut = _WCA * float(state.sigma.max()) + self.skin if state.n else self.skin
        self._short = pair_list(pos, state.box, cut) if state.n > 1 else _empty(pos)
        self._charged = _empty(pos)
        q = torch.nonzero(state.charge != 0).flatten()
        if self.coulomb and len(q) > 1:
            i, j = pair_list(pos[q], state.box, self.coulomb_cutoff + self.skin)
            self._charged = (q[i], q[j])
        return self._short, self._charged

    def energy_forces(self, state: GrowthState, energy: bool = False):
        if self._checked != state.version:
            self._check_box(state)
            self._checked = state.version
        if self._use_numba(state):
            return self._numba(state, energy)
        return self._torch(state, energy)

    def _numba(self, state: GrowthState, energy: bool):
        from sei_net.growth._pair_kernel import pair_forces

        box = state.box.double().numpy()
        q = state.charge.double().numpy() if self.coulomb else np.zeros(state.n)
        f, e = pair_forces(state.positions.double().numpy(), state.sigma.double().numpy(), q, box,
                           self.epsilon, COULOMB_EV_ANGSTROM / self.dielectric,
                           self.debye if math.isfinite(self.debye) else 1e300, self.coulomb_cutoff)
        forces = torch.from_numpy(f).to(state.positions.dtype)
        return (torch.tensor(e, dtype=state.positions.dtype) if energy else None), forces

    def _torch(self, state: GrowthState, energy: bool):
        (i, j), (ci, cj) = self._lists(state)
        pos = state.positions
        forces = torch.zeros_like(pos)
        total = pos.new_zeros(()) if energy else None
        # WCA
        d = minimum_image(pos[j] - pos[i], state.box)
        r2 = d.square().sum(-1)
        sig = 0.5 * (state.sigma[i] + state.sigma[j])
        inside = r2 < (_WCA * sig) ** 2
        s6 = torch.where(inside, (sig * sig / r2) ** 3, 0.0)
        fr = 24.0 * self.epsilon * s6 * (2.0 * s6 - 1.0) / r2            # -dU/dr / r
        _add_pair_forces(forces, i, j, fr, d)
        if energy:
            total = total + torch.where(inside, 4.0 * self.epsilon * s6 * (s6 - 1.0) + self.epsilon, 0.0).sum()
        # screened Coulomb, shifted force
        if len(ci):
            d = minimum_image(pos[cj] - pos[ci], state.box)
            r = d.square().sum(-1).sqrt()
            rc, lam = self.coulomb_cutoff, self.debye
            a = COULOMB_EV_ANGSTROM / self.dielectric * state.charge[ci] * state.charge[cj]
            inside = r < rc
            u = a * torch.exp(-r / lam) / r
            du = -u * (1.0 / r + 1.0 / lam)
            uc = a * math.exp(-rc / lam) / rc
            duc = -uc * (1.0 / rc + 1.0 / lam)
            fr = torch.where(inside, -(du - duc) / r, 0.0)
            _add_pair_forces(forces, ci, cj, fr, d)
            if energy:
                total = total + torch.where(inside, u - uc - (r - rc) * duc, 0.0).sum()
        return total, forces


def _add_pair_forces(forces, i, j, fr, d) -> None:
    """Add the pair forces fr * d (fr = -dU/dr / r, d = r_j - r_i) to j and their opposite to i."""
    fvec = fr[:, None] * d
    forces.index_add_(0, j, fvec)
    forces.index_add_(0, i, -fvec)


class Walls:
    """WCA walls at z = 0 (electrode) and z = Lz acting on each site's surface (module docstring)."""

    def __init__(self, epsilon: float):
        self.epsilon = epsilon

    def energy_forces(self, state: GrowthState, energy: bool = False):
        z = state.positions[:, 2]
        a = 0.5 * state.sigma
        forces = torch.zeros_like(state.positions)
        total = state.positions.new_zeros(()) if energy else None
        for h, sign in ((z, 1.0), (state.box[2] - z, -1.0)):
            h = torch.clamp(h, min=1e-3)
            inside = h < _WCA * a
            s6 = torch.where(inside, (a / h) ** 6, 0.0)
            forces[:, 2] += sign * 24.0 * self.epsilon * s6 * (2.0 * s6 - 1.0) / h
            if energy:
                total = total + torch.where(inside, 4.0 * self.epsilon * s6 * (s6 - 1.0) + self.epsilon, 0.0).sum()
        return total, forces


class AseForceField:
    """Any ASE calculator on the state's Atoms (state.to_atoms(): dummy sites, or real atoms when a
    caller keeps an atomistic state); energies eV, forces eV/Å, computed on the CPU."""

    def __init__(self, calculator):
        self.calculator = calculator
        self.backend = "ase"

    def energy_forces(self, state: GrowthState, energy: bool = False):
        atoms = state.to_atoms()
        atoms.calc = self.calculator
        forces = torch.as_tensor(atoms.get_forces(), dtype=state.positions.dtype, device=state.device)
        e = torch.tensor(atoms.get_potential_energy(), dtype=state.positions.dtype) if energy else None
        return e, forces


class Combined:
    """The sum of several force fields."""

    def __init__(self, *fields):
        self.fields = fields

    def energy_forces(self, state: GrowthState, energy: bool = False):
        total, forces = None, torch.zeros_like(state.positions)
        for f in self.fields:
            e, fo = f.energy_forces(state, energy)
            forces += fo
            if energy:
                total = e if total is None else total + e
        return total, forces


def site_model(temperature: float, ionic_strength: float, dielectric: float = EC_DIELECTRIC,
               epsilon: float | None = None, coulomb_cutoff: float | None = None, skin: float = 1.0,
               backend: str = "auto") -> Combined:
    """The default one-site model: PairModel + Walls with epsilon = kB*T unless given (eV)."""
    eps = epsilon if epsilon is not None else BOLTZMANN_EV * temperature
    lam = debye_length(ionic_strength, dielectric, temperature)
    return Combined(PairModel(eps, dielectric, lam, coulomb_cutoff, skin, backend=backend), Walls(eps))


def _empty(pos):
    e = torch.zeros(0, dtype=torch.long, device=pos.device)
    return e, e
