"""Reaction: balanced multisets of species, explicit electrons, a kind and an atom map.

Conventions (DESIGN.md): ``electrons`` counts electrons consumed from the electrode
(+1 for a one-electron reduction A + e- -> A-, -1 for an oxidation). Element and charge balance
(electrons included) are checked at creation; an unbalanced reaction raises BalanceError and is
never stored. Reactants and products are kept sorted by species key, so a reaction has one
canonical form; its key is direction-aware (A -> B and B -> A differ).

The atom map, when known, gives for each product atom (products concatenated in stored order,
atoms in each species' canonical order) the index of the reactant atom it comes from (reactants
concatenated likewise). It must be a bijection that preserves elements.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from itertools import accumulate
from typing import Iterable, Sequence

import numpy as np

from sei_net.chem.species import Species

#: Reaction kinds used by generators and importers.
KINDS = (
    "redox", "fragmentation", "recombination", "ring_opening", "ring_closing", "coordination",
    "decoordination", "concerted", "other",
)

#: kind of the reverse reaction
REVERSE_KIND = {
    "redox": "redox", "fragmentation": "recombination", "recombination": "fragmentation",
    "ring_opening": "ring_closing", "ring_closing": "ring_opening", "coordination": "decoordination",
    "decoordination": "coordination", "concerted": "concerted", "other": "other",
}


class BalanceError(ValueError):
    """Reaction does not conserve elements or charge."""


def reaction_key(reactant_keys: Iterable[str], product_keys: Iterable[str], electrons: int) -> str:
    """Direction-aware canonical reaction key: a 32-hex BLAKE2b digest of the sorted species keys
    of both sides and the electron count."""
    text = "+".join(sorted(reactant_keys)) + f">{int(electrons)}>" + "+".join(sorted(product_keys))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"reaction kind {kind!r} is not valid; valid kinds: {', '.join(KINDS)}")


def _sorted_side(species: Sequence[Species]) -> tuple[list[int], list[int]]:
    """Stable order by key and the atom offset of each species in the input order."""
    order = sorted(range(len(species)), key=lambda t: species[t].key)
    offsets = list(accumulate((s.n_atoms for s in species[:-1]), initial=0))
    return order, offsets


class Reaction:
    """A balanced reaction between species (immutable).

    Parameters
    ----------
    reactants, products : species lists; repeat a species for a stoichiometric coefficient > 1.
    electrons : electrons consumed from the electrode (+1 reduction, -1 oxidation, 0 otherwise).
    kind : one of ``KINDS``.
    atom_map : optional product-atom -> reactant-atom map over the sides *as given*.
    rule : name of the rule or importer that created it (provenance).
    """

    __slots__ = ("reactants", "products", "electrons", "kind", "atom_map", "rule", "key")

    def __init__(
        self,
        reactants: Sequence[Species],
        products: Sequence[Species],
        electrons: int = 0,
        kind: str = "other",
        atom_map: Sequence[int] | None = None,
        rule: str | None = None,
    ):
        if not reactants or not products:
            raise BalanceError("a reaction needs at least one reactant and one product")
        _check_kind(kind)
        electrons = int(electrons)
        check_balance(reactants, products, electrons)
        r_order, r_off = _sorted_side(reactants)
        p_order, p_off = _sorted_side(products)
        new_r = tuple(reactants[t] for t in r_order)
        new_p = tuple(products[t] for t in p_order)
        amap = None
        if atom_map is not None:
            # plain lists: reactions have a few dozen atoms, where numpy's per-call cost dominates
            amap_arr = np.asarray(atom_map, dtype=np.int64)
            if amap_arr.ndim != 1:
                raise BalanceError("atom map must be a bijection from product atoms to reactant atoms")
            amap_in = amap_arr.tolist()
            _check_atom_map(reactants, products, amap_in)
            # old reactant atom index -> new reactant atom index
            r_new_index = [0] * len(amap_in)
            pos = 0
            for t in r_order:
                start = r_off[t]
                for k in range(reactants[t].n_atoms):
                    r_new_index[start + k] = pos + k
                pos += reactants[t].n_atoms
            amap = np.array([r_new_index[amap_in[p_off[t] + k]]
                             for t in p_order for k in range(products[t].n_atoms)], dtype=np.int64)
            amap.setflags(write=False)
        self._fill(new_r, new_p, electrons, kind, amap, rule)

    def _fill(self, reactants: tuple, products: tuple, electrons: int, kind: str, atom_map, rule) -> None:
        """Set the fields of a checked reaction (sides sorted by key) and its key."""
        set_ = object.__setattr__
        set_(self, "reactants", reactants)
        set_(self, "products", products)
        set_(self, "electrons", electrons)
        set_(self, "kind", kind)
        set_(self, "atom_map", atom_map)
        set_(self, "rule", rule)
        set_(self, "key", reaction_key((s.key for s in reactants), (s.key for s in products), electrons))

    def __setattr__(self, name, value):
        raise AttributeError("Reaction is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reaction) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"<Reaction {self.equation()} [{self.kind}]>"

    def equation(self) -> str:
        """Readable equation, e.g. ``EC + e- -> EC-``."""
        return equation_text([s.name or s.smiles for s in self.reactants],
                             [s.name or s.smiles for s in self.products], self.electrons)

    def stoichiometry(self) -> tuple[dict[Species, int], dict[Species, int]]:
        """(reactant -> coefficient, product -> coefficient)."""
        return dict(Counter(self.reactants)), dict(Counter(self.products))

    def reversed(self, kind: str | None = None, rule: str | None = None) -> "Reaction":
        """The reverse reaction (atom map inverted). Both sides are already balanced and sorted by
        key, and the inverse of a valid map is valid, so nothing is checked or re-sorted again."""
        kind = kind or REVERSE_KIND[self.kind]
        _check_kind(kind)
        amap = None
        if self.atom_map is not None:
            amap = np.argsort(self.atom_map)
            amap.setflags(write=False)
        new = object.__new__(Reaction)
        new._fill(self.products, self.reactants, -self.electrons, kind, amap, rule or self.rule)
        return new


def equation_text(reactants: Sequence[str], products: Sequence[str], electrons: int) -> str:
    """Readable equation from species labels (a repeated label becomes a coefficient) and the
    electrons consumed, e.g. ``2 LiEC_RO -> LEDC + C2H4`` or ``EC + e- -> EC-``."""
    def side(labels: Sequence[str]) -> str:
        return " + ".join((f"{n} " if n > 1 else "") + label for label, n in Counter(labels).items())

    left, right = side(reactants), side(products)
    if electrons > 0:
        left += f" + {electrons if electrons > 1 else ''}e-"
    elif electrons < 0:
        right += f" + {-electrons if electrons < -1 else ''}e-"
    return f"{left} -> {right}"


def check_balance(reactants: Sequence[Species], products: Sequence[Species], electrons: int) -> None:
    """Raise BalanceError unless elements and charge (electrons included) balance."""
    left = Counter()
    right = Counter()
    for s in reactants:
        left.update(s.elements)
    for s in products:
        right.update(s.elements)
    if left != right:
        diff = {el: left[el] - right[el] for el in set(left) | set(right) if left[el] != right[el]}
        raise BalanceError(f"elements do not balance (reactants minus products: {diff})")
    q_left = sum(s.charge for s in reactants) - electrons
    q_right = sum(s.charge for s in products)
    if q_left != q_right:
        raise BalanceError(
            f"charge does not balance: reactants {q_left + electrons:+d} with {electrons} electron(s) "
            f"consumed give {q_left:+d}, products {q_right:+d}"
        )


def _check_atom_map(reactants, products, amap: list[int]) -> None:
    r_el = [e for s in reactants for e in s.elements]
    p_el = [e for s in products for e in s.elements]
    if len(amap) != len(p_el) or sorted(amap) != list(range(len(r_el))):
        raise BalanceError("atom map must be a bijection from product atoms to reactant atoms")
    bad = [i for i, r in enumerate(amap) if p_el[i] != r_el[r]]
    if bad:
        raise BalanceError(f"atom map changes elements at product atoms {bad[:5]}")
