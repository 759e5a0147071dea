"""Build the ec_lipf6 network, score it (the shipped surrogate; species with shipped GFN2 labels keep
them), and ask for the best paths to an SEI product, with the Python API. About a minute on 2 CPU cores with the defaults; resumable (run it again).

    python examples/path_query.py [--target LEDC] [-k 3] [--potential 0.0] [--max-generations N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sei_net.kinetics.path_output import path_record, path_text
from sei_net.kinetics.query import PathQuery
from sei_net.recipe import load_recipe
from sei_net.store import NetworkStore
from sei_net.workflow import network_with_energies


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="ec_lipf6")
    ap.add_argument("--out", default="out/path_query")
    ap.add_argument("--target", default="LEDC", help="species name, SMILES or known SEI name")
    ap.add_argument("-k", type=int, default=3, help="number of best paths")
    ap.add_argument("--potential", type=float, default=None, help="V vs Li/Li+ (default: the recipe's)")
    ap.add_argument("--max-generations", type=int, default=None, help="smaller network (faster)")
    args = ap.parse_args(argv)

    recipe = load_recipe(args.recipe)
    if args.max_generations is not None:
        recipe.limits["max_generations"] = args.max_generations
    db = network_with_energies(recipe, Path(args.out))[0]       # build (or resume) and score
    with NetworkStore.open(db, readonly=True) as store:
        q = PathQuery.prepare(store, potential=args.potential)
        start = [q.species_id(s.species.key) for s in recipe.species]
        records = [path_record(q, p, i + 1) for i, p in enumerate(q.paths(start, q.species_id(args.target), args.k))]
    print(f"energies: {q.describe()['level_of_theory']}; {q.potential:g} V vs Li/Li+")
    for rec in records:
        print(path_text(rec))
    return records


if __name__ == "__main__":
    main()
