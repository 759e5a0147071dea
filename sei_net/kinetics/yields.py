"""Product yields over time for the main job: stochastic kinetics from the recipe's composition at
the recipe's potential, with the spread over the energy ensemble's members.

Every molecule of the simulated volume element sees electrons at the electrode potential (the
HiPRGen/RNMC convention), so the run tells what an electrolyte element in contact with the electrode
turns into, and how fast; how far from the electrode that happens is the growth stage's question.
Counts are molecules in the volume element (kinetics.setup: the least concentrated recipe species
gets 100 molecules), time in s.
"""

from __future__ import annotations

import numpy as np

from sei_net.chem.known import known_species_keys
from sei_net.kinetics.acceleration import Acceleration
from sei_net.kinetics.mechanism import mechanism_from_query
from sei_net.kinetics.setup import initial_state, member_mechanisms, member_statistics
from sei_net.kinetics.ssa import simulate

#: species besides the known SEI ones whose counts over time are kept (largest final means)
TOP_OTHERS = 8


def _tracked(mech, query, final_mean: np.ndarray, start: dict[int, int]) -> list[int]:
    """Species to follow over time: the starting species, the known SEI species that form, and the
    ``TOP_OTHERS`` most abundant others at the end."""
    known = known_species_keys()
    named = [s for s, sp in query.species.items() if sp.key in known and (final_mean[s] > 0 or s in start)]
    others = [int(s) for s in np.argsort(-final_mean, kind="stable")
              if final_mean[s] > 0 and s not in named][:TOP_OTHERS]
    return sorted(set(named) | set(start)) + others


def _grid_index(grid: np.ndarray, t: float) -> int:
    """Index of the last recording time at or before ``t`` (s), allowing for rounding."""
    return int(np.searchsorted(grid, t * (1 + 1e-12), side="right") - 1)


def at_common_time(result) -> tuple[float, np.ndarray, np.ndarray, int]:
    """(t, mean, std, grid index): the counts over trajectories at the last grid time that every
    trajectory reached (a trajectory that ran out of events stops early; later grid points would
    hold its stale state)."""
    g = _grid_index(result.grid, result.end_time.min())
    return float(result.grid[g]), result.grid_mean[g], result.grid_std[g], g


def element_totals(species: dict, counts: np.ndarray) -> dict[str, float]:
    """Atoms of each element in (mean) molecule ``counts`` by species index; a balance check, since
    every reaction conserves atoms."""
    totals: dict[str, float] = {}
    for s, sp in species.items():
        if s < len(counts) and counts[s]:
            for el, n in sp.composition.items():
                totals[el] = totals.get(el, 0.0) + n * float(counts[s])
    return dict(sorted(totals.items()))


#: simulated time the main job's kinetics aims for (s)
DEFAULT_TIME = 1.0
#: the counts-over-time record: decades of time before the end, and points (5 per decade, plus t = 0)
SERIES_DECADES = 10
SERIES_POINTS = 5 * SERIES_DECADES + 1


def acceleration_record(result, accelerate: Acceleration | None) -> dict | None:
    """What the rate scaling did in ``result`` (kinetics.ssa.SSAResult): the settings, and per
    trajectory the reaction pairs slowed at the end and the largest factor (medians over trajectories)."""
    if accelerate is None:
        return None
    scaled = (result.alpha > 1.0).sum(axis=1) // 2
    return accelerate.describe() | {"pairs_scaled_at_end_median": float(np.median(scaled)),
                                    "largest_factor_median": float(np.median(result.alpha.max(axis=1)))}


