"""MD throughput of the growth engine's one-site model: site-steps per second against the number of
sites, numba CPU kernel (default on the CPU) against the torch route (what runs on a GPU) as the
baseline, side by side on this machine; scaling exponent from a log-log fit of time per step."""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from benchmarks.common import median_time, write_table

SIZES = [1000, 3000, 10000, 30000, 100000]
TORCH_MAX = 30000        # the torch route on the CPU is slow beyond this
STEPS = 20


def _cell(n: int, device: str):
    from sei_net.constants import AVOGADRO
    from sei_net.growth.engine import GrowthConfig, initial_state
    from sei_net.growth.phases import load_phase_rules
    from sei_net.growth.sites import site_table
    from sei_net.recipe import load_recipe

    recipe = load_recipe("ec_lipf6")
    species = {i + 1: s.species for i, s in enumerate(recipe.species)}
    bulk = {i + 1: s.concentration for i, s in enumerate(recipe.species)}
    sites = site_table(species, len(species) + 1, load_phase_rules(), bulk)
    rho = sum(bulk.values()) * AVOGADRO * 1e-27
    side = (n / rho) ** (1 / 3)
    cfg = GrowthConfig(box_xy=side, height=side, reservoir=1.0, device=device)
    return initial_state(sites, bulk, cfg, np.random.default_rng(0), torch.device(device))


def run() -> None:
    from sei_net.growth.dynamics import Langevin, relax
    from sei_net.growth.forcefield import site_model

    sizes = [int(s) for s in os.environ.get("SEI_NET_BENCH_GROWTH_SIZES", "").split(",") if s] or SIZES
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows, fits = [], {}
    for device in devices:
        for backend in (["numba", "torch"] if device == "cpu" else ["torch"]):
            per_step = []
            for n in sizes:
                if backend == "torch" and device == "cpu" and n > TORCH_MAX:
                    continue
                state = _cell(n, device)
                model = site_model(298.15, 1.0, backend=backend)
                relax(state, model, 30)
                md = Langevin(model, 5.0, 298.15, 0.01, torch.Generator(device=device).manual_seed(0))
                md.run(state, 20)                           # warm-up (numba compilation, lists)
                t = median_time(lambda: md.run(state, STEPS), repeats=3) / STEPS
                per_step.append((state.n, t))
                rows.append([device, backend, state.n, f"{t * 1e3:.2f}", f"{state.n / t:.3g}"])
            if len(per_step) > 1:
                x, y = np.log([p[0] for p in per_step]), np.log([p[1] for p in per_step])
                fits[(device, backend)] = float(np.polyfit(x, y, 1)[0])
    base = {(r[0], r[2]): float(r[4]) for r in rows if r[1] == "torch"}
    for r in rows:
        ref = base.get((r[0], r[2]))
        r.append(f"{float(r[4]) / ref:.1f}x" if ref and r[1] != "torch" else "-")
        r.append(f"{fits.get((r[0], r[1]), math.nan):.2f}")
    write_table("growth", "Growth MD throughput (one site per molecule, Langevin BAOAB)",
                "`python -m benchmarks growth`: bulk 1 M LiPF6/EC sites (WCA + screened Coulomb, walls) at the "
                f"recipe's density, {STEPS} Langevin steps of 5 fs, median of 3; numba kernel (CPU default) "
                "against the torch route (the GPU code path) as the baseline, same machine, all cores "
                f"({os.cpu_count()}). Exponent: slope of log(time per step) against log(sites). Target: "
                ">= 10^6 site-steps/s at 10^4 sites on 2 CPU cores.",
                ["device", "forces", "sites", "ms per step", "site-steps/s", "vs torch", "scaling exponent"],
                rows)


if __name__ == "__main__":
    run()
