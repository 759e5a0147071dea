"""Conversions between Species and SMILES, RDKit, ASE, pymatgen and MoleculeEntry dicts."""

from __future__ import annotations

import numpy as np

from sei_net.chem.elements import COORDINATING_METALS, COVALENT_RADIUS
from sei_net.chem.lewis import COORDINATION
from sei_net.chem.species import Species

#: Bond perception from coordinates: covalent bond when d <= COVALENT_TOLERANCE * (r_i + r_j)
#: (Cordero radii); metal coordination bond when d <= METAL_CUTOFF[element of the partner] (Å).
COVALENT_TOLERANCE = 1.25
METAL_CUTOFF: dict[str, float] = {"O": 2.50, "F": 2.50, "N": 2.50, "S": 2.80, "Cl": 2.80, "P": 2.80}

#: the start of the error (and of a failed label record's reason) when RDKit finds no 3D embedding
#: for a graph: a property of the graph and the fixed seeds, so asking again gives the same answer
NOT_EMBEDDABLE = "RDKit could not embed 3D coordinates"


def _rdkit():
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    return Chem


def species_from_rdkit(mol, charge=None, multiplicity=None, name=None) -> Species:
    Chem = _rdkit()
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValueError("RDKit molecule is empty")
    if len(Chem.GetMolFrags(mol)) > 1:
        raise ValueError(
            f"{Chem.MolToSmiles(mol)!r} has several disconnected fragments; a species is one "
            "connected molecule (write Li bonds explicitly, e.g. [Li]OC(=O)OCCOC(=O)O[Li], or list each "
            "fragment as its own species)"
        )
    mol_h = Chem.AddHs(mol, addCoords=mol.GetNumConformers() > 0)
    elements = [a.GetSymbol() for a in mol_h.GetAtoms()]
    bonds = [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol_h.GetBonds()]
    formal = sum(a.GetFormalCharge() for a in mol_h.GetAtoms())
    # RDKit reports spurious radicals on coordinated metal cations ([Li+]<-O gives 7): ignore them
    radicals = sum(a.GetNumRadicalElectrons() for a in mol_h.GetAtoms()
                   if not (a.GetSymbol() in COORDINATING_METALS and a.GetDegree() > 0))
    if charge is None:
        charge = formal
        if multiplicity is None:
            multiplicity = radicals + 1
    coords = mol_h.GetConformer().GetPositions() if mol_h.GetNumConformers() else None
    return Species.from_graph(elements, bonds, charge, multiplicity, name=name, coords=coords,
                              where=f"molecule {Chem.MolToSmiles(mol)!r}")


def species_from_smiles(smiles, charge=None, multiplicity=None, name=None) -> Species:
    Chem = _rdkit()
    if not isinstance(smiles, str) or not smiles.strip():
        raise ValueError(f"SMILES {smiles!r} is empty; give a SMILES string such as 'O=C1OCCO1'")
    mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None:
        raise ValueError(f"cannot parse SMILES {smiles!r}; give valid SMILES such as 'O=C1OCCO1' (EC)")
    try:
        return species_from_rdkit(mol, charge, multiplicity, name)
    except ValueError as err:
        raise ValueError(f"SMILES {smiles!r}: {err}") from None


def species_from_key(key: str, name=None) -> Species:
    """Species from its canonical key (``skeleton SMILES|charge|multiplicity``). The skeleton is read
    without RDKit sanitisation: every atom is bracketed with its H count, and hypervalent skeletons
    such as PF6's are valid keys even though they are not valid neutral SMILES."""
    Chem = _rdkit()
    parts = key.rsplit("|", 2) if isinstance(key, str) else []
    mol = Chem.MolFromSmiles(parts[0], sanitize=False) if len(parts) == 3 else None
    if mol is None or not parts[1].lstrip("+-").isdigit() or not parts[2].isdigit():
        raise ValueError(f"species key {key!r} is not 'skeleton SMILES|charge|multiplicity', "
                         "e.g. '[O][C]1[O][CH2][CH2][O]1|-1|2'")
    elements: list[str] = []
    bonds: list[tuple[int, int]] = []
    for atom in mol.GetAtoms():
        elements.append(atom.GetSymbol())
    for atom in mol.GetAtoms():
        for _ in range(atom.GetNumExplicitHs()):
            bonds.append((atom.GetIdx(), len(elements)))
            elements.append("H")
    bonds += [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()]
    return Species.from_graph(elements, bonds, int(parts[1]), int(parts[2]), name=name,
                              where=f"species key {key!r}")


