"""An energy model's applicability domain: the atom environments of its training species.

An atom environment is what the first message-passing layer reads at an atom: the atom's features
(element, covalent and dative degree, formal charge, unpaired electrons, hybridisation, ring
membership, H count; ``features.featurise``) and the multiset of its bonds' features (single,
double, triple or dative; ring size). A species with an environment that no training species holds
asks the model for something it has never seen at the level of its inputs, and its prediction is
an extrapolation that neither the members' disagreement nor the calibration can be trusted to
bound (docs/surrogates.md, "The applicability domain"). The main job sends such species to the
oracle, as it does the small ones.

Environments are readable strings, e.g. ``C d2 q0 r1 sp chain H0 [single, triple]`` (element,
covalent degree, formal charge, unpaired electrons, hybridisation, ring or chain, H count, and its
bonds, with the smallest ring each is in); a model
keeps the sorted list of its training species' environments in its card (``card["domain"]``).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from sei_net.chem.species import Species
from sei_net.learn.features import (ELEMENTS, FORMAL_CHARGES, HYBRIDISATION, RING_SIZES, SpeciesGraph,
                                    featurise)

#: names the card stores the environments under; a changed definition gets a new version
DEFINITION = "atom features and bond features of every atom, features.featurise, version 1"

# segment lengths of the atom and bond feature rows, in featurise's order
_ATOM_SEGMENTS = (len(ELEMENTS) + 1, 7, 5, len(FORMAL_CHARGES) + 1, 3, len(HYBRIDISATION) + 1, 1, 5)
_BOND_SEGMENTS = (4, 1, len(RING_SIZES) + 1)
_BOND_TYPES = ("single", "double", "triple", "dative")


def _hot(row: np.ndarray, lengths: Sequence[int]) -> list[int]:
    """The index of the set bit of each one-hot segment of ``row`` (-1 where none is set)."""
    out, start = [], 0
    for n in lengths:
        seg = row[start:start + n]
        out.append(int(np.argmax(seg)) if seg.any() else -1)
        start += n
    return out


def _atom_text(row: np.ndarray) -> str:
    el, cov, dat, q, rad, hyb, ring, h = _hot(row, _ATOM_SEGMENTS)
    element = ELEMENTS[el] if el < len(ELEMENTS) else "other"
    charge = FORMAL_CHARGES[q] if q < len(FORMAL_CHARGES) else "other"
    hybrid = HYBRIDISATION[hyb] if hyb < len(HYBRIDISATION) else "other"
    dative = f" dat{dat}" if dat else ""
    return (f"{element} d{cov}{dative} q{charge} r{rad} {hybrid} {'ring' if ring == 0 else 'chain'} "
            f"H{h}{'+' if h == 4 else ''}")


def _bond_text(row: np.ndarray) -> str:
    kind, _, size = _hot(row, _BOND_SEGMENTS)       # the size's 'other' slot is 'in no ring'
    ring = f" ring{RING_SIZES[size]}{'+' if size == len(RING_SIZES) - 1 else ''}" if size < len(RING_SIZES) else ""
    return _BOND_TYPES[kind] + ring


def graph_environments(graph: SpeciesGraph) -> list[str]:
    """The environment of every atom of a featurised species, in atom order (module docstring)."""
    bonds: list[list[str]] = [[] for _ in range(len(graph.atoms))]
    for (i, j), row in zip(graph.bonds, graph.bond_features):
        text = _bond_text(row)
        bonds[int(i)].append(text)
        bonds[int(j)].append(text)
    return [f"{_atom_text(row)} [{', '.join(sorted(b))}]" for row, b in zip(graph.atoms, bonds)]


def atom_environments(species: Species) -> list[str]:
    """The environment of every atom of ``species``, in atom order (see the module docstring)."""
    return graph_environments(featurise(species))


def training_environments(species: Iterable[Species]) -> list[str]:
    """The sorted distinct environments of ``species`` (a model's training species)."""
    return sorted({env for sp in species for env in atom_environments(sp)})


class Domain:
    """The environments a model trained on; ``novel(species)`` names those a species adds."""

    def __init__(self, environments: Iterable[str]):
        self.environments = frozenset(environments)

    @classmethod
    def of_card(cls, card: dict) -> "Domain | None":
        """The domain a model's card stores (None for models trained before it was recorded, or
        under another definition)."""
        stored = card.get("domain")
        if not stored or stored.get("definition") != DEFINITION:
            return None
        return cls(stored["environments"])

    def to_card(self) -> dict:
        return {"definition": DEFINITION, "environments": sorted(self.environments)}

    def novel(self, species: Species | SpeciesGraph) -> list[str]:
        """The distinct environments of a species (or its features) that no training species
        holds (sorted)."""
        envs = graph_environments(species) if isinstance(species, SpeciesGraph) else atom_environments(species)
        return sorted(set(envs) - self.environments)

    def outside(self, species: Sequence[Species]) -> np.ndarray:
        """Boolean mask: which of ``species`` hold an environment outside the domain."""
        return np.array([bool(self.novel(sp)) for sp in species], dtype=bool)


def describe_domain(domain: dict | None, shown: int = 3) -> str | None:
    """One line on a scoring's ``domain`` record (``learn.score.score_network``), or None when
    nothing predicted is outside it (or the model keeps no domain)."""
    if not domain or not domain["outside"]:
        return None
    envs = "; ".join(f"{e} ({n})" for e, n in domain["environments"][:shown])
    return (f"{domain['outside']} of the {domain['predicted']} predicted species hold an atom environment no "
            f"training species has (extrapolations; most common: {envs}); label them with the oracle "
            "(--oracle-outside) for trustworthy energies")