def product_yields(query, *, trajectories: int = 8, time: float = DEFAULT_TIME, max_steps: int = 2_000_000,
                   seed: int = 0, members: bool = True, workers: int = 2,
                   accelerate: Acceleration | None = Acceleration()) -> dict:
    """Gillespie trajectories from the recipe's composition to ``time`` (s) or ``max_steps`` events,
    whichever comes first, with the rates of a prepared ``query`` (kinetics.query.PathQuery: the
    network's energies at a potential, through kinetics.rates). With ``members``, the same trajectories (same seeds) under every energy
    member's rates give the spread that the energy uncertainty puts on the mean counts, at the
    last grid time that every run (mean rates and members) reached: ``members.counts_at_s``, where
    each yield's ``members.mean_rates`` is the mean-rate run's count for comparison (the mean
    energies need not give a typical member: compare ``members.median``).
    Counts are reported at the last grid time that every trajectory reached (at_common_time); the
    members run to that time. Returns a JSON-ready dict; ``series`` holds counts on a log time grid
    up to that time for the tracked species. ``accelerate`` slows fast quasi-equilibrated reversible
    pairs (kinetics.acceleration) so that the run reaches ``time``; None runs the exact SSA."""
    mech = mechanism_from_query(query)
    counts, volume, origin = initial_state(query.store)
    run = dict(time=time, steps=max_steps, seed=seed, volume=volume, workers=workers, log_grid=True,
               log_decades=SERIES_DECADES, grid_points=SERIES_POINTS,
               accelerate=accelerate)
    result = simulate(mech, counts, trajectories, **run)
    t_common, mean, std, g = at_common_time(result)
    spread = over_time = None
    if members and query.samples is not None and t_common > 0:
        runs = [simulate(m, counts, trajectories, **(run | {"time": t_common})) for m in member_mechanisms(query)]
        t_all = min([t_common] + [at_common_time(r)[0] for r in runs])   # one time every run reached
        g_m = _grid_index(runs[0].grid, t_all)      # every member run has the same grid (same stop time)
        over_time = member_statistics(np.array([r.grid_mean[:g_m + 1] for r in runs]))   # (times, species)
        spread = {**{k: v[-1] for k, v in over_time.items()}, "members": len(runs), "time_s": t_all,
                  "mean_rates": result.grid_mean[_grid_index(result.grid, t_all)]}
        over_time["time_s"] = runs[0].grid[:g_m + 1]
    tracked = _tracked(mech, query, mean, counts)
    known = known_species_keys()

    def row(s: int) -> dict:
        out = {"species": mech.names[s], "smiles": query.species[s].smiles,
               "known_as": known.get(query.species[s].key), "initial": int(counts.get(s, 0)),
               "mean": float(mean[s]), "std": float(std[s]),
               "standard_error": float(std[s] / np.sqrt(result.n_trajectories))}
        if spread is not None:
            out["members"] = {k: float(spread[k][s]) for k in ("mean_rates", "mean", "std", "min", "median", "max")}
        return out

    reached = result.end_time
    method = "Gillespie direct method (kinetics.ssa), physical time, volume-scaled propensities"
    if accelerate is not None:
        method += ("; fast quasi-equilibrated reversible pairs slowed at constant equilibrium constant "
                   "(kinetics.acceleration)")
    return {
        "method": method,
        "acceleration": acceleration_record(result, accelerate),
        "trajectories": result.n_trajectories, "seed": seed,
        "stop": {"time_s": time, "max_events": max_steps},
        "time_reached_s": {"min": float(reached.min()), "median": float(np.median(reached)),
                           "max": float(reached.max())},
        "trajectories_reaching_time": int(np.sum(reached >= time)),
        "counts_at_s": t_common,
        "events": result.n_events, "wall_seconds": round(result.wall_seconds, 3),
        "volume_L": volume, "initial_state": origin,
        "settings": query.describe() | {"rates": mech.rate_source},
        "members": ({"n": spread["members"], "counts_at_s": spread["time_s"]} if spread is not None
                    else {"n": 0}),
        "element_totals": {"initial": element_totals(query.species, mech.counts(counts)),
                           "at_counts_time": element_totals(query.species, mean)},
        "yields": [row(s) for s in tracked],
        "series": {"time_s": result.grid[:g + 1].tolist(),
                   "species": [mech.names[s] for s in tracked],
                   "mean": result.grid_mean[:g + 1, tracked].T.tolist(),
                   "std": result.grid_std[:g + 1, tracked].T.tolist()},
        # the energy members' mean counts of the tracked species over time: median and range over members
        "member_series": None if over_time is None else {
            "time_s": over_time["time_s"].tolist(), "members": spread["members"],
            **{k: over_time[k][:, tracked].T.tolist() for k in ("median", "min", "max")}},
    }
