"""Rejection-free kinetic Monte Carlo of one reactive step of hybrid MD/MC growth.

Between two MD segments the cell's chemistry runs for the chemical time dt of a reactive step with
the sites frozen where the MD left them: the direct method (Gillespie) over every candidate that
meets the geometric condition (_kmc_kernel.add_site_candidates: electrode, unimolecular and pair
candidates with their tunnelling and reaction-shell weights). Each event replaces its reactants by its products at
once, and the products' own candidates (with their neighbours at that moment) join at once, so a
site can react several times in one step (A -> B -> C) and a slow exit of a fast reversible pair
fires at its own rate, not once per step. For one candidate on its own this is exact first-order
kinetics for any dt; what it leaves out is motion during dt (the MD moves the sites between steps).

Fast reversible pairs (Li+ coordination, electron transfer back and forth, ring flips of radical
anions: 10^9-10^13 s^-1 on the network's rates) would take nearly every event. As in the well-mixed
SSA (kinetics.acceleration), both rate constants of a pair seen to be quasi-equilibrated are divided
by the same alpha >= 1, which keeps its equilibrium constant (Dybeck, Plaisance & Neurock, J. Chem.
Theory Comput. 13, 1525 (2017)), with the same window rule (kinetics._ssa_kernel.rescale_window).
alpha and the open window's counts carry over from step to step and are checkpointed. A step that
reaches ``max_events`` events stops there (counted in ``truncated_steps``: raise max_events, or
shorten the step). The event loop is compiled (growth._kmc_kernel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sei_net.constants import AVOGADRO
from sei_net.growth import _kmc_kernel as kernel
from sei_net.growth.chemistry import GrowthChemistry
from sei_net.growth.phases import GAS
from sei_net.growth.reactive import FAMILIES, Candidates, ReactiveSettings
from sei_net.growth.state import GrowthState, thermal_velocities
from sei_net.kinetics._ssa_kernel import rng_state
from sei_net.kinetics.acceleration import OFF, Acceleration


def _grown(a: np.ndarray, size: int, fill=0) -> np.ndarray:
    out = np.full((size,) + a.shape[1:], fill, dtype=a.dtype)
    out[:len(a)] = a
    return out


def _candidate_arrays(size: int, old: dict | None = None) -> dict[str, np.ndarray]:
    """Candidate columns with room for ``size`` (rows of ``old`` kept): i = (family, site i, site j
    or -1, channel entry; -1 family: a free slot), w = weight, p = propensity (s^-1), free = stack."""
    if old is not None:
        return {k: _grown(v, size, -1 if k == "i" else 0) for k, v in old.items()}
    return {"i": np.full((size, 4), -1, dtype=np.int64), "w": np.zeros(size), "p": np.zeros(size),
            "free": np.zeros(size, dtype=np.int64)}


@dataclass
class _Cell:
    """One step's sites (growable columns: species, position Å, sigma Å, alive, original, free-slot
    stack), candidates (_candidate_arrays), counters (kernel.run's ``meta``) and the kernel's
    chemistry and geometry arguments."""

    n0: int
    sites: dict[str, np.ndarray]
    cand: dict[str, np.ndarray]
    meta: np.ndarray
    geometry: tuple


class ReactiveKMC:
    """The rate-based reactive step (module docstring). ``acceleration`` None switches the rate
    scaling off (exact kinetics for frozen positions)."""

    def __init__(self, chem: GrowthChemistry, settings: ReactiveSettings,
                 acceleration: Acceleration | None = Acceleration(), max_events: int = 200_000):
        if max_events < 1:
            raise ValueError(f"max_events {max_events!r} must be a positive whole number")
        self.chem, self.settings, self.max_events = chem, settings, int(max_events)
        self.params = acceleration.as_array() if acceleration is not None else OFF.copy()
        R, S = chem.n_reactions, chem.n_species
        self.alpha = np.ones(R)
        self.fired = np.zeros(R, dtype=np.int64)
        self.window = np.zeros(2)                 # open window: events, time (s)
        self.truncated_steps = 0
        families = [chem.electrode, chem.unimolecular, chem.pair]
        self.offsets = np.zeros(len(families), dtype=np.int64)   # first entry of each family
        ptr = [0]
        for f, ch in enumerate(families):
            self.offsets[f] = len(ptr) - 1
            ptr.extend(np.asarray(ch.ptr[1:]) + ptr[-1])
        self.ptr = np.array(ptr, dtype=np.int64)
        self.rate = np.concatenate([ch.rate for ch in families]).astype(float)
        self.reaction = np.concatenate([ch.reaction for ch in families]).astype(np.int64)
        self.totals = np.zeros(len(self.ptr) - 1)
        kernel.entry_totals(self.ptr, self.rate, self.reaction, self.alpha, self.totals)
        every = np.arange(S)
        self.e_entry = chem.electrode.lookup(every)
        self.u_entry = chem.unimolecular.lookup(every)
        self.pair_partner = np.zeros(S, bool)
        self.pair_partner[chem.pair.keys // S] = True
        self.pair_partner[chem.pair.keys % S] = True
        self.prod_ptr = np.concatenate([[0], np.cumsum([len(p) for p in chem.products])]).astype(np.int64)
        self.prod_sp = np.array([q for p in chem.products for q in p], dtype=np.int64)

    # -- state carried between steps (checkpointed) --
    def get_state(self) -> dict[str, np.ndarray]:
        return {"kmc_alpha": self.alpha.copy(), "kmc_fired": self.fired.copy(),
                "kmc_window": np.array([*self.window, self.truncated_steps], dtype=float)}

    def set_state(self, saved) -> None:
        self.alpha = np.array(saved["kmc_alpha"], dtype=float)
        self.fired = np.array(saved["kmc_fired"], dtype=np.int64)
        events, time, truncated = saved["kmc_window"]
        self.window = np.array([events, time])
        self.truncated_steps = int(truncated)
        kernel.entry_totals(self.ptr, self.rate, self.reaction, self.alpha, self.totals)

    def scaling_summary(self) -> dict:
        """How many reactions run with scaled rate constants, and by how much."""
        return {"method": "rate scaling of quasi-equilibrated reversible pairs (Dybeck, Plaisance & "
                          "Neurock, JCTC 13, 1525 (2017))" if self.params[0] > 0 else "off",
                "scaled_pairs": int((self.alpha > 1.0).sum() // 2),
                "max_alpha": float(self.alpha.max()) if len(self.alpha) else 1.0,
                "truncated_steps": self.truncated_steps}

    # -- one reactive step --
    def step(self, state: GrowthState, rng: np.random.Generator, temperature: float
             ) -> tuple[list[dict], dict[int, int]]:
        """Run the cell's chemistry for one step of chemical time, then write the result into
        ``state``; returns (events as {"family", "reaction"}, gas molecules released per species)."""
        s, chem, table = self.settings, self.chem, state.sites
        cell = self._cell(state)
        sites, cand, meta = cell.sites, cell.cand, cell.meta
        sigma_sp = np.asarray(table.sigma, dtype=float)
        gas_sp = np.asarray(table.phase) == GAS
        ev_fam = np.zeros(self.max_events, dtype=np.int64)
        ev_rx = np.zeros(self.max_events, dtype=np.int64)
        gas_counts = np.zeros(chem.n_species, dtype=np.int64)
        clock = np.zeros(1)
        c_base = np.asarray(chem.rate_constant, dtype=float)
        ceff = c_base / self.alpha
        stream = rng_state(int(rng.integers(2 ** 63)))
        while True:
            status = kernel.run(clock, s.dt, self.max_events, stream, sites["sp"], sites["pos"], sites["sig"],
                                sites["alive"], sites["orig"], sites["free"], *cell.geometry,
                                self.ptr, self.rate, self.reaction, self.prod_ptr, self.prod_sp, sigma_sp, gas_sp,
                                cand["i"], cand["w"], cand["p"], self.totals, cand["free"], meta,
                                self.alpha, c_base, ceff, chem.partner, self.fired, self.window, self.params,
                                ev_fam, ev_rx, gas_counts)
            if status != kernel.NEED_ROOM:
                break
            sites = {k: _grown(v, 2 * len(sites["sp"])) for k, v in sites.items()}
            cand = _candidate_arrays(2 * len(cand["p"]), cand)
        if status == kernel.MAX_EVENTS:
            self.truncated_steps += 1
        n_events = int(meta[4])
        events = [{"family": FAMILIES[f], "reaction": int(r)} for f, r in zip(ev_fam[:n_events], ev_rx[:n_events])]
        gases = {int(p): int(n) for p, n in enumerate(gas_counts) if n}
        self._commit(state, sites, cell.n0, int(meta[0]), rng, temperature)
        return events, gases

    def candidates(self, state: GrowthState) -> Candidates:
        """Every site, pair and electrode contact of ``state`` that meets the geometric condition
        and has a channel, with its weight (the Metropolis step proposes from these)."""
        cell = self._cell(state)
        used = cell.meta[2]
        live = cell.cand["i"][:used, 0] >= 0
        rows = cell.cand["i"][:used][live]
        fam = rows[:, 0]
        return Candidates(fam, rows[:, 1], rows[:, 2], rows[:, 3] - self.offsets[fam], cell.cand["w"][:used][live])

    def _cell(self, state: GrowthState) -> _Cell:
        """The step's tables from ``state``, with the candidates of every mobile site (the
        geometric condition: kernel.add_site_candidates)."""
        s, chem = self.settings, self.chem
        n0 = state.n
        mobile = state.mobile.cpu().numpy()
        pos = state.positions.cpu().numpy()
        sig = state.sigma.cpu().numpy()
        box = state.box.cpu().numpy().astype(float)
        dep_pos, dep_r = pos[~mobile].copy(), 0.5 * sig[~mobile]
        reach_top = s.reach + (float((dep_pos[:, 2] + dep_r).max()) if len(dep_r) else 0.0)
        settings = np.array([s.reach, s.beta, s.shell, reach_top, AVOGADRO])
        cap = n0 + 4 * kernel.SITE_ROOM
        sites = {"sp": _grown(state.species.cpu().numpy().astype(np.int64), cap), "pos": _grown(pos, cap),
                 "sig": _grown(sig, cap), "alive": _grown(mobile, cap), "orig": _grown(np.ones(n0, bool), cap),
                 "free": np.zeros(cap, dtype=np.int64)}
        cand = _candidate_arrays(16 * n0 + 4 * kernel.CANDIDATE_ROOM)
        meta = np.array([n0, 0, 0, 0, 0], dtype=np.int64)
        geometry = (self.e_entry, self.u_entry, self.pair_partner, chem.pair.keys.astype(np.int64),
                    self.offsets, chem.n_species, settings, box, dep_pos, dep_r)
        for k in np.flatnonzero(mobile):
            if len(cand["p"]) - meta[2] < kernel.CANDIDATE_ROOM:
                cand = _candidate_arrays(2 * len(cand["p"]), cand)
            kernel.add_site_candidates(k, k, sites["sp"], sites["pos"], sites["sig"], sites["alive"],
                                       *geometry, cand["i"], cand["w"], cand["p"], self.totals,
                                       cand["free"], meta)
        return _Cell(n0, sites, cand, meta, geometry)

    @staticmethod
    def _commit(state: GrowthState, sites: dict, n0: int, used: int, rng, temperature: float) -> None:
        """Write the step's result into the state: consumed sites removed, surviving products added."""
        alive, orig = sites["alive"][:used], sites["orig"][:used]
        mobile = state.mobile.cpu().numpy()
        remove = np.flatnonzero(~(alive[:n0] & orig[:n0]) & mobile)
        new = np.flatnonzero(alive & ~orig)
        if len(remove) or len(new):
            sp = sites["sp"][new]
            state.edit(remove, sp, sites["pos"][new], thermal_velocities(state.sites.mass[sp], temperature, rng))
