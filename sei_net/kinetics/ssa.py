"""Gillespie stochastic simulation (direct method) of a mechanism, many trajectories at once.

Two exact kernels, compiled with numba. The sum-tree kernel (kinetics._ssa_kernel, any network)
selects an event in O(log R) through a 32-ary sum tree, and after an event recomputes only the
propensities of reactions that consume a changed species. The species-factorised kernel
(kinetics._ssa_dense, networks of few species whose reactions have one or two reactants) keeps
per-species propensity sums in dense vectors, so an event costs O(S). ``kernel='auto'`` chooses.
Trajectory i uses seed ``seed + i`` (RNMC's convention), with its own xoshiro256** stream, so a
trajectory is the same whichever batch, thread or Dask worker runs it. Batches run on threads in
this process (the kernel releases the GIL) or, with a Dask scheduler address, on a cluster.
"""

from __future__ import annotations

import time as _time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from sei_net.kinetics._ssa_dense import run_batch_dense
from sei_net.kinetics._ssa_kernel import run_batch
from sei_net.kinetics.acceleration import OFF, Acceleration, reverse_partners
from sei_net.kinetics.mechanism import RNMC_FACTORS, Mechanism

#: grid points (times or steps) at which the mean and spread of every species' count are kept
DEFAULT_GRID_POINTS = 51


#: the most species for which kernel 'auto' takes the species-factorised (dense) kernel, whose
#: event costs O(S) where the sum-tree kernel's costs O(d log R). On random networks of 15
#: reactions per species (benchmarks/kinetics.py) dense was 1.9x faster at 256 species and 1.2x
#: at 512; networks with most species at zero count favour the tree, hence the margin.
DENSE_MAX_SPECIES = 256

#: decades of time a logarithmic recording grid spans (simulate(log_grid=True))
LOG_GRID_DECADES = 6


@dataclass
class SSAResult:
    """Outcome of ``simulate``. Counts are molecule numbers; times in s (physical mode) or RNMC units.

    ``final`` (T, S) per trajectory; ``grid`` (G,) the recording points (times if ``grid_in_time``,
    else step numbers) with ``grid_mean``/``grid_std`` (G, S) over trajectories; ``firings`` (R,) the
    events of each reaction summed over trajectories; ``steps`` and ``end_time`` (T,); ``events``
    (T, N) fired reaction indices and ``event_times`` (T, N), when recorded (-1 / nan past the end);
    ``alpha`` (T, R) the factor each reaction's rate was divided by at the end, with acceleration."""

    seeds: np.ndarray
    final: np.ndarray
    grid: np.ndarray
    grid_in_time: bool
    grid_mean: np.ndarray
    grid_std: np.ndarray
    firings: np.ndarray
    steps: np.ndarray
    end_time: np.ndarray
    wall_seconds: float
    mode: str
    params: dict = field(default_factory=dict)
    events: np.ndarray | None = None
    event_times: np.ndarray | None = None
    alpha: np.ndarray | None = None

    @property
    def n_trajectories(self) -> int:
        return len(self.seeds)

    @property
    def n_events(self) -> int:
        return int(self.steps.sum())

    def final_mean(self) -> np.ndarray:
        return self.final.mean(axis=0)

    def final_std(self) -> np.ndarray:
        """Standard deviation over trajectories (ddof=1; 0 for a single trajectory)."""
        return self.final.std(axis=0, ddof=1) if self.n_trajectories > 1 else np.zeros(self.final.shape[1])

    def summary(self, names: list[str], min_mean: float = 0.0) -> dict:
        """The JSON summary of the CLI: species whose mean final count exceeds ``min_mean``."""
        mean, std = self.final_mean(), self.final_std()
        order = np.argsort(-mean, kind="stable")
        finals = {names[s]: {"mean": float(mean[s]), "std": float(std[s])}
                  for s in order if mean[s] > min_mean}
        out = {"trajectories": self.n_trajectories}
        if self.params.get("steps") is not None:
            out["steps"] = int(self.params["steps"])
        if self.params.get("time") is not None:
            out["time"] = float(self.params["time"])
        if self.params.get("acceleration"):
            out["acceleration"] = self.params["acceleration"]
        out.update({"mode": self.mode, "kernel": self.params.get("kernel"), "final_counts": finals,
                    "events": self.n_events, "wall_seconds": self.wall_seconds,
                    "events_per_second": self.n_events / self.wall_seconds if self.wall_seconds else None})
        return out


