"""Reactions among a fixed set of species, by mrnet's scheme (Blau et al., Chem. Sci. 2021).

Where ``generate.driver`` grows a network from rules, this closes a given species set (an imported
mrnet/LIBE entry set, say) under mrnet's reaction classes, every one in both directions:

- redox: two species with the same bond graph whose charges differ by one (A + e- -> A-);
- one bond changes inside a molecule: A minus one bond is B, same charge (ring opening/closing);
- one bond breaks into two molecules: A minus one bond is B + C, charges summing (fragmentation,
  recombination; a lone metal atom makes it a decoordination);
- a metal leaves: A minus all bonds of one Li/Na/Mg atom is B + M (decoordination, coordination);
- concerted: an uphill non-redox step into an intermediate X (dG > 0) followed by a step out of X
  with an overall dG < 0 becomes one reaction, with species on both sides cancelled, when at most
  two reactants and two products remain and X is not a lone atom (mrnet's ReactionIterator).

Graphs are compared by the canonical skeleton of ``Species`` (coordination bonds included, bond
orders and charges ignored), so isomorphism is exact. Free energies (eV) decide only which
concerted pairs qualify.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Sequence

from sei_net.chem.elements import COORDINATING_METALS
from sei_net.chem.graph import connected_components
from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species, _canonical_cached

RULE = "mrnet_scheme"


def _fragment_skeleton(species: Species, atoms: Sequence[int], bonds) -> str:
    index = {a: i for i, a in enumerate(atoms)}
    elements = tuple(species.elements[a] for a in atoms)
    sub = [(index[i], index[j], k) for i, j, k in bonds if i in index and j in index]
    return _canonical_cached(elements, tuple(sub))[0]


def _split(species: Species, removed: set[tuple[int, int, int]]) -> list[str]:
    """Skeletons of the connected pieces of ``species`` without the ``removed`` bonds."""
    bonds = [b for b in species.bonds if b not in removed]
    return [_fragment_skeleton(species, comp, bonds)
            for comp in connected_components(len(species.elements), bonds)]


def elementary_reactions(species: Iterable[Species]) -> list[Reaction]:
    """mrnet's elementary reactions (redox, one bond, metal coordination) among ``species``,
    both directions, each reaction once."""
    species = list(species)
    by_skeleton: dict[str, list[Species]] = defaultdict(list)
    for s in species:
        by_skeleton[s.skeleton].append(s)
    out: dict[str, Reaction] = {}

    def add(reactants, products, electrons, kind, reverse_kind):
        for r in (Reaction(reactants, products, electrons, kind, rule=RULE),
                  Reaction(products, reactants, -electrons, reverse_kind, rule=RULE)):
            out.setdefault(r.key, r)

    for group in by_skeleton.values():
        for a in group:
            for b in group:
                if b.charge == a.charge - 1:
                    add([a], [b], 1, "redox", "redox")
    for a in species:
        splits: list[tuple[set, bool]] = [({bond}, False) for bond in a.bonds]
        for m, el in enumerate(a.elements):
            if el in COORDINATING_METALS:
                own = {b for b in a.bonds if m in b[:2]}
                if len(own) > 1:
                    splits.append((own, True))
        for removed, metal_leaves in splits:
            pieces = _split(a, removed)
            if len(pieces) == 1:
                for b in by_skeleton.get(pieces[0], ()):
                    if b.charge == a.charge:
                        add([a], [b], 0, "ring_opening", "ring_closing")
            elif len(pieces) == 2:
                k1, k2 = pieces
                lone_metal = any(k.strip("[]") in COORDINATING_METALS for k in (k1, k2))
                kinds = (("decoordination", "coordination") if (metal_leaves or lone_metal)
                         else ("fragmentation", "recombination"))
                for b in by_skeleton.get(k1, ()):
                    for c in by_skeleton.get(k2, ()):
                        if b.charge + c.charge == a.charge:
                            add([a], [b, c], 0, *kinds)
    return list(out.values())


def concerted_reactions(reactions: Sequence[Reaction], G: dict[str, float],
                        ignore_single_atoms: bool = True) -> list[Reaction]:
    """mrnet's concerted reactions: an uphill non-redox step into X then a step out of X that is
    downhill overall, cancelled, with at most two species per side. ``G``: species key -> free
    energy (eV); reactions with a species missing from ``G`` are skipped."""
    def dG(r: Reaction) -> float | None:
        try:
            return sum(G[s.key] for s in r.products) - sum(G[s.key] for s in r.reactants)
        except KeyError:
            return None

    into: dict[str, list[tuple[Reaction, float]]] = defaultdict(list)
    out_of: dict[str, list[tuple[Reaction, float]]] = defaultdict(list)
    for r in reactions:
        if r.electrons:
            continue
        d = dG(r)
        if d is None:
            continue
        for s in set(p.key for p in r.products):
            into[s].append((r, d))
        for s in set(p.key for p in r.reactants):
            out_of[s].append((r, d))
    found: dict[str, Reaction] = {}
    for x, ins in into.items():
        if ignore_single_atoms and x.split("|")[0].count("[") == 1:
            continue
        for r_in, d_in in ins:
            if d_in <= 0:
                continue
            for r_out, d_out in out_of.get(x, ()):
                if d_in + d_out >= 0:
                    continue
                if all(a.key == b.key for a in r_in.reactants for b in r_out.products):
                    continue
                reactants = list(r_in.reactants) + list(r_out.reactants)
                products = list(r_in.products) + list(r_out.products)
                for _ in range(2):               # mrnet cancels common species twice
                    common = {s.key for s in reactants} & {s.key for s in products}
                    for key in common:
                        reactants.remove(next(s for s in reactants if s.key == key))
                        products.remove(next(s for s in products if s.key == key))
                if 0 < len(reactants) <= 2 and 0 < len(products) <= 2:
                    r = Reaction(reactants, products, 0, "concerted", rule=RULE)
                    found.setdefault(r.key, r)
    elementary = {r.key for r in reactions}
    return [r for k, r in found.items() if k not in elementary]


def close_species_set(species: Iterable[Species], G: dict[str, float],
                      concerted: bool = True) -> list[Reaction]:
    """All of mrnet's reactions among ``species`` (see the module docstring)."""
    elementary = elementary_reactions(species)
    return elementary + (concerted_reactions(elementary, G) if concerted else [])
