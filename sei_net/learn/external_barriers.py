"""The 29 DFT transition states of the RNMC SEI network as an external barrier test set.

Source: ../shared/data/rnmc_sei/20211130_ts.json (Barter et al., Digital Discovery 2023; the
level of theory is that of the entry set, wB97X-V/def2-TZVPPD with SMD in the mrnet/LIBE data).
Each entry is named ``A__B___C__D`` (reactants ___ products, species separated by ``__``) with the
species names of 20211130_mol_entries.json. Barrier = G(TS) - sum G(reactants) and dG = sum
G(products) - sum G(reactants), from the ``free_energy`` fields (eV) of the two files, so both are
at one level of theory (the entries' gas-phase standard state, not re-referenced to 1 mol/L).

The barrier model needs an atom-mapped reaction: the map with the fewest bond changes
(``map_least_bond_changes``). Entries whose species are not all in the entry set, whose named
species' charges differ from the transition state's, or that have no map are returned unmapped,
with the reason.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species, _canonical_cached


@dataclass
class ExternalBarrier:
    """One DFT transition state: barrier and dG in eV; ``reaction`` None when it could not be mapped."""

    name: str
    barrier: float | None
    dG: float | None
    reaction: Reaction | None
    reason: str = ""


def _fragments(elements: tuple, bonds: list) -> list[tuple[str, np.ndarray]]:
    """(canonical skeleton, atom indices in canonical order) of each connected part."""
    from sei_net.chem.graph import connected_components

    out = []
    for part in connected_components(len(elements), [(i, j) for i, j, _ in bonds]):
        part = sorted(part)
        local = {a: t for t, a in enumerate(part)}
        sub = tuple(sorted((local[i], local[j], k) for i, j, k in bonds if i in local and j in local))
        smiles, perm = _canonical_cached(tuple(elements[a] for a in part), sub)
        order = np.empty(len(part), dtype=np.int64)
        order[perm] = part
        out.append((smiles, order))
    return sorted(out, key=lambda f: f[0])


def _cut_signatures(elements: tuple, bonds: list, n_cuts: int):
    """(signature, fragments) after removing every set of ``n_cuts`` bonds."""
    for cut in itertools.combinations(range(len(bonds)), n_cuts):
        kept = [b for t, b in enumerate(bonds) if t not in cut]
        frags = _fragments(elements, kept)
        yield tuple(f[0] for f in frags), frags


def map_least_bond_changes(reactants: list[Species], products: list[Species], max_cuts: int = 3) -> Reaction | None:
    """An atom-mapped Reaction with the fewest bond changes (at most ``max_cuts`` broken on each
    side): bonds are cut on both sides until the two sides fall into the same fragments (graph
    isomorphism of the skeletons, charges free), and the map pairs the fragments' canonical atoms.
    Kind from ``io.rnmc.classify``. None when no such map exists within ``max_cuts``."""
    from sei_net.generate.operators import combined_graph
    from sei_net.io.rnmc import classify

    (er, br), (ep, bp) = combined_graph(reactants), combined_graph(products)
    er, ep = tuple(er), tuple(ep)
    if sorted(er) != sorted(ep):
        return None
    for total in range(0, 2 * max_cuts + 1):
        for kr in range(max(0, total - max_cuts), min(total, max_cuts) + 1):
            product_side = {}
            for sig, frags in _cut_signatures(ep, bp, total - kr):
                product_side.setdefault(sig, frags)
            for sig, frags_r in _cut_signatures(er, br, kr):
                frags_p = product_side.get(sig)
                if frags_p is None:
                    continue
                amap = np.empty(len(ep), dtype=np.int64)
                for (_, order_r), (_, order_p) in zip(frags_r, frags_p):
                    amap[order_p] = order_r
                kind = classify(list(reactants), list(products), 0)
                return Reaction(reactants, products, 0, kind, amap, "least_bond_changes")
    return None


def load_external_barriers(ts_path: str | Path, entries_path: str | Path) -> list[ExternalBarrier]:
    """Every transition state of ``ts_path``, mapped where possible (see the module docstring)."""
    entries = {e["name"]: e for e in json.loads(Path(entries_path).read_text())}
    out = []
    for name, ts in json.loads(Path(ts_path).read_text()).items():
        left, right = name.split("___")
        names_r, names_p = left.split("__"), right.split("__")
        missing = [n for n in names_r + names_p if n not in entries]
        if missing:
            out.append(ExternalBarrier(name, None, None, None, f"species not in the entry set: {', '.join(missing)}"))
            continue
        g_r = sum(float(entries[n]["free_energy"]) for n in names_r)
        g_p = sum(float(entries[n]["free_energy"]) for n in names_p)
        barrier, dG = float(ts["free_energy"]) - g_r, g_p - g_r
        charges = sum(int(entries[n]["charge"]) for n in names_r), sum(int(entries[n]["charge"]) for n in names_p)
        if not charges[0] == charges[1] == int(ts["charge"]):
            out.append(ExternalBarrier(name, None, None, None, f"the named species' charges {charges} differ from "
                                       f"the transition state's ({ts['charge']})"))
            continue
        reaction = map_least_bond_changes([Species.from_entry(entries[n]) for n in names_r],
                                          [Species.from_entry(entries[n]) for n in names_p])
        out.append(ExternalBarrier(name, barrier, dG, reaction, "" if reaction else "no atom map with <= 3 bond "
                                   "changes per side"))
    return out
