"""Build a reaction network from a recipe with the Python API and look at what it holds: species and
reactions per generation, the known SEI species it reaches.

    python examples/build_network.py [--recipe ec_lipf6] [--max-generations N] [--out out/build]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sei_net.chem.known import known_species_keys
from sei_net.generate import build_network


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="ec_lipf6")
    ap.add_argument("--out", default="out/build")
    ap.add_argument("--max-generations", type=int, default=None, help="stop after N generations")
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with build_network(args.recipe, out / "network.db", max_generations=args.max_generations,
                       progress=print) as net:
        info = net.store.info()
        known = known_species_keys()
        found = sorted(known[s.key] for s in net.species().values() if s.key in known)
    print(f"{info['species']} species, {info['reactions']} reactions; reaction kinds {info['kinds']}")
    print("known SEI species reached:", ", ".join(found))
    return {"species": info["species"], "reactions": info["reactions"], "known": found,
            "kinds": info["kinds"]}


if __name__ == "__main__":
    main()
