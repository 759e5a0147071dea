"""Grow an SEI for 1 M LiPF6 in EC at 0.0 V vs Li/Li+ with the Python API.

Builds (or reuses) the ec_lipf6 reaction network, scores it with the shipped GFN2-trained surrogate
ensemble (species with shipped GFN2 labels keep them), then runs hybrid MD/MC growth with rates from those energies and prints what deposited and
how thick the film is. A few minutes on 2 CPU cores with the defaults; resumable (run it again).

    python examples/grow_sei.py [--steps 300] [--out out/grow_sei] [--max-generations N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sei_net.growth import GrowthConfig, grow_network
from sei_net.recipe import load_recipe
from sei_net.workflow import network_with_energies


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="ec_lipf6")
    ap.add_argument("--out", default="out/grow_sei")
    ap.add_argument("--steps", type=int, default=300, help="reactive steps")
    ap.add_argument("--md-steps", type=int, default=50, help="MD steps (5 fs) between reactive steps")
    ap.add_argument("--box", type=float, default=30.0, help="cell edge in x and y (Å)")
    ap.add_argument("--height", type=float, default=40.0, help="electrode-to-top distance (Å)")
    ap.add_argument("--reactive-dt", type=float, default=1e-5, help="chemical time per reactive step (s); "
                    "the SEI-forming steps are slow on the surrogate rates")
    ap.add_argument("--max-generations", type=int, default=None, help="smaller network (faster)")
    args = ap.parse_args(argv)

    recipe = load_recipe(args.recipe)
    out = Path(args.out)
    if args.max_generations is not None:          # a smaller network: the build stops there
        recipe.limits["max_generations"] = args.max_generations
    net = network_with_energies(recipe, out)[0]
    config = GrowthConfig(box_xy=args.box, height=args.height, md_steps=args.md_steps,
                          reactive_dt=args.reactive_dt, temperature=recipe.temperature)
    result = grow_network(recipe, net, config, steps=args.steps, out=out / "growth",
                          progress=lambda k, n, th: print(f"step {k}/{n}: SEI {th['mean']:.2f} Å") if k % 50 == 0 else None)
    s = result.summary
    report = {"chemical_time_s": s["chemical_time_s"], "thickness_A": s["thickness_A"],
              "deposited": s["deposited"], "gases_released": s["gases_released"],
              "events_by_family": s["events"]["by_family"], "top_reactions": s["events"]["top_reactions"][:8],
              "layer_order": s["layer_order"], "wall_seconds": s["wall_seconds"]}
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