#: run_batch_dense's array arguments, in order
DENSE_KEYS = ("counts0", "U", "D", "M", "uni_ch", "self_ch", "pair_ch", "ch_ptr", "ch_rx", "ch_cum",
              "d_ptr", "d_sp", "d_val")


def _run_chunk(arrays: dict, seeds: np.ndarray, max_steps: int, t_end: float, grid: np.ndarray,
               grid_in_time: bool, record_events: bool, accel: np.ndarray) -> dict:
    """Run ``seeds`` with the kernel the arrays are for (dense when they hold "M"); a self-contained
    task (threads or Dask workers)."""
    n_s, n_r, n_t = len(arrays["counts0"]), len(arrays["d_ptr"]) - 1, len(seeds)
    out = {"final": np.zeros((n_t, n_s), dtype=np.int64),
           "grid_sum": np.zeros((len(grid), n_s)), "grid_sq": np.zeros((len(grid), n_s)),
           "firings": np.zeros(n_r, dtype=np.int64), "steps": np.zeros(n_t, dtype=np.int64),
           "end_time": np.zeros(n_t)}
    n_ev = max_steps if record_events else 0
    out["events"] = np.full((n_t, n_ev), -1, dtype=np.int32)
    out["event_times"] = np.full((n_t, n_ev), np.nan)
    out["alpha"] = np.ones((n_t, n_r if accel[0] > 0 else 0))
    if "M" in arrays:
        run_batch_dense(np.asarray(seeds, dtype=np.int64), *(arrays[k] for k in DENSE_KEYS), max_steps, t_end,
                        grid, grid_in_time, out["final"], out["grid_sum"], out["grid_sq"], out["firings"],
                        out["steps"], out["end_time"], out["events"], out["event_times"])
        return out
    run_batch(np.asarray(seeds, dtype=np.int64), arrays["counts0"], arrays["c"], arrays["r_ptr"],
              arrays["r_sp"], arrays["r_coef"], arrays["d_ptr"], arrays["d_sp"], arrays["d_val"],
              arrays["cons_ptr"], arrays["cons_rx"], arrays["cons_kind"], arrays["cons_partner"],
              arrays["cons_sp"], arrays["cons_mirror"], arrays["base_slot"], arrays["n_static"],
              arrays["leaf_rx"], max_steps, t_end, grid, grid_in_time, arrays["partner_rx"], accel,
              out["final"], out["grid_sum"], out["grid_sq"], out["firings"], out["steps"],
              out["end_time"], out["events"], out["event_times"], out["alpha"])
    return out


def leaf_order(sp0: np.ndarray, sp1: np.ndarray) -> np.ndarray:
    """Reactions in sum-tree leaf order: grouped by their first reactant (then the second), so the
    propensities one count change touches sit on neighbouring leaves and share their ancestors.
    ``sp0``/``sp1``: first and second distinct reactant (-1: none). Measured against grouping by the
    reactant with the longer consumer list: as fast on the RNMC network, 1.3x faster on ec_lipf6."""
    return np.lexsort((np.arange(len(sp0)), sp1, sp0)).astype(np.int64)