def _lewis_mol(species: Species, explicit_h: bool):
    """RWMol built from the species' Lewis structure (not sanitised)."""
    Chem = _rdkit()
    lew = species.lewis
    rw = Chem.RWMol()
    keep = list(range(species.n_atoms))
    h_parent: dict[int, int] = {}
    if not explicit_h:
        nbrs = species.neighbours()
        for a, el in enumerate(species.elements):
            if el == "H" and len(nbrs[a]) == 1 and species.elements[nbrs[a][0]] != "H" \
                    and lew.formal_charges[a] == 0 and lew.radicals[a] == 0:
                h_parent[a] = nbrs[a][0]
        keep = [a for a in keep if a not in h_parent]
    index = {a: t for t, a in enumerate(keep)}
    n_h = {a: 0 for a in keep}
    for p in h_parent.values():
        n_h[p] += 1
    for a in keep:
        atom = Chem.Atom(species.elements[a])
        atom.SetFormalCharge(lew.formal_charges[a])
        atom.SetNumRadicalElectrons(lew.radicals[a])
        atom.SetNoImplicit(True)
        atom.SetNumExplicitHs(n_h[a])
        rw.AddAtom(atom)
    order_type = {1: Chem.BondType.SINGLE, 2: Chem.BondType.DOUBLE, 3: Chem.BondType.TRIPLE}
    for (i, j, kind), order in zip(species.bonds, lew.bond_orders):
        if i in h_parent or j in h_parent:
            continue
        if kind == COORDINATION:
            donor, acc = (i, j) if species.elements[j] in COORDINATING_METALS else (j, i)
            rw.AddBond(index[donor], index[acc], Chem.BondType.DATIVE)
        else:
            rw.AddBond(index[i], index[j], order_type[order])
    if species.coords is not None and explicit_h:
        conf = Chem.Conformer(species.n_atoms)
        for a, xyz in enumerate(species.coords):
            conf.SetAtomPosition(a, [float(v) for v in xyz])
        rw.AddConformer(conf, assignId=True)
    return rw


def species_to_rdkit(species: Species, explicit_h: bool = True):
    Chem = _rdkit()
    mol = _lewis_mol(species, explicit_h).GetMol()
    Chem.SanitizeMol(mol)
    return mol


def lewis_smiles(species: Species) -> str:
    """Canonical SMILES of the Lewis structure with implicit hydrogens."""
    Chem = _rdkit()
    mol = _lewis_mol(species, explicit_h=False).GetMol()
    Chem.SanitizeMol(mol)
    return Chem.MolToSmiles(mol)


def bonds_from_coords(symbols, coords) -> list[tuple[int, int]]:
    """Bonds from distances: covalent when d <= 1.25 (r_i + r_j) with Cordero radii, metal
    coordination when d <= METAL_CUTOFF (2.5 Å for Li-O/F/N); metal-metal and metal-C/H pairs
    never bond. Returns (i, j) pairs."""
    xyz = np.asarray(coords, dtype=float)
    d = np.linalg.norm(xyz[:, None, :] - xyz[None, :, :], axis=-1)
    out = []
    n = len(symbols)
    for i in range(n):
        for j in range(i + 1, n):
            a, b = symbols[i], symbols[j]
            if a in COORDINATING_METALS or b in COORDINATING_METALS:
                other = b if a in COORDINATING_METALS else a
                if other in COORDINATING_METALS:
                    continue
                if d[i, j] <= METAL_CUTOFF.get(other, 0.0):
                    out.append((i, j))
            elif d[i, j] <= COVALENT_TOLERANCE * (COVALENT_RADIUS[a] + COVALENT_RADIUS[b]):
                out.append((i, j))
    return out


def species_from_ase(atoms, charge=None, multiplicity=None, name=None) -> Species:
    symbols = atoms.get_chemical_symbols()
    if charge is None:
        charge = atoms.info.get("charge")
        if charge is None:
            charge = int(round(float(np.sum(atoms.get_initial_charges()))))
    if multiplicity is None:
        multiplicity = atoms.info.get("multiplicity")
    pos = atoms.get_positions()
    return Species.from_graph(symbols, bonds_from_coords(symbols, pos), int(charge), multiplicity,
                              name=name or atoms.info.get("name"), coords=pos, where="ASE Atoms")


