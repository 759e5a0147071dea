"""Lewis-structure assignment: formal charges, unpaired electrons and bond orders for a
molecular graph of known total charge and spin multiplicity.

sei_net identifies a species by its graph (covalent bonds plus coordination bonds), its total
charge and its multiplicity (DESIGN.md). Bond orders, formal charges and radical sites are not part
of the identity; they are derived here, for display SMILES, featurisation and valence sanity
checks. The assignment is a small integer program (solved with HiGHS through scipy.optimize.milp):
each atom picks one valence state from ``elements.VALENCE_STATES``, each covalent bond gets an
order of 1, 2 or 3, the bond orders around an atom must equal its state's valence, formal charges
must add up to the total charge and unpaired electrons to ``multiplicity - 1``. The objective is
the summed state penalty, with a tiny tie-break by atom index so that the result is deterministic
for atoms given in canonical order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sei_net.chem.elements import VALENCE_STATES

#: bond kinds
COVALENT = 0
COORDINATION = 1


#: penalty reduction for a negative formal charge on an atom that donates a coordination bond
COORDINATED_ANION_BONUS = 0.3


class ValenceError(ValueError):
    """No Lewis structure exists for the graph with the requested charge and multiplicity."""


@dataclass(frozen=True)
class LewisStructure:
    """Formal charge and unpaired electrons per atom, bond order per bond (0 for coordination)."""

    formal_charges: tuple[int, ...]
    radicals: tuple[int, ...]
    bond_orders: tuple[int, ...]
    penalty: float


def assign_lewis(
    elements: tuple[str, ...],
    bonds: tuple[tuple[int, int, int], ...],
    charge: int,
    multiplicity: int,
) -> LewisStructure:
    """Best Lewis structure for a graph; raises ValenceError when none exists.

    Parameters
    ----------
    elements : element symbols, all atoms (hydrogens included).
    bonds : (i, j, kind) with kind COVALENT or COORDINATION.
    charge : total charge (e).
    multiplicity : spin multiplicity 2S+1; the structure has ``multiplicity - 1`` unpaired electrons.
    """
    result = _assign_cached(tuple(elements), tuple(bonds), int(charge), int(multiplicity))
    if isinstance(result, str):
        raise ValenceError(result)
    return result


@lru_cache(maxsize=65536)
def _assign_cached(elements, bonds, charge, multiplicity) -> LewisStructure | str:
    """The structure, or the failure reason (cached too: lru_cache does not cache exceptions)."""
    try:
        return _assign(elements, bonds, charge, multiplicity)
    except ValenceError as err:
        return str(err)


def _assign(elements, bonds, charge, multiplicity) -> LewisStructure:
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(elements)
    unpaired = multiplicity - 1
    if unpaired < 0:
        raise ValenceError(f"multiplicity must be >= 1, got {multiplicity}")
    degree = [0] * n
    n_coord = [0] * n
    cov_bonds = []
    for b, (i, j, kind) in enumerate(bonds):
        if kind == COVALENT:
            degree[i] += 1
            degree[j] += 1
            cov_bonds.append(b)
        else:
            n_coord[i] += 1
            n_coord[j] += 1

    # candidate states per atom (valence must cover the covalent degree)
    var_atom, var_charge, var_val, var_rad, var_cost = [], [], [], [], []
    for a, el in enumerate(elements):
        found = False
        for q, v, r, cost in VALENCE_STATES[el]:
            if v < degree[a]:
                continue
            found = True
            var_atom.append(a)
            var_charge.append(q)
            var_val.append(v - degree[a])  # extra bond order this state needs
            var_rad.append(r)
            if q < 0 and n_coord[a]:
                cost -= COORDINATED_ANION_BONUS  # Li+ sits on the anionic donor (ion pair picture)
            var_cost.append(cost + (1e-4 * (a + 1) / (n + 1) if cost > 0 else 0.0))
        if not found:
            raise ValenceError(f"atom {a} ({el}) has {degree[a]} covalent bonds, more than any valence")
    n_y = len(var_atom)
    # bond increments (order - 1) only where both atoms could take more than one bond order
    max_extra = np.zeros(n, dtype=int)
    for k in range(n_y):
        max_extra[var_atom[k]] = max(max_extra[var_atom[k]], var_val[k])
    inc_bonds = [b for b in cov_bonds if max_extra[bonds[b][0]] > 0 and max_extra[bonds[b][1]] > 0]
    n_x = len(inc_bonds)
    nv = n_y + n_x

    rows, lo, hi = [], [], []
    # one state per atom
    for a in range(n):
        row = np.zeros(nv)
        row[[k for k in range(n_y) if var_atom[k] == a]] = 1.0
        rows.append(row), lo.append(1), hi.append(1)
    # valence balance per atom: sum(extra of state) - sum(increments of its bonds) = 0
    for a in range(n):
        row = np.zeros(nv)
        for k in range(n_y):
            if var_atom[k] == a:
                row[k] = var_val[k]
        for t, b in enumerate(inc_bonds):
            if a in bonds[b][:2]:
                row[n_y + t] = -1.0
        rows.append(row), lo.append(0), hi.append(0)
    row = np.zeros(nv)
    row[:n_y] = var_charge
    rows.append(row), lo.append(charge), hi.append(charge)
    row = np.zeros(nv)
    row[:n_y] = var_rad
    rows.append(row), lo.append(unpaired), hi.append(unpaired)

    c = np.concatenate([np.asarray(var_cost), 1e-6 * np.ones(n_x)])
    res = milp(
        c,
        constraints=LinearConstraint(np.array(rows), lo, hi),
        integrality=np.ones(nv),
        bounds=Bounds(np.zeros(nv), np.concatenate([np.ones(n_y), 2 * np.ones(n_x)])),
    )
    if res.status != 0 or res.x is None:
        raise ValenceError(
            f"no Lewis structure with charge {charge} and multiplicity {multiplicity}"
        )
    sol = np.rint(res.x).astype(int)
    fc, rad = [0] * n, [0] * n
    for k in range(n_y):
        if sol[k]:
            fc[var_atom[k]] = var_charge[k]
            rad[var_atom[k]] = var_rad[k]
    orders = [1 if kind == COVALENT else 0 for (_, _, kind) in bonds]
    for t, b in enumerate(inc_bonds):
        orders[b] += int(sol[n_y + t])
    return LewisStructure(tuple(fc), tuple(rad), tuple(orders), float(res.fun))
