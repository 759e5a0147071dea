"""The state of a growth cell: one site per molecule, as torch tensors (positions in Å, velocities in
Å/fs, network species index, mobile or deposited), with an ASE Atoms view for output."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import torch

from sei_net.constants import BOLTZMANN_EV
from sei_net.growth.sites import SiteTable

_VERSIONS = itertools.count(1)

#: eV/(Å amu) in Å/fs^2
ACCELERATION = 9.648533212e-3


def thermal_velocities(mass: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """Maxwell-Boltzmann velocities (Å/fs), shape (len(mass), 3), for masses in amu at ``temperature`` K."""
    mass = np.asarray(mass, dtype=float)
    return rng.normal(size=(len(mass), 3)) * np.sqrt(BOLTZMANN_EV * temperature * ACCELERATION / mass)[:, None]


def resolve_device(device: str = "auto") -> torch.device:
    """'auto' -> cuda when present, else cpu; any torch device string otherwise."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ValueError(f"device {device!r} is not valid: use auto, cpu, cuda or cuda:N") from None


@dataclass
class GrowthState:
    """Sites in a box periodic in x and y with the electrode at z = 0 and a closed top at z = Lz."""

    positions: torch.Tensor          # (N, 3) Å
    velocities: torch.Tensor         # (N, 3) Å/fs
    species: torch.Tensor            # (N,) network species index
    mobile: torch.Tensor             # (N,) bool; False: deposited (immobile)
    box: torch.Tensor                # (3,) Lx, Ly, Lz in Å
    sites: SiteTable
    version: int = 0                 # new (globally unique) whenever particles are added, removed or change species
    sigma: torch.Tensor = field(init=False)
    mass: torch.Tensor = field(init=False)
    charge: torch.Tensor = field(init=False)

    def __post_init__(self):
        self.refresh()

    @classmethod
    def from_arrays(cls, positions, velocities, species, mobile, box, sites: SiteTable,
                    device: torch.device) -> "GrowthState":
        """A float64 state on ``device`` from numpy arrays (Å, Å/fs, species index, bool, Å)."""
        f64 = {"dtype": torch.float64, "device": device}
        return cls(torch.tensor(positions, **f64), torch.tensor(velocities, **f64),
                   torch.tensor(species, dtype=torch.long, device=device),
                   torch.tensor(mobile, dtype=torch.bool, device=device), torch.tensor(box, **f64), sites)

    @property
    def n(self) -> int:
        return int(self.positions.shape[0])

    @property
    def device(self) -> torch.device:
        return self.positions.device

    def refresh(self) -> None:
        """Recompute per-particle sigma (Å), mass (amu) and charge (e) from the species."""
        sp = self.species.cpu().numpy()
        if len(sp):
            self.sites.check(np.unique(sp))
        kw = {"dtype": self.positions.dtype, "device": self.device}
        self.sigma = torch.as_tensor(self.sites.sigma[sp], **kw)
        self.mass = torch.as_tensor(self.sites.mass[sp], **kw)
        self.charge = torch.as_tensor(self.sites.charge[sp], **kw)
        self.version = next(_VERSIONS)

    def edit(self, remove: np.ndarray, species: np.ndarray, positions: np.ndarray,
             velocities: np.ndarray) -> None:
        """Remove particles ``remove`` (indices) and append new mobile ones (species, Å, Å/fs)."""
        keep = torch.ones(self.n, dtype=torch.bool, device=self.device)
        if len(remove):
            keep[torch.as_tensor(np.asarray(remove, dtype=np.int64), device=self.device)] = False
        kw = {"dtype": self.positions.dtype, "device": self.device}
        self.positions = torch.cat([self.positions[keep], torch.as_tensor(positions, **kw).reshape(-1, 3)])
        self.velocities = torch.cat([self.velocities[keep], torch.as_tensor(velocities, **kw).reshape(-1, 3)])
        new = torch.as_tensor(np.asarray(species, dtype=np.int64), device=self.device)
        self.species = torch.cat([self.species[keep], new])
        self.mobile = torch.cat([self.mobile[keep], torch.ones(len(new), dtype=torch.bool, device=self.device)])
        self.refresh()

    def wrap(self) -> None:
        """Put x and y back into the periodic box."""
        self.positions[:, :2] = torch.remainder(self.positions[:, :2], self.box[:2])

    def kinetic_energy(self) -> float:
        """Kinetic energy in eV."""
        return float(0.5 * (self.mass[:, None] * self.velocities.square()).sum() / ACCELERATION)

    def to_atoms(self):
        """ASE Atoms of the sites (dummy element X; arrays: species index, name (spaces as _), mobile,
        sigma in Å, masses in amu, initial charges in e), periodic in x and y."""
        from ase import Atoms, units

        sp = self.species.cpu().numpy()
        atoms = Atoms(["X"] * self.n, positions=self.positions.cpu().numpy(),
                      cell=self.box.cpu().numpy(), pbc=(True, True, False))
        atoms.set_masses(self.mass.cpu().numpy())
        atoms.set_initial_charges(self.charge.cpu().numpy())
        atoms.set_velocities(self.velocities.cpu().numpy() / units.fs)   # Å/fs -> ASE's time unit
        atoms.new_array("species_index", sp)
        # extxyz columns are split on whitespace: 'CO3 2-' is written 'CO3_2-'
        names = [self.sites.names[s].replace(" ", "_") for s in sp]
        atoms.new_array("species_name", np.array(names, dtype=object).astype(str))
        atoms.new_array("mobile", self.mobile.cpu().numpy())
        atoms.new_array("sigma", self.sigma.cpu().numpy())
        return atoms