def reactant_forms(graph) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each reaction's propensity form: kind 0 (A -> ...), 1 (A + B -> ...), 2 (A + A -> ...) or 3
    (anything else), and its first and second distinct reactant (-1: none)."""
    g = graph
    n_distinct = np.diff(g.r_ptr)
    first = g.r_ptr[:-1]
    coef0 = np.where(n_distinct > 0, g.r_coef[np.minimum(first, len(g.r_coef) - 1)], 0)
    coef1 = np.where(n_distinct > 1, g.r_coef[np.minimum(first + 1, len(g.r_coef) - 1)], 0)
    sp0 = np.where(n_distinct > 0, g.r_species[np.minimum(first, len(g.r_species) - 1)], -1)
    sp1 = np.where(n_distinct > 1, g.r_species[np.minimum(first + 1, len(g.r_species) - 1)], -1)
    kind = np.full(g.n_reactions, 3, dtype=np.int64)
    kind[(n_distinct == 1) & (coef0 == 1)] = 0
    kind[(n_distinct == 2) & (coef0 == 1) & (coef1 == 1)] = 1
    kind[(n_distinct == 1) & (coef0 == 2)] = 2
    return kind, sp0.astype(np.int64), sp1.astype(np.int64)


def kernel_arrays(mech: Mechanism, counts0: np.ndarray, c: np.ndarray, reverses: bool = False) -> dict:
    """The flat arrays the kernel reads (int64 CSR; float64 propensity constants), with each
    consumer entry's propensity form (kinetics._ssa_kernel.run_batch) and, with ``reverses``, each
    reaction's reverse (for acceleration; else all -1)."""
    g = mech.graph
    d_ptr, d_sp, d_val = mech.net_change()
    cons_rx = g.c_reaction.astype(np.int64)
    cons_sp = np.repeat(np.arange(g.n_species), np.diff(g.c_ptr))
    kind, sp0, sp1 = reactant_forms(g)
    partner = np.where(sp0[cons_rx] == cons_sp, sp1[cons_rx], sp0[cons_rx])
    entry_kind = kind[cons_rx]
    # the entry of the same A + B reaction in the partner's list
    code = cons_sp * g.n_reactions + cons_rx
    order = np.argsort(code)
    mirror = np.arange(len(cons_rx))
    pair = entry_kind == 1
    mirror[pair] = order[np.searchsorted(code, partner[pair] * g.n_reactions + cons_rx[pair], sorter=order)]
    # within each species' segment: kinds 0, 2, 3 first, then the A + B entries
    base_slot = np.lexsort((np.arange(len(cons_rx)), pair, cons_sp)).astype(np.int64)
    n_static = np.bincount(cons_sp[~pair], minlength=g.n_species).astype(np.int64)
    return {"counts0": np.asarray(counts0, dtype=np.int64), "c": np.asarray(c, dtype=float),
            "r_ptr": g.r_ptr.astype(np.int64), "r_sp": g.r_species.astype(np.int64),
            "r_coef": g.r_coef.astype(np.int64), "d_ptr": d_ptr, "d_sp": d_sp, "d_val": d_val,
            "cons_ptr": g.c_ptr.astype(np.int64), "cons_rx": cons_rx, "cons_kind": entry_kind,
            "cons_partner": partner.astype(np.int64), "cons_sp": cons_sp.astype(np.int64),
            "cons_mirror": mirror.astype(np.int64), "base_slot": base_slot, "n_static": n_static,
            "leaf_rx": leaf_order(sp0, sp1),
            "partner_rx": reverse_partners(g) if reverses else np.full(g.n_reactions, -1, dtype=np.int64)}


