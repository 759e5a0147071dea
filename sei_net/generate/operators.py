"""Graph operators: each turns one or two species into candidate reactions with atom maps.

All operators work on the canonical graphs of the reactants concatenated in the order given
("combined" atom indices). A product is a connected subset of the combined atoms with edited
bonds; its charge is chosen by the operator and its multiplicity is the lowest the electron
count allows (1 or 2). The atom map of a candidate maps every product atom to its combined
reactant atom, so the generator always knows which bonds changed.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

import numpy as np

from sei_net.chem.elements import COORDINATING_METALS, ELECTRONEGATIVITY
from sei_net.chem.graph import connected_components
from sei_net.chem.lewis import COORDINATION, COVALENT, ValenceError
from sei_net.chem.species import Species
from sei_net.generate.rules import Rule

Bond = tuple[int, int, int]


@dataclass
class Candidate:
    reactants: list[Species]
    products: list[Species]
    electrons: int
    kind: str
    atom_map: np.ndarray
    rule: str


def combined_graph(species: list[Species]) -> tuple[list[str], list[Bond]]:
    """Elements and bonds of ``species`` concatenated in order (the "combined" atom indices)."""
    elements: list[str] = []
    bonds: list[Bond] = []
    for sp in species:
        off = len(elements)
        elements.extend(sp.elements)
        bonds.extend((i + off, j + off, k) for i, j, k in sp.bonds)
    return elements, bonds


#: canonicalised products by their locally labelled graph; the same fragment of the same species
#: (e.g. the radical left behind when many radicals abstract the same H) is canonicalised once
_PRODUCT_CACHE: dict[tuple, tuple[Species, np.ndarray] | str] = {}
PRODUCT_CACHE_SIZE = 500_000


def _product(sub_elements: tuple[str, ...], bonds, subset: list[int], charge: int) -> tuple[Species, np.ndarray]:
    """Species on ``subset`` of the combined atoms (``sub_elements`` its elements) and its
    canonical -> combined atom index map."""
    local = {a: t for t, a in enumerate(subset)}
    sub = tuple(sorted((local[i], local[j], k) for i, j, k in bonds if i in local and j in local))
    cache_key = (sub_elements, sub, charge)
    hit = _PRODUCT_CACHE.get(cache_key)
    if hit is None:
        try:
            hit = Species.from_graph(sub_elements, sub, charge, None, return_permutation=True,
                                     where="candidate")
        except ValueError as err:
            hit = str(err)
        if len(_PRODUCT_CACHE) >= PRODUCT_CACHE_SIZE:
            _PRODUCT_CACHE.clear()
        _PRODUCT_CACHE[cache_key] = hit
    if isinstance(hit, str):
        raise ValueError(hit)
    sp, perm = hit
    to_combined = np.empty(len(subset), dtype=np.int64)
    to_combined[perm] = subset
    return sp, to_combined


#: (product elements, charge) -> False when the build's filters reject every species of that
#: composition and charge; set for the duration of a build by ``product_prefilter``
_PREFILTER: ContextVar[Callable[[tuple[str, ...], int], bool] | None] = ContextVar("product_prefilter",
                                                                                  default=None)


@contextmanager
def product_prefilter(keep: Callable[[tuple[str, ...], int], bool]):
    """Within the block, candidates with a product that ``keep(elements, charge)`` refuses are
    dropped before any product is built (canonicalised): the species filters reject such products
    from composition and charge alone (e.g. a metal-free cation from a heterolytic split under
    reducing conditions), so the network is the same, without their decision rows."""
    token = _PREFILTER.set(keep)
    try:
        yield
    finally:
        _PREFILTER.reset(token)


def _refused(elements: tuple[str, ...], charge: int) -> bool:
    """Whether the build's product pre-filter (if any) refuses a product of this composition."""
    keep = _PREFILTER.get()
    return keep is not None and not keep(elements, charge)


def _candidate(reactants, elements, bonds, parts: list[tuple[list[int], int]], electrons, kind, rule):
    """Build a Candidate from product atom subsets with charges; None if a product is impossible
    (or refused by the product pre-filter)."""
    part_elements = [tuple(elements[a] for a in subset) for subset, _ in parts]
    if any(_refused(el, charge) for el, (_, charge) in zip(part_elements, parts)):
        return None
    products, maps = [], []
    for sub_elements, (subset, charge) in zip(part_elements, parts):
        try:
            sp, m = _product(sub_elements, bonds, subset, charge)
        except ValueError:  # impossible charge for the electron count, unsupported element, ...
            return None
        products.append(sp)
        maps.append(m)
    if electrons == 0 and sorted(p.key for p in products) == sorted(r.key for r in reactants):
        return None  # a degenerate rearrangement (e.g. a 1,5-H shift back to the same radical)
    return Candidate(list(reactants), products, electrons, kind, np.concatenate(maps), rule)


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def radical_sites(sp: Species) -> list[int]:
    """Atoms carrying unpaired electrons in the species' best Lewis structure."""
    try:
        rad = sp.lewis.radicals
    except ValenceError:
        return []
    return [a for a, r in enumerate(rad) if r > 0]


