"""Lewis-structure assignment: formal charges, unpaired electrons and bond orders for a
molecular graph of known total charge and spin multiplicity.

sei_net identifies a species by its graph (covalent bonds plus coordination bonds), its total
charge and its multiplicity (DESIGN.md). Bond orders, formal charges and radical sites are not part
of the identity; they are derived here, for display SMILES, featurisation and valence sanity
checks. The assignment is a small integer program: each atom picks one valence state from
``elements.VALENCE_STATES``, each covalent bond gets an order of 1, 2 or 3, the bond orders around
an atom must equal its state's valence, formal charges must add up to the total charge and unpaired
electrons to ``multiplicity - 1``. The objective is the summed state penalty, with a tiny tie-break
by atom index so that the result is deterministic for atoms given in canonical order.

Two exact solvers give the same optimal penalty: a branch and bound over atom states with a
b-matching check for the bond orders (``_assign_search``, pure Python, ~20x faster on SEI-sized
species), and the MILP formulation solved by HiGHS (``_assign_milp``), used when the search would
visit more than ``SEARCH_NODE_LIMIT`` nodes and as the independent reference in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sei_net.chem.elements import ATOMIC_NUMBER, VALENCE_STATES

#: bond kinds
COVALENT = 0
COORDINATION = 1


#: penalty reduction for a negative formal charge on an atom that donates a coordination bond
COORDINATED_ANION_BONUS = 0.3

#: the branch and bound hands over to the MILP after this many search nodes
SEARCH_NODE_LIMIT = 20000

#: "search" (branch and bound, MILP fallback) or "milp" (MILP only: the benchmark baseline)
SOLVER = "search"


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
        result = _assign_search(elements, bonds, charge, multiplicity) if SOLVER == "search" else None
        if result is None:
            result = _assign_milp(elements, bonds, charge, multiplicity)
        return result
    except ValenceError as err:
        return str(err)


def _atom_states(elements, bonds, multiplicity):
    """Candidate states per atom (cost, charge, extra bond order, radicals), and the indices of the
    covalent bonds that may carry extra order (both atoms have a state that needs some).

    ``extra`` is the bond order the state needs beyond one per covalent bond. Costs include the
    coordinated-anion bonus and the deterministic tie-break by atom index.
    """
    n = len(elements)
    if multiplicity < 1:
        raise ValenceError(f"multiplicity must be >= 1, got {multiplicity}")
    degree = [0] * n
    n_coord = [0] * n
    for i, j, kind in bonds:
        if kind == COVALENT:
            degree[i] += 1
            degree[j] += 1
        else:
            n_coord[i] += 1
            n_coord[j] += 1
    states = []
    for a, el in enumerate(elements):
        options = []
        for q, v, r, cost in VALENCE_STATES[el]:
            if v < degree[a]:
                continue
            if q < 0 and n_coord[a]:
                cost -= COORDINATED_ANION_BONUS  # Li+ sits on the anionic donor (ion pair picture)
            options.append((cost + (1e-4 * (a + 1) / (n + 1) if cost > 0 else 0.0), q, v - degree[a], r))
        if not options:
            raise ValenceError(f"atom {a} ({el}) has {degree[a]} covalent bonds, more than any valence")
        states.append(sorted(options))
    max_extra = [max(o[2] for o in opts) for opts in states]
    inc_bonds = [b for b, (i, j, kind) in enumerate(bonds)
                 if kind == COVALENT and max_extra[i] > 0 and max_extra[j] > 0]
    return states, inc_bonds


def _assign_search(elements, bonds, charge, multiplicity) -> LewisStructure | None:
    """Exact branch and bound over atom states; None when it exceeds SEARCH_NODE_LIMIT nodes."""
    n = len(elements)
    unpaired = multiplicity - 1
    states, inc_bonds = _atom_states(elements, bonds, multiplicity)
    if (sum(ATOMIC_NUMBER[e] for e in elements) - charge - unpaired) % 2:
        raise ValenceError(f"no Lewis structure with charge {charge} and multiplicity {multiplicity} "
                           f"(electron count and unpaired electrons differ in parity)")
    capacity = [0] * n  # the most extra order an atom's bonds can take
    for b in inc_bonds:
        i, j, _ = bonds[b]
        capacity[i] += 2
        capacity[j] += 2
    states = [[o for o in opts if o[2] <= capacity[a]] for a, opts in enumerate(states)]
    for a, opts in enumerate(states):
        if not opts:
            raise ValenceError(f"atom {a} ({elements[a]}) cannot reach any valence with its bonds")
    order = sorted(range(n), key=lambda a: (len(states[a]), a))
    # suffix bounds over the search order
    k_n = n + 1
    min_cost, q_lo, q_hi, r_lo, r_hi = ([0.0] * k_n, [0] * k_n, [0] * k_n, [0] * k_n, [0] * k_n)
    for k in range(n - 1, -1, -1):
        opts = states[order[k]]
        min_cost[k] = min_cost[k + 1] + opts[0][0]
        q_lo[k] = q_lo[k + 1] + min(o[1] for o in opts)
        q_hi[k] = q_hi[k + 1] + max(o[1] for o in opts)
        r_lo[k] = r_lo[k + 1] + min(o[3] for o in opts)
        r_hi[k] = r_hi[k + 1] + max(o[3] for o in opts)
    inc_pairs: list[list[tuple[int, int]]] = [[] for _ in range(n)]   # (bond, other atom) per atom
    for t, b in enumerate(inc_bonds):
        i, j, _ = bonds[b]
        inc_pairs[i].append((t, j))
        inc_pairs[j].append((t, i))
    inc_nbrs = [[y for _, y in pairs] for pairs in inc_pairs]
    # an atom is closed once it and all its neighbours over order-carrying bonds have a state; its
    # extra order must then fit what those neighbours can give (at most 2 per bond)
    depth = [0] * n
    for k, a in enumerate(order):
        depth[a] = k
    closes: list[list[tuple[int, list[int]]]] = [[] for _ in range(n)]
    for x in range(n):
        if inc_nbrs[x]:
            closes[max([depth[x]] + [depth[y] for y in inc_nbrs[x]])].append((x, inc_nbrs[x]))

    best: list = [float("inf"), None, None]
    chosen = [None] * n
    nodes = 0

    def dfs(k: int, cost: float, q_left: int, r_left: int) -> bool:
        nonlocal nodes
        nodes += 1
        if nodes > SEARCH_NODE_LIMIT:
            return False
        if cost + min_cost[k] >= best[0] - 1e-12:
            return True
        if not (q_lo[k] <= q_left <= q_hi[k] and r_lo[k] <= r_left <= r_hi[k]):
            return True
        if k == n:
            extra = [chosen[a][2] for a in range(n)]
            if sum(extra) % 2:
                return True
            inc = _bond_increments(extra, len(inc_bonds), inc_pairs)
            if inc is not None:
                best[:] = [cost, list(chosen), inc]
            return True
        a = order[k]
        closing = closes[k]
        for opt in states[a]:
            chosen[a] = opt
            if closing and not _closed_atoms_fit(closing, chosen):
                continue
            if not dfs(k + 1, cost + opt[0], q_left - opt[1], r_left - opt[3]):
                return False
        chosen[a] = None
        return True

    if not dfs(0, 0.0, charge, unpaired):
        return None
    if best[1] is None:
        raise ValenceError(f"no Lewis structure with charge {charge} and multiplicity {multiplicity}")
    orders = [1 if kind == COVALENT else 0 for (_, _, kind) in bonds]
    for t, b in enumerate(inc_bonds):
        orders[b] += best[2][t]
    penalty = best[0] + 1e-6 * sum(best[2])  # the MILP's bond-increment tie-break, for equal values
    return LewisStructure(tuple(o[1] for o in best[1]), tuple(o[3] for o in best[1]), tuple(orders),
                          float(penalty))


def _closed_atoms_fit(closing, chosen) -> bool:
    """Whether every closed atom's extra order fits its neighbours' (at most 2 per bond)."""
    for x, nbrs in closing:
        need = chosen[x][2]
        if need:
            room = 0
            for y in nbrs:
                e = chosen[y][2]
                room += e if e < 2 else 2
            if room < need:
                return False
    return True


def _bond_increments(extra, n_inc, inc_pairs) -> list[int] | None:
    """Bond-order increments (0-2 per bond) that give every atom exactly its ``extra`` order, or None.

    ``inc_pairs[a]`` lists (bond t, other atom) for the order-carrying bonds of atom a. A small
    exact search (b-matching): always branch on the atom with extra order left that has the fewest
    open bonds.
    """
    need = list(extra)
    inc = [0] * n_inc
    fixed = [False] * n_inc
    atoms = range(len(need))

    def solve() -> bool:
        pick, pick_open = -1, None
        for a in atoms:
            left = need[a]
            if left == 0:
                continue
            open_ = [tb for tb in inc_pairs[a] if not fixed[tb[0]] and need[tb[1]] > 0]
            if 2 * len(open_) < left:
                return False
            if pick_open is None or len(open_) < len(pick_open):
                pick, pick_open = a, open_
        if pick < 0:
            return True
        t, b = pick_open[0]
        fixed[t] = True
        for value in range(min(2, need[pick], need[b]), -1, -1):
            if value == 0 and len(pick_open) == 1:
                break
            inc[t] = value
            need[pick] -= value
            need[b] -= value
            if solve():
                return True
            need[pick] += value
            need[b] += value
        inc[t] = 0
        fixed[t] = False
        return False

    return inc if solve() else None


def _assign_milp(elements, bonds, charge, multiplicity) -> LewisStructure:
    """The same problem as a MILP solved by HiGHS (scipy.optimize.milp)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(elements)
    unpaired = multiplicity - 1
    states, inc_bonds = _atom_states(elements, bonds, multiplicity)
    var_atom, var_charge, var_val, var_rad, var_cost = [], [], [], [], []
    for a, opts in enumerate(states):
        for cost, q, extra, r in opts:
            var_atom.append(a)
            var_charge.append(q)
            var_val.append(extra)
            var_rad.append(r)
            var_cost.append(cost)
    n_y = len(var_atom)
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
        options={"mip_rel_gap": 0.0},  # exact: the tie-breaks are smaller than the default gap
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