def dense_arrays(mech: Mechanism, counts0: np.ndarray, c: np.ndarray) -> dict:
    """The arrays of the species-factorised kernel (kinetics._ssa_dense): reactions grouped into
    channels by their reactants, each channel's running sum of constants, and the per-species sums
    U (A -> ...), D (A + A -> ...) and M (A + B -> ..., half in each of M[A, B] and M[B, A]).
    Needs every reaction in kinds 0-2 (reactant_forms)."""
    g = mech.graph
    S, R = g.n_species, g.n_reactions
    kind, sp0, sp1 = reactant_forms(g)
    if np.any(kind == 3):
        raise ValueError("the dense kernel needs every reaction to be A, A + A or A + B; this network has "
                         f"{int(np.sum(kind == 3))} others: use kernel='tree'")
    c = np.asarray(c, dtype=float)
    lo, hi = np.minimum(sp0, sp1), np.maximum(sp0, sp1)
    key = np.where(kind == 0, sp0, np.where(kind == 2, S + sp0, 2 * S + lo * S + hi))
    order = np.lexsort((np.arange(R), key))
    keys, start = np.unique(key[order], return_index=True)
    ch_ptr = np.append(start, R).astype(np.int64)
    ch_cum = np.empty(R)
    for i in range(len(keys)):
        ch_cum[ch_ptr[i]:ch_ptr[i + 1]] = np.cumsum(c[order[ch_ptr[i]:ch_ptr[i + 1]]])
    total = ch_cum[ch_ptr[1:] - 1] if R else np.zeros(0)
    uni_ch, self_ch = np.full(S, -1, dtype=np.int64), np.full(S, -1, dtype=np.int64)
    pair_ch = np.full(S * S, -1, dtype=np.int64)
    U, D, M = np.zeros(S), np.zeros(S), np.zeros((S, S))
    ids = np.arange(len(keys))
    uni = keys < S
    uni_ch[keys[uni]], U[keys[uni]] = ids[uni], total[uni]
    own = (keys >= S) & (keys < 2 * S)
    self_ch[keys[own] - S], D[keys[own] - S] = ids[own], total[own]
    pair = keys >= 2 * S
    a, b = np.divmod(keys[pair] - 2 * S, S)
    pair_ch[a * S + b] = pair_ch[b * S + a] = ids[pair]
    M[a, b] = M[b, a] = total[pair] / 2.0
    d_ptr, d_sp, d_val = mech.net_change()
    return {"counts0": np.asarray(counts0, dtype=np.int64), "U": U, "D": D, "M": M, "uni_ch": uni_ch,
            "self_ch": self_ch, "pair_ch": pair_ch, "ch_ptr": ch_ptr, "ch_rx": order.astype(np.int64),
            "ch_cum": ch_cum, "d_ptr": d_ptr, "d_sp": d_sp, "d_val": d_val}


def choose_kernel(mech: Mechanism, kernel: str, accelerate: Acceleration | None) -> str:
    """'dense' or 'tree' for ``kernel`` ('auto', 'dense', 'tree'). Auto takes the dense kernel for
    networks of at most DENSE_MAX_SPECIES species whose reactions all have one or two reactants,
    without acceleration (measured in benchmarks/kinetics.py)."""
    if kernel not in ("auto", "dense", "tree"):
        raise ValueError(f"kernel {kernel!r} is not valid: give 'auto', 'dense' or 'tree'")
    simple = bool(np.all(reactant_forms(mech.graph)[0] < 3))
    if kernel == "dense" and (accelerate is not None or not simple):
        raise ValueError("kernel 'dense' runs only without acceleration and with reactions of one or two "
                         "reactants: use kernel 'tree' or 'auto'")
    if kernel == "auto":
        small = mech.n_species <= DENSE_MAX_SPECIES
        return "dense" if small and simple and accelerate is None else "tree"
    return kernel


