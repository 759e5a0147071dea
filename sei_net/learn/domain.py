"""An energy model's applicability domain: the atom environments of its training species.

An atom environment is what the first message-passing layer reads at an atom: the atom's features
(element, covalent and dative degree, formal charge, unpaired electrons, hybridisation, ring
membership, H count; ``features.featurise``) and the multiset of its bonds' features (single,
double, triple or dative; ring size). A species with an environment that no training species holds
asks the model for something it has never seen at the level of its inputs, and its prediction is
an extrapolation that neither the members' disagreement nor the calibration can be trusted to
bound (docs/surrogates.md, "The applicability domain"). The main job sends such species to the
oracle, as it does the small ones.

Environments are compared as byte codes and read as strings, e.g. ``C d2 q0 r1 sp chain H0
[single, triple]`` (element, covalent degree, formal charge, unpaired electrons, hybridisation,
ring or chain, H count, and its bonds, with the smallest ring each is in). A model keeps its
training species' environments in its card (``card["domain"]``: the codes and their readable
forms).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from sei_net.chem.species import Species
from sei_net.learn.features import (ELEMENTS, FORMAL_CHARGES, HYBRIDISATION, N_ATOM_FEATURES, N_BOND_FEATURES,
                                    RING_SIZES, SpeciesGraph, featurise)

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


def _codes(graph: SpeciesGraph) -> list[bytes]:
    """Each atom's environment as bytes: its packed feature bits, then its bonds' packed feature
    bits in sorted order (equal codes, equal environments; ``environment_text`` reads one)."""
    atoms = np.packbits(graph.atoms > 0.5, axis=1)
    bonds = [bytes(row) for row in np.packbits(graph.bond_features > 0.5, axis=1)]
    per_atom: list[list[bytes]] = [[] for _ in range(len(atoms))]
    for (i, j), code in zip(graph.bonds.tolist(), bonds):
        per_atom[i].append(code)
        per_atom[j].append(code)
    return [bytes(row) + b"".join(sorted(b)) for row, b in zip(atoms, per_atom)]


_ATOM_BYTES = -(-N_ATOM_FEATURES // 8)
_BOND_BYTES = -(-N_BOND_FEATURES // 8)


def environment_text(code: bytes) -> str:
    """The readable form of an environment code (module docstring)."""
    def bits(chunk: bytes, n: int) -> np.ndarray:
        return np.unpackbits(np.frombuffer(chunk, dtype=np.uint8))[:n]
    bonds = [_bond_text(bits(code[k:k + _BOND_BYTES], N_BOND_FEATURES))
             for k in range(_ATOM_BYTES, len(code), _BOND_BYTES)]
    return f"{_atom_text(bits(code[:_ATOM_BYTES], N_ATOM_FEATURES))} [{', '.join(sorted(bonds))}]"


def graph_environments(graph: SpeciesGraph) -> list[str]:
    """The environment of every atom of a featurised species, in atom order (module docstring)."""
    return [environment_text(code) for code in _codes(graph)]


def atom_environments(species: Species) -> list[str]:
    """The environment of every atom of ``species``, in atom order (see the module docstring)."""
    return graph_environments(featurise(species))


class Domain:
    """The atom environments a model trained on (``of_species``); ``novel(species)`` names those
    a species adds. Membership is tested on the environments' byte codes, so checking a scored
    network's species costs a small fraction of featurising them."""

    def __init__(self, codes: Iterable[bytes]):
        self.codes = frozenset(codes)

    @classmethod
    def of_species(cls, species: Iterable[Species]) -> "Domain":
        """The domain of a model trained on ``species``."""
        return cls(code for sp in species for code in _codes(featurise(sp)))

    @classmethod
    def of_card(cls, card: dict) -> "Domain | None":
        """The domain a model's card stores (None for models trained before it was recorded, or
        under another definition)."""
        stored = card.get("domain")
        if not stored or stored.get("definition") != DEFINITION:
            return None
        return cls(bytes.fromhex(h) for h in stored["codes"])

    def to_card(self) -> dict:
        """What a card stores: the codes (hex) and, in the same order, their readable forms."""
        codes = sorted(self.codes)
        return {"definition": DEFINITION, "codes": [c.hex() for c in codes],
                "environments": [environment_text(c) for c in codes]}

    @property
    def environments(self) -> set[str]:
        """The readable environments of the domain."""
        return {environment_text(c) for c in self.codes}

    def novel(self, species: Species | SpeciesGraph) -> list[str]:
        """The distinct environments of a species (or its features) that no training species
        holds (sorted, readable)."""
        graph = species if isinstance(species, SpeciesGraph) else featurise(species)
        return sorted({environment_text(c) for c in _codes(graph) if c not in self.codes})

    def outside(self, species: Sequence[Species]) -> np.ndarray:
        """Boolean mask: which of ``species`` hold an environment outside the domain."""
        return np.array([not self.codes.issuperset(_codes(featurise(sp))) for sp in species], dtype=bool)


def describe_domain(domain: dict | None, shown: int = 3) -> str | None:
    """One line on a scoring's ``domain`` record (``learn.score.score_network``), or None when
    nothing predicted is outside it (or the model keeps no domain)."""
    if not domain or not domain["outside"]:
        return None
    envs = "; ".join(f"{e} ({n})" for e, n in domain["environments"][:shown])
    return (f"{domain['outside']} of the {domain['predicted']} predicted species hold an atom environment no "
            f"training species has (extrapolations; most common: {envs}); label them with the oracle "
            "(--oracle-outside) for trustworthy energies")