def unsaturated_atoms(sp: Species) -> list[int]:
    """Atoms with a double or triple bond in the species' best Lewis structure."""
    try:
        orders = sp.lewis.bond_orders
    except ValenceError:
        return []
    atoms = set()
    for (i, j, _), order in zip(sp.bonds, orders):
        if order >= 2:
            atoms.update((i, j))
    return sorted(atoms)


def anionic_sites(sp: Species) -> list[int]:
    """Non-metal atoms with a negative formal charge in the best Lewis structure (lone-pair donors)."""
    try:
        fc = sp.lewis.formal_charges
    except ValenceError:
        return []
    return [a for a, q in enumerate(fc) if q < 0 and sp.elements[a] not in COORDINATING_METALS]


def is_metal_cation(sp: Species, metal: str) -> bool:
    """A bare metal cation M+ (e.g. Li+)."""
    return sp.n_atoms == 1 and sp.elements[0] == metal and sp.charge == 1


@lru_cache(maxsize=200_000)
def _symmetry_classes(sp: Species) -> list[int]:
    """One representative atom per symmetry class (graph-invariant refinement on the canonical graph);
    cached per species, since a bimolecular rule asks again for every partner."""
    from rdkit import Chem

    rw = Chem.RWMol()
    for e in sp.elements:
        atom = Chem.Atom(e)
        atom.SetNoImplicit(True)
        rw.AddAtom(atom)
    for i, j, k in sp.bonds:
        rw.AddBond(i, j, Chem.BondType.SINGLE if k == COVALENT else Chem.BondType.DATIVE)
    mol = rw.GetMol()
    mol.UpdatePropertyCache(strict=False)
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=False))
    seen, reps = set(), []
    for a, r in enumerate(ranks):
        if r not in seen:
            seen.add(r)
            reps.append(a)
    return reps


# ---------------------------------------------------------------------------- unimolecular
def redox(sp: Species, rule: Rule, exclude: set[str]) -> Iterator[Candidate]:
    """A + e- -> A- (reduction) or A -> A+ + e- (oxidation)."""
    if sp.key in exclude:
        return
    reduction = rule.options.get("direction", "reduction") == "reduction"
    charge = sp.charge - 1 if reduction else sp.charge + 1
    if _refused(sp.elements, charge):
        return
    try:
        product = sp.with_charge(charge, where="candidate")   # same canonical graph: no new canonical form
    except ValueError:
        return
    yield Candidate([sp], [product], 1 if reduction else -1, "redox", np.arange(sp.n_atoms), rule.name)


def bond_breaking(sp: Species, rule: Rule) -> Iterator[Candidate]:
    """Break one covalent bond of an allowed element pair: fragmentation into two species
    (homolytic, and heterolytic toward the more electronegative side) or ring opening."""
    pairs = rule.options["pairs"]
    heterolytic = rule.options.get("heterolytic", True)
    ring_mode = rule.options.get("ring_opening", "open_shell")
    elements, bonds = combined_graph([sp])
    reps = set(_symmetry_classes(sp))
    done_bonds: set[tuple[int, int]] = set()
    q = sp.charge
    for b, (i, j, kind) in enumerate(bonds):
        if kind != COVALENT or _pair(elements[i], elements[j]) not in pairs:
            continue
        if i not in reps and j not in reps:
            continue  # an equivalent bond was (or will be) broken from its representative atom
        if (i, j) in done_bonds:
            continue
        done_bonds.add((i, j))
        rest = bonds[:b] + bonds[b + 1:]
        comps = connected_components(len(elements), rest)
        if len(comps) == 1:
            open_shell = sp.multiplicity > 1 or sp.charge != 0
            if ring_mode == "always" or (ring_mode == "open_shell" and open_shell):
                cand = _candidate([sp], elements, rest, [(comps[0], q)], 0, "ring_opening", rule.name)
                if cand is not None:
                    yield cand
            continue
        side_i = comps[0] if i in comps[0] else comps[1]
        side_j = comps[1] if side_i is comps[0] else comps[0]
        splits = {(q, 0), (0, q)}
        if heterolytic:
            en_i, en_j = ELECTRONEGATIVITY[elements[i]], ELECTRONEGATIVITY[elements[j]]
            if en_i != en_j:
                shift = (-1, 1) if en_i > en_j else (1, -1)  # the electronegative side gains the pair
                splits |= {(a + shift[0], c + shift[1]) for a, c in list(splits)}
        for qi, qj in sorted(splits):
            cand = _candidate([sp], elements, rest, [(side_i, qi), (side_j, qj)], 0, "fragmentation",
                              rule.name)
            if cand is not None:
                yield cand


