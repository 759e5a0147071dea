"""Element data used by the species model: atomic numbers, covalent radii (Å), Pauling
electronegativities and the Lewis valence states allowed to each element.

Covalent radii: Cordero et al., Dalton Trans. 2008, 2832 (Å). Electronegativity: Pauling scale.
"""

from __future__ import annotations

ATOMIC_NUMBER: dict[str, int] = {
    "H": 1, "Li": 3, "B": 5, "C": 6, "N": 7, "O": 8, "F": 9, "Na": 11, "Mg": 12,
    "Si": 14, "P": 15, "S": 16, "Cl": 17,
}
SYMBOL: dict[int, str] = {z: s for s, z in ATOMIC_NUMBER.items()}

#: Cordero 2008 covalent radii in Å (sp3 C).
COVALENT_RADIUS: dict[str, float] = {
    "H": 0.31, "Li": 1.28, "B": 0.84, "C": 0.76, "N": 0.71, "O": 0.66, "F": 0.57, "Na": 1.66,
    "Mg": 1.41, "Si": 1.11, "P": 1.07, "S": 1.05, "Cl": 1.02,
}

#: Pauling electronegativity (dimensionless).
ELECTRONEGATIVITY: dict[str, float] = {
    "H": 2.20, "Li": 0.98, "B": 2.04, "C": 2.55, "N": 3.04, "O": 3.44, "F": 3.98, "Na": 0.93,
    "Mg": 1.31, "Si": 1.90, "P": 2.19, "S": 2.58, "Cl": 3.16,
}

#: Metals whose bonds to other atoms are coordination (dative, donor -> metal cation) bonds.
COORDINATING_METALS: frozenset[str] = frozenset({"Li", "Na", "Mg"})

# Lewis valence states: (formal charge, covalent bond-order sum, unpaired electrons, penalty).
# The penalty ranks alternative Lewis structures of the same graph: neutral closed-shell atoms
# cost nothing, anions on electronegative atoms are cheap, cations and odd states are dear.
# Coordination bonds carry no bond order (dative donation does not use the donor's valence).
VALENCE_STATES: dict[str, tuple[tuple[int, int, int, float], ...]] = {
    "H": ((0, 1, 0, 0.0), (0, 0, 1, 1.0), (1, 0, 0, 2.0), (-1, 0, 0, 2.0)),
    "Li": ((1, 0, 0, 0.0), (0, 0, 1, 3.0)),
    "Na": ((1, 0, 0, 0.0), (0, 0, 1, 3.0)),
    "Mg": ((2, 0, 0, 0.0), (1, 0, 1, 3.0)),
    "B": ((0, 3, 0, 0.0), (-1, 4, 0, 0.5), (0, 2, 1, 1.0)),
    "C": ((0, 4, 0, 0.0), (0, 3, 1, 1.0), (-1, 3, 0, 2.0), (1, 3, 0, 2.5), (0, 2, 2, 3.0),
          (-1, 2, 1, 3.0)),
    "N": ((0, 3, 0, 0.0), (1, 4, 0, 1.5), (-1, 2, 0, 1.5), (0, 2, 1, 1.0), (1, 3, 1, 3.0)),
    "O": ((0, 2, 0, 0.0), (-1, 1, 0, 1.0), (0, 1, 1, 1.0), (1, 3, 0, 2.5), (-2, 0, 0, 3.0),
          (-1, 0, 1, 2.5), (0, 0, 2, 3.0), (1, 2, 1, 3.5)),
    "F": ((0, 1, 0, 0.0), (-1, 0, 0, 1.0), (0, 0, 1, 1.0)),
    "Si": ((0, 4, 0, 0.0), (0, 3, 1, 1.0), (-1, 3, 0, 2.0)),
    "P": ((0, 3, 0, 0.0), (0, 5, 0, 0.5), (-1, 6, 0, 0.5), (1, 4, 0, 1.5), (0, 4, 1, 1.5),
          (-1, 4, 0, 2.0), (0, 2, 1, 1.5)),
    "S": ((0, 2, 0, 0.0), (0, 4, 0, 0.5), (0, 6, 0, 0.5), (-1, 1, 0, 1.0), (1, 3, 0, 1.5),
          (0, 1, 1, 1.0)),
    "Cl": ((0, 1, 0, 0.0), (-1, 0, 0, 1.0), (0, 0, 1, 1.0)),
}

SUPPORTED_ELEMENTS: tuple[str, ...] = tuple(VALENCE_STATES)


def check_element(symbol: str, where: str = "input") -> str:
    """Return ``symbol`` if sei_net supports it, else raise ValueError naming the valid ones."""
    if symbol not in VALENCE_STATES:
        raise ValueError(
            f"{where}: element {symbol!r} is not supported; valid elements: "
            + ", ".join(SUPPORTED_ELEMENTS)
        )
    return symbol


def hill_formula(symbols: list[str] | tuple[str, ...]) -> str:
    """Hill-order formula (C first, H second, then alphabetical), e.g. ``C3H4LiO3``."""
    counts: dict[str, int] = {}
    for s in symbols:
        counts[s] = counts.get(s, 0) + 1
    order = []
    if "C" in counts:
        order = ["C"] + (["H"] if "H" in counts else [])
    order += sorted(k for k in counts if k not in order)
    return "".join(f"{el}{counts[el] if counts[el] > 1 else ''}" for el in order)
