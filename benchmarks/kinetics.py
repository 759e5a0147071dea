"""Stochastic kinetics throughput: sei_net's Gillespie kernels (sum tree, species-factorised dense)
vs the textbook direct method.

Workloads:
- the published RNMC SEI network (62 species, 959 reactions; ../shared/data/rnmc_sei) in RNMC mode,
  1000 trajectories x 5000 steps from seed 1000 (the issue's external check);
- the generated ec_lipf6 network of `make run` (gfn2-surrogate energies, rates at 0.0 V vs Li/Li+,
  physical mode, recipe concentrations), 4 trajectories x 200,000 steps, when out/ec_lipf6 exists;
- random networks of S species and 15 S reactions (10 % A ->, 2 % A + A ->, 88 % A + B ->; constants
  uniform in 0.1-1; 500 molecules of each of 5 species), 100 trajectories x 5000 steps, RNMC mode:
  where the dense kernel stops paying (kinetics.ssa.DENSE_MAX_SPECIES).

Figures are medians of 3 runs (events per second of wall time, after a warm-up that compiles the
kernels). Baseline, run side by side with the same RNG and compiler: the textbook direct method
(Gillespie 1977: every propensity recomputed after every event, linear search for the event),
on 100 trajectories (RNMC network) or 2 x 2,000 steps (ec_lipf6); on the random networks the
baseline is sei_net's sum-tree kernel, same seeds and steps. RNMC's own GMC is not built here;
the issue states 8.4 s of CPU for the 5 x 10^6 events including its SQLite writes (0.60 M events/s).

    python -m benchmarks kinetics
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from numba import njit

from benchmarks.common import EC_LIPF6, ec_lipf6_mechanism, median_time, write_table
from sei_net.kinetics._ssa_kernel import propensity, rng_state, uniform

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "rnmc_sei"


@njit(cache=True)
def textbook_direct(seeds, counts0, c, r_ptr, r_sp, r_coef, d_ptr, d_sp, d_val, max_steps):
    """Gillespie's direct method as first published: all propensities recomputed after each event,
    linear search. Returns the summed final counts (to keep the work observable)."""
    n_rx = len(c)
    a = np.empty(n_rx)
    total_counts = np.zeros(len(counts0), dtype=np.int64)
    counts = np.empty_like(counts0)
    for tr in range(len(seeds)):
        s = rng_state(seeds[tr])
        counts[:] = counts0
        for step in range(max_steps):
            total = 0.0
            for j in range(n_rx):
                a[j] = propensity(j, counts, c, r_ptr, r_sp, r_coef)
                total += a[j]
            if total <= 0.0:
                break
            uniform(s)                                     # the waiting-time draw
            u = uniform(s) * total
            j = 0
            while j < n_rx - 1 and u >= a[j]:
                u -= a[j]
                j += 1
            for q in range(d_ptr[j], d_ptr[j + 1]):
                counts[d_sp[q]] += d_val[q]
        total_counts += counts
    return total_counts


def _baseline_rate(mech, counts, c, trajectories, steps, seed):
    from sei_net.kinetics.ssa import kernel_arrays

    a = kernel_arrays(mech, counts, c)
    args = (np.arange(seed, seed + trajectories, dtype=np.int64), a["counts0"], a["c"], a["r_ptr"], a["r_sp"],
            a["r_coef"], a["d_ptr"], a["d_sp"], a["d_val"], steps)
    textbook_direct(*args[:-1], 2)                        # compile
    return trajectories * steps / median_time(lambda: textbook_direct(*args), repeats=3)


def _ours(mech, counts, trajectories, steps, seed, **kw):
    from sei_net.kinetics.ssa import simulate

    simulate(mech, counts, 2, steps=10, seed=seed, **kw)  # compile / warm caches
    results = []
    t = median_time(lambda: results.append(simulate(mech, counts, trajectories, steps=steps, seed=seed, **kw)),
                    repeats=3)
    return results[-1].n_events / t


def _ours_with_events(mech, counts, trajectories, steps, seed, out, **kw):
    from sei_net.kinetics.kinetics_output import write_ssa_tables
    from sei_net.kinetics.ssa import simulate

    def once():
        r = simulate(mech, counts, trajectories, steps=steps, seed=seed, record_events=True, **kw)
        write_ssa_tables(r, mech.names, mech.graph.reaction_id, out)
        return r

    once()
    return trajectories * steps / median_time(once, repeats=3)


def random_network(n_species: int, per_species: int = 15, seed: int = 0):
    """A random mechanism of the three two-reactant forms (module docstring)."""
    from sei_net.kinetics.hypergraph import HyperGraph
    from sei_net.kinetics.mechanism import Mechanism

    rng = np.random.default_rng(seed)
    reactants, products = [], []
    for _ in range(per_species * n_species):
        a, b, p, q = (int(x) for x in rng.choice(n_species, 4, replace=False))
        u = rng.random()
        if u < 0.10:
            reactants.append([a]), products.append([p, q])
        elif u < 0.12:
            reactants.append([a, a]), products.append([p])
        else:
            reactants.append([a, b]), products.append([p, q] if rng.random() < 0.5 else [p])
    g = HyperGraph.from_lists(reactants, products, n_species=n_species)
    return Mechanism(g, rng.uniform(0.1, 1.0, g.n_reactions), [f"X{i}" for i in range(n_species)], "random",
                     "RNMC units")


def run() -> None:
    from sei_net.io.rnmc import import_rnmc
    from sei_net.kinetics.mechanism import mechanism_from_rates

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = import_rnmc(SHARED / "rn.sqlite", Path(tmp) / "rnmc.db", SHARED / "initial_state.sqlite",
                            SHARED / "20211130_mol_entries.json")
        mech = mechanism_from_rates(store, "rnmc")
        init = store.initial_state("rnmc")
        counts = mech.counts(init)
        c = mech.propensity_constants("rnmc")
        base = _baseline_rate(mech, counts, c, 100, 5000, 1000)
        rnmc_stated = 5e6 / 8.4
        for what, rate in [
            ("textbook direct method (baseline), 1 thread", base),
            ("sei_net sum tree, final counts, 1 thread",
             _ours(mech, init, 1000, 5000, 1000, mode="rnmc", kernel="tree")),
            ("sei_net dense (auto), final counts, 1 thread", _ours(mech, init, 1000, 5000, 1000, mode="rnmc")),
            ("sei_net dense (auto), final counts, 2 threads",
             _ours(mech, init, 1000, 5000, 1000, mode="rnmc", workers=2)),
            ("sei_net dense (auto), every event recorded + Parquet, 2 threads",
             _ours_with_events(mech, init, 1000, 5000, 1000, Path(tmp) / "runs", mode="rnmc", workers=2)),
        ]:
            rows.append(["RNMC SEI (959 reactions)", what, f"{rate / 1e6:.2f}", f"{rate / base:.1f}",
                         f"{rate / rnmc_stated:.1f}"])
        store.close()
    if EC_LIPF6.exists():
        with ec_lipf6_mechanism() as (mech, init, volume):
            counts = mech.counts(init)
            base = _baseline_rate(mech, counts, mech.propensity_constants("physical", volume), 2, 2000, 0)
            for what, rate in [
                ("textbook direct method (baseline), 1 thread", base),
                ("sei_net sum tree (auto), final counts, 1 thread", _ours(mech, init, 4, 200_000, 0, volume=volume)),
                ("sei_net sum tree (auto), final counts, 2 threads",
                 _ours(mech, init, 4, 200_000, 0, volume=volume, workers=2)),
            ]:
                rows.append([f"generated ec_lipf6 ({mech.n_species:,} species, {mech.n_reactions:,} reactions)",
                             what, f"{rate / 1e6:.3f}", f"{rate / base:.0f}", "-"])
    init = {i: 500 for i in range(5)}
    for n_species in (64, 128, 256, 512):
        mech = random_network(n_species)
        tree = _ours(mech, init, 100, 5000, 0, mode="rnmc", kernel="tree")
        dense = _ours(mech, init, 100, 5000, 0, mode="rnmc", kernel="dense")
        label = f"random ({n_species} species, {mech.n_reactions:,} reactions)"
        rows.append([label, "sei_net sum tree (baseline), 1 thread", f"{tree / 1e6:.2f}", "1.0", "-"])
        rows.append([label, "sei_net dense, 1 thread", f"{dense / 1e6:.2f}", f"{dense / tree:.1f}", "-"])
    write_table("kinetics", "Stochastic kinetics (Gillespie) throughput", __doc__.split("\n\n")[1] + "\n\n"
                + __doc__.split("\n\n")[2],
                ["network", "variant", "M events/s (median of 3)", "x baseline", "x RNMC GMC (stated)"], rows)