def decoordination(sp: Species, rule: Rule) -> Iterator[Candidate]:
    """Remove one metal cation with all its coordination bonds: M+ leaves, the rest keeps q - 1."""
    metal = rule.options.get("metal", "Li")
    if sp.n_atoms == 1:
        return
    elements, bonds = combined_graph([sp])
    for m in _symmetry_classes(sp):
        if elements[m] != metal:
            continue
        rest = [b for b in bonds if m not in b[:2]]
        comps = connected_components(len(elements), rest)
        others = [c for c in comps if m not in c]
        if len(others) != 1:
            continue  # a bridging cation: removing it would split the species
        cand = _candidate([sp], elements, rest, [([m], 1), (others[0], sp.charge - 1)], 0,
                          "decoordination", rule.name)
        if cand is not None:
            yield cand


# ---------------------------------------------------------------------------- bimolecular
def coordination(sp: Species, cation: Species, rule: Rule) -> Iterator[Candidate]:
    """M+ binds to one donor atom (e.g. a carbonyl or ether O, F) of ``sp``."""
    metal = rule.options.get("metal", "Li")
    donors = rule.options.get("donors", frozenset({"O", "F"}))
    if not is_metal_cation(cation, metal) or sp.elements == (metal,):
        return
    elements, bonds = combined_graph([sp, cation])
    m = sp.n_atoms
    coordinated = {a for i, j, k in sp.bonds if k == COORDINATION for a in (i, j)}
    for d in _symmetry_classes(sp):
        if elements[d] not in donors or elements[d] in COORDINATING_METALS or d in coordinated:
            continue
        new = bonds + [(min(d, m), max(d, m), COORDINATION)]
        cand = _candidate([sp, cation], elements, new, [(list(range(m + 1)), sp.charge + 1)], 0,
                          "coordination", rule.name)
        if cand is not None:
            yield cand


def radical_coupling(a: Species, b: Species, rule: Rule) -> Iterator[Candidate]:
    """Two radicals form a covalent bond between their radical sites."""
    yield from _addition(a, b, radical_sites(a), radical_sites(b), rule.options["pairs"], rule,
                         reduce_symmetry=False)


def group_transfer(a: Species, b: Species, rule: Rule) -> Iterator[Candidate]:
    """Radical A. attacks atom x of B and breaks bond x-y: A. + x-y -> A-x + .y (one bond formed,
    one broken).

    Two patterns, the ones radicals actually follow:
    - B closed shell: atom abstraction, x is a terminal atom of B (H or F abstraction, e.g. from
      the solvent or PF6-);
    - B a radical: the broken bond x-y is beta to B's radical site (y bonded to it), so B's
      remainder closes a double bond: disproportionation (x = H) and the group transfer that
      turns two ring-opened LiEC radicals into LEDC + C2H4 (x = O).
    """
    form, brk = rule.options["form"], rule.options["break"]
    sites = radical_sites(a)
    if not sites:
        return
    elements, bonds = combined_graph([a, b])
    off = a.n_atoms
    b_sites = set(radical_sites(b)) if b.multiplicity > 1 else set()
    b_degree = [0] * b.n_atoms
    beside_site = set()
    for i, j, kind in b.bonds:
        if kind == COVALENT:
            b_degree[i] += 1
            b_degree[j] += 1
            if i in b_sites:
                beside_site.add(j)
            if j in b_sites:
                beside_site.add(i)
    reps_b = set(_symmetry_classes(b)) if not b_sites else set(range(b.n_atoms))
    for t, (x0, y0, kind) in enumerate(b.bonds):
        if kind != COVALENT or _pair(b.elements[x0], b.elements[y0]) not in brk:
            continue
        for x, y in ((x0, y0), (y0, x0)):
            if x not in reps_b:
                continue
            if (y not in beside_site or y in b_sites) if b_sites else b_degree[x] != 1:
                continue
            for s in sites:
                if _pair(elements[s], b.elements[x]) not in form:
                    continue
                new = [bd for bd in bonds if not (bd[0] == x0 + off and bd[1] == y0 + off)]
                new.append((min(s, x + off), max(s, x + off), COVALENT))
                comps = connected_components(len(elements), new)
                if len(comps) != 2:
                    continue
                side_a = comps[0] if s in comps[0] else comps[1]
                side_y = comps[1] if side_a is comps[0] else comps[0]
                total = a.charge + b.charge
                for qy in sorted({0, b.charge}):
                    cand = _candidate([a, b], elements, new, [(side_a, total - qy), (side_y, qy)], 0,
                                      "concerted", rule.name)
                    if cand is not None:
                        yield cand


