"""Concerted-shift barriers by the size of their cyclic transition state, against one BEP per class.

A concerted shift moves an atom (H, F) from one heavy atom to another of the same molecule; its
transition state closes a ring of the moving atom and the reactant path between donor and
acceptor: 5 atoms for a 1,4-shift, 6 for a 1,5-shift. That ring is in neither the reactant nor the
product graph, only in their union, which a message-passing network cannot count. For every usable
concerted label of FILES this prints the ring size and moving element with the median barrier, and
the 5-fold cross-validated MAE (20 fold draws) of a BEP fitted per class, per ring size, and per
ring size and moving element, with alpha fixed at 1/2 (the ``DEFAULT_BEP`` form, detailed balance
kept: a shift and its reverse share the ring and the moving atom) and with alpha fitted too.

    python examples/concerted_ts_ring.py        # the shipped barrier model's files and repeats, seconds

eV; labels are GFN2-xTB CI-NEB free-energy barriers (``data/barriers/README.md``).
"""

from __future__ import annotations

import argparse

import numpy as np

from sei_net.chem.graph import smallest_ring_sizes
from sei_net.energy.neb import broken_bonds, formed_bonds
from sei_net.learn.barrier_data import load_barrier_dataset
from sei_net.learn.barrier_fit import fit_bep
from sei_net.learn.reaction_graph import reaction_class
from sei_net.learn.score import load_barrier_model

CONCERTED_REPEATS = ["data/barriers/repeats/gfn2_neb11_concerted_new_ends.jsonl.gz"]


def smallest_cycle_through(edges: list[tuple[int, int]], changed: list[tuple[int, int]]) -> int | None:
    """Atoms in the smallest cycle of the graph ``edges`` that holds one of the ``changed`` edges
    (each must be in ``edges``, either way round); None when no changed edge lies on a cycle."""
    sizes = dict(zip(map(frozenset, edges), smallest_ring_sizes(1 + max(map(max, edges)), edges)))
    on_a_cycle = [sizes[frozenset(edge)] for edge in changed if sizes[frozenset(edge)]]
    return min(on_a_cycle) if on_a_cycle else None


def shift_descriptor(reaction) -> tuple[int | None, str]:
    """(cyclic transition-state size, moving elements) of a unimolecular concerted shift: the
    smallest cycle through a formed or broken bond in the union of reactant and product bonds, and
    the atoms that both lose and gain a bond."""
    formed, broken = formed_bonds(reaction), broken_bonds(reaction)
    union = sorted({(i, j) for i, j, _ in reaction.reactants[0].bonds} | set(formed))
    moving = {a for bond in broken for a in bond} & {a for bond in formed for a in bond}
    return smallest_cycle_through(union, formed + broken), "".join(sorted(reaction.reactants[0].elements[a]
                                                                         for a in moving))


def cv_mae(groups: np.ndarray, dG: np.ndarray, y: np.ndarray, alpha: float | None, draws: int = 20) -> list[float]:
    """5-fold cross-validated MAE (eV) of a BEP fitted per group, one value per fold draw."""
    maes = []
    for seed in range(draws):
        folds = np.random.default_rng(seed).permutation(len(y)) % 5
        errors = np.empty(len(y))
        for k in range(5):
            train, test = folds != k, folds == k
            params = fit_bep(groups[train], dG[train], y[train], alpha=alpha)
            fallback = fit_bep(np.full(train.sum(), "all"), dG[train], y[train], alpha=alpha)["all"]
            e0, slope = np.array([params.get(g, fallback) for g in groups[test]]).T
            errors[test] = np.abs(np.maximum(np.maximum(dG[test], 0.0), e0 + slope * dG[test]) - y[test])
        maes.append(float(errors.mean()))
    return maes


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="barrier datasets in data-card order (default: the shipped "
                        "barrier model's, with its repeats and the concerted new-ends repeat)")
    parser.add_argument("--draws", type=int, default=20, help="fold draws")
    args = parser.parse_args(argv)
    card = load_barrier_model("default", "cpu").card
    files, repeats = (args.files, []) if args.files else (card["datasets"], card.get("repeats", []) + CONCERTED_REPEATS)
    examples = [e for e in load_barrier_dataset(files, lowest_of=repeats)
                if reaction_class(e.reaction.kind) == "concerted" and len(e.reaction.reactants) == 1]
    if len(examples) < 10:
        raise SystemExit(f"{len(examples)} usable concerted labels in {', '.join(files)}: too few to cross-validate")
    described = [shift_descriptor(e.reaction) for e in examples]
    dG = np.array([e.dG for e in examples])
    y = np.array([e.target for e in examples])
    groupings = {"one per class": np.array(["all"] * len(y)),
                 "per ring size": np.array([str(size) for size, _ in described]),
                 "per ring size and moving element": np.array([f"{size}{el}" for size, el in described])}
    print(f"{len(y)} usable concerted labels")
    print("\n| ring size | moving | n | median barrier eV |\n|---|---|---|---|")
    for key in sorted(set(described), key=str):
        mask = np.array([d == key for d in described])
        print(f"| {key[0]} | {key[1]} | {mask.sum()} | {np.median(y[mask]):.2f} |")
    result = {}
    print(f"\n| BEP fitted | alpha | 5-fold CV MAE eV, median [min, max] of {args.draws} draws |\n|---|---|---|")
    for alpha in (0.5, None):
        for name, groups in groupings.items():
            maes = cv_mae(groups, dG, y, alpha, args.draws)
            result[f"{name}, alpha {alpha or 'fitted'}"] = maes
            print(f"| {name} | {alpha or 'fitted'} | {np.median(maes):.3f} [{min(maes):.3f}, {max(maes):.3f}] |")
    return {"n": len(y), "cv_mae": result}


if __name__ == "__main__":
    main()
