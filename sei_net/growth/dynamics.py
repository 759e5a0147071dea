"""Langevin dynamics by the BAOAB splitting (Leimkuhler & Matthews, Appl. Math. Res. Express 2013):
B (half kick), A (half drift), O (exact Ornstein-Uhlenbeck velocity update), A, B. With zero
friction it is velocity Verlet, the energy-conserving NVE integrator. Deposited (immobile) sites
neither move nor feel forces. Units: fs, Å, amu, eV, K."""

from __future__ import annotations

import math

import torch

from sei_net.constants import BOLTZMANN_EV
from sei_net.growth.state import ACCELERATION, GrowthState


class Langevin:
    """BAOAB with time step ``dt`` (fs), friction ``friction`` (1/fs; 0 = NVE) at ``temperature``
    (K); ``generator`` (torch.Generator on the state's device) draws the noise."""

    def __init__(self, force_field, dt: float, temperature: float, friction: float,
                 generator: torch.Generator | None = None):
        if not dt > 0:
            raise ValueError(f"time step {dt!r} fs must be positive")
        if friction < 0 or temperature < 0:
            raise ValueError("friction (1/fs) and temperature (K) must be >= 0")
        self.force_field, self.dt, self.temperature, self.friction = force_field, dt, temperature, friction
        self.generator = generator
        self._forces = None
        self._key = None

    def forces(self, state: GrowthState) -> torch.Tensor:
        """Forces (eV/Å) on the mobile sites at the current positions (cached per state version)."""
        if self._forces is None or self._key != state.version:
            _, f = self.force_field.energy_forces(state)
            self._forces = f * state.mobile[:, None]
            self._key = state.version
        return self._forces

    def invalidate(self) -> None:
        """Forget cached forces (call after moving sites outside of ``run``)."""
        self._forces = None

    def run(self, state: GrowthState, steps: int) -> None:
        """Advance ``steps`` time steps in place."""
        dt = self.dt
        mobile = state.mobile[:, None].to(state.positions.dtype)
        inv_m = ACCELERATION / state.mass[:, None]
        c1 = math.exp(-self.friction * dt)
        c2 = torch.sqrt((1.0 - c1 * c1) * BOLTZMANN_EV * self.temperature * inv_m) * mobile
        f = self.forces(state)
        v, x = state.velocities, state.positions
        v.mul_(mobile)
        for _ in range(steps):
            v.add_(f * inv_m, alpha=0.5 * dt)
            x.add_(v, alpha=0.5 * dt)
            if self.friction > 0:
                noise = torch.randn(v.shape, generator=self.generator, dtype=v.dtype, device=v.device)
                v.mul_(c1).add_(c2 * noise)
            x.add_(v, alpha=0.5 * dt)
            state.wrap()
            _, f = self.force_field.energy_forces(state)
            f = f * mobile
            v.add_(f * inv_m, alpha=0.5 * dt)
        self._forces = f
        self._key = state.version

    def total_energy(self, state: GrowthState) -> float:
        """Kinetic + potential energy (eV)."""
        e, _ = self.force_field.energy_forces(state, energy=True)
        return state.kinetic_energy() + float(e)


def relax(state: GrowthState, force_field, steps: int, max_step: float = 0.1) -> None:
    """Capped steepest descent of the mobile sites: ``steps`` moves along the force, none longer
    than ``max_step`` (Å); removes the overlaps left by reactive moves and insertions."""
    for _ in range(steps):
        _, f = force_field.energy_forces(state)
        f = f * state.mobile[:, None]
        norm = f.norm(dim=1, keepdim=True)
        step = f / norm.clamp(min=1e-12) * norm.clamp(max=1.0) * max_step
        state.positions.add_(step)
        state.positions[:, 2].clamp_(min=0.05, max=float(state.box[2]) - 0.05)
        state.wrap()