def simulate(mech: Mechanism, initial: dict[int, int], trajectories: int, *, steps: int | None = None,
             time: float | None = None, seed: int = 0, mode: str = "physical", volume: float | None = None,
             factors: tuple[float, float, float] = RNMC_FACTORS, grid_points: int = DEFAULT_GRID_POINTS,
             record_events: bool = False, workers: int = 1, scheduler: str | None = None,
             batch_size: int | None = None, log_grid: bool = False, log_decades: int = LOG_GRID_DECADES,
             accelerate: Acceleration | None = None, kernel: str = "auto") -> SSAResult:
    """Run ``trajectories`` Gillespie trajectories from ``initial`` (species index -> molecules) for
    ``steps`` events and/or simulated ``time`` (s, or RNMC units in RNMC mode), whichever comes
    first. ``mode``/``volume`` (L)/``factors`` set the propensities (kinetics.mechanism).
    ``record_events`` keeps every event's reaction and time (needs ``steps``). ``workers`` threads
    run batches here; ``scheduler`` (tcp://HOST:PORT) sends them to a Dask cluster instead.
    ``log_grid`` (with ``time``): record at t = 0 and on a logarithmic grid over the last
    ``log_decades`` decades of ``time``, for chemistry that spans time scales.
    ``accelerate`` scales down fast quasi-equilibrated reversible pairs (kinetics.acceleration):
    an approximation that lets a stiff network reach long times; off by default (exact SSA).
    ``kernel``: 'tree' (sum tree, any network), 'dense' (species-factorised, small networks) or
    'auto' (choose_kernel). Both are the exact direct method; the same seed gives the same
    trajectory with the same kernel, and the kernels draw different (equally distributed) ones."""
    if steps is None and time is None:
        raise ValueError("give a number of steps or a simulated time to stop at (or both)")
    if steps is not None and (int(steps) != steps or steps < 0):
        raise ValueError(f"steps {steps!r} is not valid: give a non-negative whole number of events")
    if time is not None and not time > 0:
        raise ValueError(f"time {time!r} is not valid: give a positive simulated time")
    if int(trajectories) != trajectories or trajectories < 1:
        raise ValueError(f"trajectories {trajectories!r} is not valid: give a positive whole number")
    if record_events and steps is None:
        raise ValueError("recording every event needs a step limit (--steps) to size the record")
    if workers < 1:
        raise ValueError(f"workers {workers!r} is not valid: give 1 or more")
    c = mech.propensity_constants(mode, volume, factors)
    kernel = choose_kernel(mech, kernel, accelerate)
    if kernel == "dense":
        arrays = dense_arrays(mech, mech.counts(initial), c)
    else:
        arrays = kernel_arrays(mech, mech.counts(initial), c, reverses=accelerate is not None)
    accel = OFF if accelerate is None else accelerate.as_array()
    max_steps = -1 if steps is None else int(steps)
    t_end = np.inf if time is None else float(time)
    n_grid = max(int(grid_points), 2)
    if log_grid and time is None:
        raise ValueError("a logarithmic recording grid needs a simulated time (--time) to end at")
    if time is not None and log_grid:
        top = np.log10(t_end)
        if not log_decades > 0:
            raise ValueError(f"log_decades {log_decades!r} is not valid: give a positive number of decades")
        grid, in_time = np.append(0.0, np.logspace(top - log_decades, top, n_grid - 1)), True
    elif time is not None:
        grid, in_time = np.linspace(0.0, t_end, n_grid), True
    else:
        grid, in_time = np.unique(np.linspace(0, max_steps, n_grid).round()).astype(float), False
    seeds = int(seed) + np.arange(int(trajectories), dtype=np.int64)
    n_batches = max(1, workers) if batch_size is None else max(1, -(-len(seeds) // batch_size))
    chunks = [ch for ch in np.array_split(seeds, n_batches) if len(ch)]
    args = (max_steps, t_end, grid, in_time, record_events, accel)

    start = _time.perf_counter()
    if scheduler is not None:
        from dask.distributed import Client
        with Client(scheduler) as client:
            futures = [client.submit(_run_chunk, arrays, ch, *args, pure=False) for ch in chunks]
            parts = client.gather(futures)
    elif workers > 1 and len(chunks) > 1:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda ch: _run_chunk(arrays, ch, *args), chunks))
    else:
        parts = [_run_chunk(arrays, ch, *args) for ch in chunks]
    wall = _time.perf_counter() - start

    cat = lambda key: np.concatenate([p[key] for p in parts])  # noqa: E731
    n = len(seeds)
    gsum = sum(p["grid_sum"] for p in parts)
    gsq = sum(p["grid_sq"] for p in parts)
    gmean = gsum / n
    gstd = np.sqrt(np.maximum(gsq - n * gmean ** 2, 0.0) / max(n - 1, 1))
    params = {"steps": steps, "time": time, "seed": int(seed), "mode": mode, "volume_L": volume,
              "factors": list(factors) if mode == "rnmc" else None, "rate_source": mech.rate_source,
              "rate_units": mech.units, "workers": workers, "dask": scheduler is not None, "kernel": kernel,
              "acceleration": None if accelerate is None else accelerate.describe()}
    return SSAResult(seeds, cat("final"), grid, in_time, gmean, gstd, sum(p["firings"] for p in parts),
                     cat("steps"), cat("end_time"), wall, mode, params,
                     cat("events") if record_events else None,
                     cat("event_times") if record_events else None,
                     cat("alpha") if accelerate is not None else None)
