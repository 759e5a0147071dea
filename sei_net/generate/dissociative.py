"""Dissociative electron transfer through species that have no minimum.

When the oracle finds no minimum for a species X (every starting geometry rearranged,
``energy.labels.LabelStore.no_minimum``), X is not an intermediate: an electron transfer that would
make it lands on a dissociative surface and goes on to what X falls apart into. Scoring leaves X
without a free energy, so the stepwise route A + e- -> X -> B + C drops out of paths and kinetics
with it; the two-electron reduction of EC to CO3 2- and C2H4 goes through two such species (the EC
dianion and the ring-opened [CH2-]CH2OCO2-, no GFN2 minimum for either). This module joins the
steps into one, as in Saveant's concerted dissociative electron transfer:

    A + e- -> X   (a one-electron reduction, X formed once, not consumed)
    X -> B + C    (any unimolecular step of X without electrons: fragmentation, ring opening or
                   closing, a shift; up to ``MAX_DECAYS`` in a row while a product has no minimum)
    gives  A + e- -> B + C  (rule ``RULE``), and its reverse, B + C -> A + e-.

The composite is an electron transfer concerted with a bond change: it keeps the transfer's
electrons and the kind of its hardest step (``harder_kind``). Its barrier is Saveant's (J. Am. Chem.
Soc. 109, 6788 (1987)): Marcus with the intrinsic barrier of the transfer plus that of the bond
change, lambda = lambda_outer + 4 E0, E0 the BEP intercept of its kind (``kinetics.rates.RateModel``);
without the bond term a ring opening would ride on the electron transfer for free. One composite
per chain of steps, so every channel X could take stays open and the kinetics weighs them. The atom
maps compose, so the composite keeps one.

Only reductions start a composite. An oxidation A -> X + e- through a species without a minimum
is uphill at the potentials of a negative electrode, and its reverse, fragments meeting at the
electrode to take an electron and bond in one step (EC + EC.- + e- -> a C-C bonded dianion, for
one), is a three-body encounter that mass action with a Marcus barrier overstates: with those
reverses in, on ec_lipf6 at 0 V one of them carried most of the flux.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import numpy as np

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species
from sei_net.kinetics.rates import DEFAULT_BEP

#: provenance name of the composite reactions (both directions)
RULE = "dissociative_electron_transfer"
#: decays chained after one electron transfer at most (X -> Y -> B + C when Y has no minimum either)
MAX_DECAYS = 2


def _intercept(kind: str) -> float:
    """``DEFAULT_BEP`` intercept E0 (eV) of a step kind; -1 for a plain 'redox' step, which has none."""
    return -1.0 if kind == "redox" else DEFAULT_BEP.get(kind, (0.0, 0.0))[0]


def harder_kind(first: str, second: str) -> str:
    """Of two step kinds, the one with the larger intrinsic barrier (``_intercept``): the kind a
    concerted step made of both takes."""
    return second if _intercept(second) > _intercept(first) else first


def compose(transfer: Reaction, decay: Reaction, transient: Species) -> Reaction:
    """The concerted step ``transfer`` then ``decay``: the transfer's reactants and electrons to its
    other products plus the decay's products, with the composed atom map (None when either step has
    none) and the harder of the two kinds (``harder_kind``). ``transient`` must be one product of
    ``transfer`` and the only reactant of ``decay``."""
    if transient.key not in [s.key for s in transfer.products] or decay.reactants != (transient,):
        raise ValueError(f"{transient.smiles} is not a product of {transfer.equation()} and the only "
                         f"reactant of {decay.equation()}")
    offsets = np.cumsum([0] + [s.n_atoms for s in transfer.products])
    at = next(i for i, s in enumerate(transfer.products) if s.key == transient.key)
    kept = [i for i in range(len(transfer.products)) if i != at]
    products = [transfer.products[i] for i in kept] + list(decay.products)
    atom_map = None
    if transfer.atom_map is not None and decay.atom_map is not None:
        first = transfer.atom_map
        atom_map = np.concatenate(
            [first[offsets[i]:offsets[i + 1]] for i in kept]
            + [first[offsets[at] + np.asarray(decay.atom_map, dtype=np.int64)]]).astype(np.int64)
    return Reaction(transfer.reactants, products, transfer.electrons, harder_kind(transfer.kind, decay.kind),
                    atom_map, RULE)


def _one_transient(reaction: Reaction, transient_keys: set[str]) -> Species | None:
    """The one species of ``transient_keys`` among the products, formed once; None if there are
    none or several."""
    made = [s for s in reaction.products if s.key in transient_keys]
    return made[0] if len(made) == 1 else None


def dissociative_transfers(reactions: Iterable[Reaction], transient_keys: set[str],
                           max_decays: int = MAX_DECAYS) -> list[Reaction]:
    """Every composite ``compose`` makes from ``reactions`` through the species of
    ``transient_keys`` (the module docstring), starting from one-electron reductions and following
    up to ``max_decays`` decays through species without a minimum; each with its reverse; sorted
    by key."""
    open_steps: list[tuple[Reaction, Species]] = []
    decays = defaultdict(list)
    for r in reactions:
        if r.electrons == 1 and not {s.key for s in r.reactants} & transient_keys:
            transient = _one_transient(r, transient_keys)
            if transient is not None:
                open_steps.append((r, transient))
        elif r.electrons == 0 and len(r.reactants) == 1 and r.reactants[0].key in transient_keys:
            decays[r.reactants[0].key].append(r)
    out: dict[str, Reaction] = {}
    for _ in range(max_decays):
        still_open = []
        for step, transient in open_steps:
            for decay in decays.get(transient.key, ()):
                joined = compose(step, decay, transient)
                if not any(s.key in transient_keys for s in joined.products):
                    out.setdefault(joined.key, joined)
                elif (after := _one_transient(joined, transient_keys)) is not None:
                    still_open.append((joined, after))
        open_steps = still_open
    for joined in list(out.values()):
        back = joined.reversed(rule=RULE)
        out.setdefault(back.key, back)
    return [out[k] for k in sorted(out)]


def add_dissociative_transfers(store, transient_keys: set[str]) -> dict:
    """Make the open, writable ``NetworkStore`` hold exactly the composites through
    ``transient_keys`` (species keys) that no generator rule made already: add the missing ones and
    delete those a species that now has a minimum made before (their barriers and rates go with
    them). Returns the counts."""
    species = store.all_species()
    ids = store.species_ids
    transient_ids = {ids[k] for k in transient_keys if k in ids}
    prov = store.provenance_id("rule", RULE)
    before = dict(store.conn.execute("SELECT key, kind FROM reactions WHERE provenance_id = ?", (prov,)))
    candidates = []
    if transient_ids:
        q = ",".join("?" * len(transient_ids))
        rows = store.conn.execute(
            f"SELECT DISTINCT p.reaction_id FROM participants p JOIN reactions r ON r.id = p.reaction_id "
            f"WHERE p.species_id IN ({q}) AND r.provenance_id IS NOT ?", (*transient_ids, prov)).fetchall()
        candidates = [store.get_reaction(rid, species) for (rid,) in rows]
    joined = dissociative_transfers(candidates, {species[i].key for i in transient_ids})
    generated = set(store._reaction_ids([r.key for r in joined])) - set(before)
    joined = [r for r in joined if r.key not in generated]   # a generator rule made it already
    wanted = {r.key: r.kind for r in joined}
    stale = sorted(k for k, kind in before.items() if wanted.get(k) != kind)
    with store.transaction():
        for i in range(0, len(stale), 900):
            chunk = stale[i:i + 900]
            store.conn.execute(f"DELETE FROM reactions WHERE key IN ({','.join('?' * len(chunk))})", chunk)
    added = [r for r in joined if before.get(r.key) != r.kind]
    store.add_reactions(added, provenance=prov)
    return {"reactions": len(joined), "added": len(added), "removed": len(stale)}


def composite_ids(store) -> set[int]:
    """Store ids of the composites ``add_dissociative_transfers`` put in the network."""
    return {rid for (rid,) in store.conn.execute(
        "SELECT r.id FROM reactions r JOIN provenance p ON p.id = r.provenance_id WHERE p.kind = 'rule' "
        "AND p.name = ?", (RULE,))}