def species_from_pymatgen(obj, name=None) -> Species:
    mol = getattr(obj, "molecule", obj)
    symbols = [str(site.specie.symbol) for site in mol]
    pos = mol.cart_coords
    if hasattr(obj, "graph"):
        bonds = [(int(i), int(j)) for i, j in obj.graph.to_undirected().edges()]
        where = "pymatgen MoleculeGraph"
    else:
        bonds = bonds_from_coords(symbols, pos)
        where = "pymatgen Molecule"
    return Species.from_graph(symbols, bonds, int(mol.charge), int(mol.spin_multiplicity), name=name,
                              coords=pos, where=where)


def _graph_edges(graph_dict: dict) -> list[tuple[int, int]]:
    """Edges of a serialised networkx node-link/adjacency graph (pymatgen MoleculeGraph.graphs)."""
    if "adjacency" in graph_dict:
        edges = []
        for i, adj in enumerate(graph_dict["adjacency"]):
            for e in adj:
                edges.append((i, int(e["id"])))
        return edges
    if "links" in graph_dict or "edges" in graph_dict:
        links = graph_dict.get("links", graph_dict.get("edges"))
        return [(int(e["source"]), int(e["target"])) for e in links]
    raise ValueError("molecule graph has neither 'adjacency' nor 'links'")


def species_from_entry(entry: dict, name=None) -> Species:
    """mrnet MoleculeEntry, LIBE document or RNMC mol-entry dict -> Species (graph taken from the
    stored molecule graph; falls back to distance perception when the entry has none)."""
    label = name or entry.get("entry_id") or entry.get("name") or entry.get("molecule_id")
    where = f"entry {label!r}"
    mol = entry.get("molecule")
    graph = entry.get("mol_graph") or entry.get("molecule_graph")
    if mol is None and graph is not None:
        mol = graph.get("molecule")
    if mol is None:
        raise ValueError(f"{where}: no 'molecule' or 'mol_graph' field; not a MoleculeEntry dict")
    symbols = [site["species"][0]["element"] if "species" in site else site["name"] for site in mol["sites"]]
    pos = np.array([site["xyz"] for site in mol["sites"]], dtype=float)
    if graph is not None:
        bonds = _graph_edges(graph["graphs"])
    else:
        bonds = bonds_from_coords(symbols, pos)
    charge = entry.get("charge", mol.get("charge", 0))
    mult = entry.get("spin_multiplicity", mol.get("spin_multiplicity"))
    return Species.from_graph(symbols, bonds, int(charge), None if mult is None else int(mult),
                              name=label, coords=pos, where=where)


def embed_coords(species: Species, seed: int = 0) -> np.ndarray:
    """3D coordinates (Å, canonical order) from RDKit ETKDG, for species without any."""
    from rdkit.Chem import AllChem

    if species.coords is not None:
        return np.asarray(species.coords)
    if species.n_atoms == 1:
        return np.zeros((1, 3))
    mol = species_to_rdkit(species, explicit_h=True)
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    if AllChem.EmbedMolecule(mol, params) != 0:
        params.useRandomCoords = True
        if AllChem.EmbedMolecule(mol, params) != 0:
            raise ValueError(f"{NOT_EMBEDDABLE} for {species.key}")
    return mol.GetConformer().GetPositions()


def species_to_ase(species: Species, seed: int = 0):
    from ase import Atoms

    pos = embed_coords(species, seed)
    return Atoms(symbols=list(species.elements), positions=pos,
                 info={"charge": species.charge, "multiplicity": species.multiplicity,
                       "key": species.key, "name": species.name})


def species_to_pymatgen(species: Species, seed: int = 0):
    from pymatgen.core.structure import Molecule

    return Molecule(list(species.elements), embed_coords(species, seed), charge=species.charge,
                    spin_multiplicity=species.multiplicity)


def species_to_molecule_graph(species: Species, seed: int = 0):
    from pymatgen.analysis.graphs import MoleculeGraph

    mol = species_to_pymatgen(species, seed)
    edges = {(i, j): {"weight": 1} for i, j, _ in species.bonds}
    return MoleculeGraph.from_edges(mol, edges)


__all__ = [
    "bonds_from_coords", "embed_coords", "lewis_smiles", "species_from_ase", "species_from_entry",
    "species_from_pymatgen", "species_from_rdkit", "species_from_smiles", "species_to_ase",
    "species_to_molecule_graph", "species_to_pymatgen", "species_to_rdkit",
]
