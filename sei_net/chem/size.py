"""Molecular size from the 2D graph: van der Waals volume (Å^3) and an effective sphere radius (Å).

Volume by the additive scheme of Zhao, Abraham & Zissimos (J. Org. Chem. 2003, 68, 7368):
V = sum of atomic contributions - 5.92 Å^3 per bond - 14.7 Å^3 per aromatic ring - 3.8 Å^3 per
non-aromatic ring. Their atomic contributions are Bondi-radius spheres; Li, Na and Mg (absent from
their table) use Bondi radii as well (Li 1.82, Na 2.27, Mg 1.73 Å; Bondi, J. Phys. Chem. 1964).
Coordination bonds count as bonds. The radius is that of a sphere of the same volume, the cavity
radius used by the Marcus/Born formulas (kinetics.rates) and the one-site growth model.
"""

from __future__ import annotations

import math

#: Atomic volume contributions (Å^3): Zhao et al. 2003 Table 1, Bondi spheres for the metals.
ATOM_VOLUME: dict[str, float] = {
    "H": 7.24, "B": 40.48, "C": 20.58, "N": 15.60, "O": 14.71, "F": 13.31, "Si": 38.79,
    "P": 24.43, "S": 24.43, "Cl": 22.45,
    "Li": 4.0 / 3.0 * math.pi * 1.82 ** 3, "Na": 4.0 / 3.0 * math.pi * 2.27 ** 3,
    "Mg": 4.0 / 3.0 * math.pi * 1.73 ** 3,
}
BOND_VOLUME = 5.92          # Å^3 subtracted per bond
RING_VOLUME = 3.8           # Å^3 subtracted per (non-aromatic) ring


def molecular_volume(species) -> float:
    """Van der Waals volume of ``species`` in Å^3 (Zhao-Abraham-Zissimos additive scheme; rings
    counted by the cycle rank of the bond graph and treated as non-aromatic)."""
    n_atoms = len(species.elements)
    n_bonds = len(species.bonds)
    n_rings = n_bonds - n_atoms + 1          # cycle rank of a connected graph
    v = sum(ATOM_VOLUME[e] for e in species.elements)
    return max(v - BOND_VOLUME * n_bonds - RING_VOLUME * n_rings, 1.0)


def effective_radius(species) -> float:
    """Radius (Å) of the sphere with the molecule's van der Waals volume."""
    return (3.0 * molecular_volume(species) / (4.0 * math.pi)) ** (1.0 / 3.0)