def _addition(a: Species, b: Species, sites_a: list[int], targets_b: list[int], pairs, rule: Rule,
              reduce_symmetry: bool = True) -> Iterator[Candidate]:
    """A + B -> AB by one new covalent bond between a site of A and a target atom of B (with
    ``reduce_symmetry``, one target per symmetry class of B)."""
    if not sites_a or not targets_b:
        return
    elements, bonds = combined_graph([a, b])
    off = a.n_atoms
    reps_b = set(_symmetry_classes(b)) if reduce_symmetry else set(targets_b)
    for s in sites_a:
        for x in targets_b:
            if x not in reps_b or _pair(elements[s], b.elements[x]) not in pairs:
                continue
            new = bonds + [(s, x + off, COVALENT)]
            cand = _candidate([a, b], elements, new, [(list(range(len(elements))), a.charge + b.charge)],
                              0, "recombination", rule.name)
            if cand is not None:
                yield cand


def radical_addition(a: Species, b: Species, rule: Rule) -> Iterator[Candidate]:
    """Radical A. adds to one end of a double or triple bond of closed-shell B (e.g. to C=C of
    ethylene or vinylene carbonate, or to C=O): A. + B -> A-B. (one bond formed)."""
    if b.multiplicity != 1:
        return
    yield from _addition(a, b, radical_sites(a), unsaturated_atoms(b), rule.options["pairs"], rule)


def nucleophilic_addition(a: Species, b: Species, rule: Rule) -> Iterator[Candidate]:
    """An anionic lone-pair site of A (alkoxide O-, carbanion C-, F-) adds to an unsaturated atom of
    closed-shell neutral B (e.g. RO- + CO2 -> ROCO2-): A- + B -> (A-B)-."""
    if b.multiplicity != 1 or b.charge != 0:
        return
    targets = [x for x in unsaturated_atoms(b) if b.elements[x] in rule.options.get("electrophiles", {"C"})]
    yield from _addition(a, b, anionic_sites(a), targets, rule.options["pairs"], rule)


def intramolecular_transfer(sp: Species, rule: Rule) -> Iterator[Candidate]:
    """Radical site s abstracts a terminal atom x (H, F) of the same species through a cyclic
    transition state: a 1,n shift with ``min_distance <= n <= max_distance`` bonds between s and x
    (default 4-5: the 1,4 and 1,5 shifts with five- and six-membered transition states). One bond
    formed, one broken; the radical moves to the atom x leaves."""
    form, brk = rule.options["form"], rule.options["break"]
    lo, hi = int(rule.options.get("min_distance", 4)), int(rule.options.get("max_distance", 5))
    sites = radical_sites(sp)
    if not sites:
        return
    elements, bonds = combined_graph([sp])
    nbrs: list[list[int]] = [[] for _ in elements]
    for i, j, k in bonds:
        if k == COVALENT:
            nbrs[i].append(j)
            nbrs[j].append(i)
    for s in sites:
        dist = {s: 0}
        frontier = [s]
        while frontier:  # covalent shortest-path distances from s, up to max_distance
            nxt = []
            for u in frontier:
                for v in nbrs[u]:
                    if v not in dist and dist[u] < hi:
                        dist[v] = dist[u] + 1
                        nxt.append(v)
            frontier = nxt
        for x, d in dist.items():
            if d < lo or len(nbrs[x]) != 1 or _pair(elements[s], elements[x]) not in form:
                continue
            y = nbrs[x][0]
            if _pair(elements[x], elements[y]) not in brk:
                continue
            new = [bd for bd in bonds if {bd[0], bd[1]} != {x, y}]
            new.append((min(s, x), max(s, x), COVALENT))
            cand = _candidate([sp], elements, new, [(list(range(len(elements))), sp.charge)], 0,
                              "concerted", rule.name)
            if cand is not None:
                yield cand
