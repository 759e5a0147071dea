"""Species: a molecule identified by its bond graph, total charge and spin multiplicity.

Identity follows DESIGN.md: covalent graph + coordination bonds (bonds to Li and other coordinating
metals are a distinct, dative bond kind) + total charge + multiplicity. Bond orders, formal charges and
radical sites are derived (``sei_net.chem.lewis``) and do not enter the key, so resonance structures
and input atom order never change the identity, while constitutional isomers, coordination isomers,
charges and multiplicities do. Stereochemistry is not part of the identity (as in mrnet/HiPRGen).

The canonical key is RDKit's canonical SMILES of the skeleton (every atom bracketed with its hydrogen
count, every covalent bond single, coordination bonds written as dative ``->``), then ``|charge|multiplicity``,
e.g. ``[O][C]1[O][CH2][CH2][O]1|-1|2`` for the EC radical anion. Atoms are stored in canonical order
(skeleton atoms by canonical rank, then hydrogens by the rank of the atom that carries them), so an atom
index in a stored atom map means the same atom whichever input the species came from.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Iterable

import numpy as np

from sei_net.chem.elements import (
    ATOMIC_NUMBER,
    COORDINATING_METALS,
    check_element,
    hill_formula,
)
from sei_net.chem.graph import connected_components
from sei_net.chem.lewis import COORDINATION, COVALENT, LewisStructure, ValenceError, assign_lewis


def _normalise_bonds(
    elements: tuple[str, ...], bonds: Iterable[tuple[int, ...]], where: str
) -> list[tuple[int, int, int]]:
    n = len(elements)
    seen: dict[tuple[int, int], int] = {}
    for bond in bonds:
        i, j = int(bond[0]), int(bond[1])
        if not (0 <= i < n and 0 <= j < n) or i == j:
            raise ValueError(f"{where}: bond ({i}, {j}) is invalid for {n} atoms")
        i, j = min(i, j), max(i, j)
        metal_i, metal_j = elements[i] in COORDINATING_METALS, elements[j] in COORDINATING_METALS
        if metal_i and metal_j:
            raise ValueError(f"{where}: metal-metal bond {elements[i]}-{elements[j]} is not supported")
        seen[(i, j)] = COORDINATION if (metal_i or metal_j) else COVALENT
    return [(i, j, k) for (i, j), k in sorted(seen.items())]


def _canonicalise(elements: tuple[str, ...], bonds: list[tuple[int, int, int]]):
    """Return (skeleton canonical SMILES, permutation old index -> canonical index)."""
    from rdkit import Chem

    n = len(elements)
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for i, j, _ in bonds:
        nbrs[i].append(j)
        nbrs[j].append(i)
    # hydrogens with exactly one covalent bond to a non-hydrogen atom are folded into H counts
    folded_to = [-1] * n
    for a, el in enumerate(elements):
        if el == "H" and len(nbrs[a]) == 1 and elements[nbrs[a][0]] != "H":
            kind = next(k for i, j, k in bonds if a in (i, j))
            if kind == COVALENT:
                folded_to[a] = nbrs[a][0]
    skeleton = [a for a in range(n) if folded_to[a] < 0]
    sk_index = {a: t for t, a in enumerate(skeleton)}
    h_count = Counter(p for p in folded_to if p >= 0)

    rw = Chem.RWMol()
    for a in skeleton:
        atom = Chem.Atom(ATOMIC_NUMBER[elements[a]])
        atom.SetNoImplicit(True)
        atom.SetNumExplicitHs(h_count.get(a, 0))
        rw.AddAtom(atom)
    for i, j, kind in bonds:
        if folded_to[i] >= 0 or folded_to[j] >= 0:
            continue
        if kind == COORDINATION:
            donor, acceptor = (i, j) if elements[j] in COORDINATING_METALS else (j, i)
            rw.AddBond(sk_index[donor], sk_index[acceptor], Chem.BondType.DATIVE)
        else:
            rw.AddBond(sk_index[i], sk_index[j], Chem.BondType.SINGLE)
    mol = rw.GetMol()
    mol.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(mol)
    ranks = list(Chem.CanonicalRankAtoms(mol, breakTies=True))
    smiles = Chem.MolToSmiles(mol, allHsExplicit=True)

    order = sorted(skeleton, key=lambda a: ranks[sk_index[a]])
    hydrogens = sorted((a for a in range(n) if folded_to[a] >= 0),
                       key=lambda a: (ranks[sk_index[folded_to[a]]], a))
    new_order = order + hydrogens  # canonical index -> old index
    perm = np.empty(n, dtype=np.int64)
    perm[new_order] = np.arange(n)
    return smiles, perm


def _electron_count(elements: tuple[str, ...], charge: int, where: str) -> int:
    """Electrons of a species of these atoms and charge; a clear error when negative."""
    n_electrons = sum(ATOMIC_NUMBER[e] for e in elements) - charge
    if n_electrons < 0:
        raise ValueError(f"{where}: charge {charge:+d} leaves a negative electron count")
    return n_electrons


@functools.lru_cache(maxsize=1 << 16)
def _canonical_cached(elements: tuple[str, ...], bonds: tuple[tuple[int, int, int], ...]):
    """``_canonicalise`` memoised on the exact input graph: network generation meets the same
    labelled fragment from the same parent many times (about half of all calls at 3x10^4
    reactions of ec_lipf6). The permutation is returned read-only."""
    smiles, perm = _canonicalise(elements, list(bonds))
    perm.setflags(write=False)
    return smiles, perm


@functools.lru_cache(maxsize=1 << 16)
def _lewis_cached(elements, bonds, charge: int, multiplicity: int):
    """(Lewis structure, None) or (None, the ValenceError message) of a canonical graph; generation
    builds the same species from many parents, and the search is the other hot spot."""
    try:
        return assign_lewis(elements, bonds, charge, multiplicity), None
    except ValenceError as err:
        return None, str(err)


class Species:
    """A molecule, ion or radical of the network (immutable).

    Attributes
    ----------
    elements : element symbols in canonical atom order (hydrogens included).
    bonds : (i, j, kind) with i < j; kind 0 covalent, 1 coordination (dative, to a metal cation).
    charge : total charge (e).
    multiplicity : spin multiplicity 2S+1.
    name : optional human name (e.g. "LEDC"); not part of the identity.
    coords : optional (n_atoms, 3) Cartesian coordinates in Å, canonical order.
    key : canonical identity string (see module docstring).
    """

    __slots__ = ("elements", "bonds", "charge", "multiplicity", "name", "coords", "key", "_lewis")

    def __init__(self, *args, **kwargs):
        raise TypeError("build a Species with Species.from_smiles / from_graph / from_rdkit / ...")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_graph(
        cls,
        elements: Iterable[str],
        bonds: Iterable[tuple[int, ...]],
        charge: int = 0,
        multiplicity: int | None = None,
        name: str | None = None,
        coords: np.ndarray | None = None,
        return_permutation: bool = False,
        where: str = "graph",
    ):
        """Species from element symbols and bonds ``(i, j)`` or ``(i, j, kind)``.

        Bonds to Li/Na/Mg are coordination bonds whatever kind is given. ``multiplicity`` defaults
        to the lowest one allowed by the electron count (1 for even, 2 for odd). With
        ``return_permutation`` also returns ``perm`` with ``perm[input_index] = canonical_index``.
        """
        elements = tuple(check_element(str(e), where) for e in elements)
        if not elements:
            raise ValueError(f"{where}: a species needs at least one atom")
        charge = int(charge)
        n_electrons = _electron_count(elements, charge, where)
        if multiplicity is None:
            multiplicity = 1 + n_electrons % 2
        multiplicity = int(multiplicity)
        if multiplicity < 1 or (multiplicity - 1) % 2 != n_electrons % 2:
            raise ValueError(
                f"{where}: multiplicity {multiplicity} is impossible with {n_electrons} electrons "
                f"(valid: {'2, 4, ...' if n_electrons % 2 else '1, 3, ...'})"
            )
        norm = _normalise_bonds(elements, bonds, where)
        _check_connected(len(elements), norm, where)
        skeleton_smiles, perm = _canonical_cached(elements, tuple(norm))
        new = object.__new__(cls)
        inv = np.argsort(perm)
        object.__setattr__(new, "elements", tuple(elements[i] for i in inv))
        cbonds = []
        for i, j, k in norm:
            a, b = int(perm[i]), int(perm[j])
            cbonds.append((min(a, b), max(a, b), k))
        object.__setattr__(new, "bonds", tuple(sorted(cbonds)))
        object.__setattr__(new, "charge", charge)
        object.__setattr__(new, "multiplicity", multiplicity)
        object.__setattr__(new, "name", name)
        if coords is not None:
            coords = np.asarray(coords, dtype=float).reshape(len(elements), 3)[inv].copy()
            coords.setflags(write=False)
        object.__setattr__(new, "coords", coords)
        object.__setattr__(new, "key", f"{skeleton_smiles}|{charge}|{multiplicity}")
        object.__setattr__(new, "_lewis", None)
        return (new, perm.copy()) if return_permutation else new

    @classmethod
    def _from_canonical(cls, elements, bonds, charge, multiplicity, key, name=None, coords=None):
        """Rebuild a species already in canonical form (e.g. read back from a store); no checks."""
        new = object.__new__(cls)
        values = (tuple(elements), tuple(tuple(b) for b in bonds), int(charge), int(multiplicity),
                  name, None if coords is None else np.asarray(coords, dtype=float).reshape(-1, 3),
                  key, None)
        for slot, value in zip(cls.__slots__, values):
            object.__setattr__(new, slot, value)
        return new

    @classmethod
    def from_smiles(
        cls, smiles: str, charge: int | None = None, multiplicity: int | None = None,
        name: str | None = None,
    ) -> "Species":
        """Species from SMILES. Charge and multiplicity default to the SMILES' formal charges and
        radicals; giving them overrides (e.g. ``from_smiles("O=C1OCCO1", charge=-1, multiplicity=2)``
        for the EC radical anion). Any bond to Li is a coordination bond: ``[Li]OC(=O)OC`` is LiMC."""
        from sei_net.chem.convert import species_from_smiles

        return species_from_smiles(smiles, charge, multiplicity, name)

    @classmethod
    def from_key(cls, key: str, name: str | None = None) -> "Species":
        """Species from its canonical key; ``Species.from_key(s.key) == s``."""
        from sei_net.chem.convert import species_from_key

        return species_from_key(key, name)

    @classmethod
    def from_rdkit(cls, mol, charge: int | None = None, multiplicity: int | None = None,
                   name: str | None = None) -> "Species":
        """Species from an RDKit Mol (coordinates kept when the Mol has explicit H and a conformer)."""
        from sei_net.chem.convert import species_from_rdkit

        return species_from_rdkit(mol, charge, multiplicity, name)

    @classmethod
    def from_ase(cls, atoms, charge: int | None = None, multiplicity: int | None = None,
                 name: str | None = None) -> "Species":
        """Species from ASE Atoms; bonds perceived from distances (``convert.bonds_from_coords``).
        Charge/multiplicity from the arguments, else ``atoms.info['charge'|'multiplicity']``."""
        from sei_net.chem.convert import species_from_ase

        return species_from_ase(atoms, charge, multiplicity, name)

    @classmethod
    def from_pymatgen(cls, obj, name: str | None = None) -> "Species":
        """Species from a pymatgen Molecule (bonds from distances) or MoleculeGraph (its edges)."""
        from sei_net.chem.convert import species_from_pymatgen

        return species_from_pymatgen(obj, name)

    @classmethod
    def from_entry(cls, entry: dict, name: str | None = None) -> "Species":
        """Species from a mrnet/LIBE/RNMC MoleculeEntry dict (graph from its molecule graph)."""
        from sei_net.chem.convert import species_from_entry

        return species_from_entry(entry, name)

    # ------------------------------------------------------------------ derived properties
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Species) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __setattr__(self, name, value):
        raise AttributeError("Species is immutable")

    def __repr__(self) -> str:
        label = f"{self.name} " if self.name else ""
        return f"<Species {label}{self.formula} q={self.charge:+d} m={self.multiplicity} {self.key}>"

    def with_name(self, name: str | None) -> "Species":
        """Same species with another human name."""
        new = object.__new__(Species)
        for slot in Species.__slots__:
            object.__setattr__(new, slot, getattr(self, slot))
        object.__setattr__(new, "name", name)
        return new

    def with_charge(self, charge: int, where: str = "species") -> "Species":
        """The same graph in the same (canonical) atom order with another charge and the lowest
        multiplicity its electron count allows; no name or coordinates. Equal to ``from_graph`` of
        this graph with that charge (the canonical form does not depend on the charge), without
        canonicalising again."""
        charge = int(charge)
        multiplicity = 1 + _electron_count(self.elements, charge, where) % 2
        return Species._from_canonical(self.elements, self.bonds, charge, multiplicity,
                                       f"{self.skeleton}|{charge}|{multiplicity}")

    def with_coords(self, coords: np.ndarray | None) -> "Species":
        """Same species with coordinates (Å, canonical atom order)."""
        new = self.with_name(self.name)
        if coords is not None:
            coords = np.asarray(coords, dtype=float).reshape(self.n_atoms, 3).copy()
            coords.setflags(write=False)
        object.__setattr__(new, "coords", coords)
        return new

    @property
    def n_atoms(self) -> int:
        return len(self.elements)

    @property
    def n_heavy(self) -> int:
        """Number of non-hydrogen atoms."""
        return sum(1 for e in self.elements if e != "H")

    @property
    def composition(self) -> Counter:
        return Counter(self.elements)

    @property
    def formula(self) -> str:
        """Hill formula, e.g. ``C4H4Li2O6``."""
        return hill_formula(self.elements)

    @property
    def mass(self) -> float:
        """Molecular mass (amu, ASE's standard atomic masses)."""
        from ase.data import atomic_masses, atomic_numbers

        return float(sum(atomic_masses[atomic_numbers[e]] for e in self.elements))

    @property
    def n_electrons(self) -> int:
        return sum(ATOMIC_NUMBER[e] for e in self.elements) - self.charge

    @property
    def radicals(self) -> int:
        """Number of unpaired electrons, multiplicity - 1."""
        return self.multiplicity - 1

    @property
    def skeleton(self) -> str:
        """The graph part of the key (canonical skeleton SMILES)."""
        return self.key.split("|", 1)[0]

    @property
    def lewis(self) -> LewisStructure:
        """Best Lewis structure (formal charges, radicals, bond orders); raises ValenceError."""
        if self._lewis is None:
            lewis, error = _lewis_cached(self.elements, self.bonds, self.charge, self.multiplicity)
            if error is not None:
                raise ValenceError(error)
            object.__setattr__(self, "_lewis", lewis)
        return self._lewis

    @property
    def valence_ok(self) -> bool:
        """True when a Lewis structure exists for this graph, charge and multiplicity."""
        try:
            self.lewis
        except ValenceError:
            return False
        return True

    @property
    def smiles(self) -> str:
        """Canonical SMILES with explicit charges, radicals and dative Li bonds (from the Lewis
        structure); ``Species.from_smiles(s.smiles).key == s.key``. Falls back to the skeleton SMILES
        when no Lewis structure exists."""
        from sei_net.chem.convert import lewis_smiles

        try:
            return lewis_smiles(self)
        except ValenceError:
            return self.skeleton

    def neighbours(self) -> list[list[int]]:
        """Adjacency list over all bonds."""
        nb: list[list[int]] = [[] for _ in self.elements]
        for i, j, _ in self.bonds:
            nb[i].append(j)
            nb[j].append(i)
        return nb

    # ------------------------------------------------------------------ conversions
    def to_rdkit(self, explicit_h: bool = True):
        """RDKit Mol with bond orders, formal charges, radicals, dative Li bonds and a conformer
        when coordinates are known. Atom i of the Mol is atom i of the species (explicit_h=True)."""
        from sei_net.chem.convert import species_to_rdkit

        return species_to_rdkit(self, explicit_h)

    def to_ase(self, seed: int = 0):
        """ASE Atoms (coordinates embedded with RDKit ETKDG when the species has none);
        ``info`` holds charge, multiplicity, key and name."""
        from sei_net.chem.convert import species_to_ase

        return species_to_ase(self, seed)

    def to_pymatgen(self, seed: int = 0):
        """pymatgen Molecule with charge and spin multiplicity."""
        from sei_net.chem.convert import species_to_pymatgen

        return species_to_pymatgen(self, seed)

    def to_molecule_graph(self, seed: int = 0):
        """pymatgen MoleculeGraph with this species' bonds as edges."""
        from sei_net.chem.convert import species_to_molecule_graph

        return species_to_molecule_graph(self, seed)

    def to_dict(self) -> dict:
        """JSON-ready dict (graph, charge, multiplicity, name, coordinates)."""
        return {
            "key": self.key, "name": self.name, "elements": list(self.elements),
            "bonds": [list(b) for b in self.bonds], "charge": self.charge,
            "multiplicity": self.multiplicity,
            "coords": None if self.coords is None else self.coords.round(6).tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "Species":
        """Inverse of ``to_dict`` (the graph is re-canonicalised, so the key is recomputed)."""
        return cls.from_graph(d["elements"], d["bonds"], d["charge"], d["multiplicity"],
                              name=d.get("name"), coords=d.get("coords"))


def _check_connected(n: int, bonds: list[tuple[int, int, int]], where: str) -> None:
    n_parts = len(connected_components(n, bonds))
    if n_parts > 1:
        raise ValueError(
            f"{where}: the atoms form {n_parts} disconnected fragments; a species is one connected "
            "molecule (write Li bonds explicitly, e.g. [Li]OC(=O)OCCOC(=O)O[Li] for LEDC, or list "
            "each fragment as its own species)"
        )
