"""What an energy oracle returns, and the protocol every oracle backend follows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

from sei_net.chem.species import Species

#: a record's status: the relaxed structure kept the species' whole graph; it kept the covalent
#: graph but a metal cation moved to other donors; or no usable result
STATUSES = ("ok", "coordination_changed", "failed")


@dataclass
class EnergyRecord:
    """One species labelled at one level of theory.

    E: electronic energy (eV, with implicit solvation); G: free energy at ``temperature`` (eV,
    1 mol/L standard state); coords: optimised geometry (Å, the species' canonical atom order).
    """

    key: str
    level_of_theory: str
    status: str
    E: float | None = None
    G: float | None = None
    temperature: float | None = None
    coords: list[list[float]] | None = None
    seconds: float = 0.0
    reason: str = ""
    data: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EnergyRecord":
        return cls(**d)


def make_oracle(name: str, **settings) -> "Oracle":
    """Oracle by name (settings go to its constructor); raises ValueError naming the valid ones."""
    if name == "gfn2":
        from sei_net.energy.gfn2 import GFN2Oracle

        return GFN2Oracle(**settings)
    if name == "pyscf":
        import importlib.util

        from sei_net.energy.dft import PySCFOracle

        if importlib.util.find_spec("pyscf") is None:
            raise ValueError("oracle 'pyscf' needs PySCF: pip install 'sei_net[dft]'")
        return PySCFOracle(**settings)
    raise ValueError(f"unknown oracle {name!r}; valid oracles: gfn2, pyscf")


class Oracle(Protocol):
    """Species in, EnergyRecord out. ``level_of_theory`` names everything that changes the numbers."""

    name: str
    level_of_theory: str

    def compute(self, species: Species) -> EnergyRecord:
        ...
