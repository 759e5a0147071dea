"""The growth loop: build the cell, alternate Langevin MD with reactive MC steps, deposit, keep the
reservoir, record, checkpoint and resume, write the results (docs/growth.md)."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from sei_net.constants import AVOGADRO, BOLTZMANN_EV
from sei_net.growth import analysis
from sei_net.growth.boundaries import deposit, refresh_reservoir, reservoir_targets
from sei_net.growth.chemistry import GrowthChemistry
from sei_net.growth.dynamics import Langevin, relax
from sei_net.growth.forcefield import BACKENDS, EC_DIELECTRIC, debye_length, site_model
from sei_net.growth.kmc import ReactiveKMC
from sei_net.growth.reactive import ReactiveSettings, apply_events, metropolis_events
from sei_net.growth.sites import DEFAULT_PACKING, SiteTable
from sei_net.growth.state import GrowthState, resolve_device, thermal_velocities
from sei_net.kinetics.acceleration import Acceleration

CHECKPOINT = "checkpoint.npz"


@dataclass(frozen=True)
class GrowthConfig:
    """Settings of a growth run (units in the comments; docs/growth.md gives each value's origin)."""

    box_xy: float = 40.0          # Å, cell edge in x and y (periodic)
    height: float = 60.0          # Å, electrode (z = 0) to the closed top
    reservoir: float = 10.0       # Å, bulk slab at the top
    packing: float = DEFAULT_PACKING
    temperature: float = 298.15   # K
    dt_fs: float = 5.0            # fs, MD time step
    friction: float = 0.01        # 1/fs, Langevin friction
    md_steps: int = 100           # MD steps between reactive steps
    reactive_dt: float = 1e-9     # s of chemical time per reactive step
    beta: float = 1.0             # 1/Å, electron tunnelling decay through the deposit
    reach: float = 3.0            # Å, largest surface gap for electron transfer
    shell: float = 1.0            # Å, reaction shell beyond contact
    acceptance: str = "rate"      # rate (kinetic MC within each step) | metropolis
    accelerate: bool = True       # rate scaling of quasi-equilibrated reversible pairs (growth.kmc)
    separation: float = 10.0      # pair firings kept per slow event when scaled (docs/growth.md)
    max_events: int = 200_000     # events per reactive step before it stops early
    proposal: float = 0.1         # Metropolis proposal probability per channel
    relax_steps: int = 20         # capped steepest-descent moves after reactions/insertions
    contact: float = 0.5          # Å, deposition contact distance
    overlap: float = 0.85         # deposits stay >= overlap * sigma_ij apart
    dielectric: float = EC_DIELECTRIC
    epsilon: float | None = None  # eV, WCA depth (None: kB*T)
    checkpoint_every: int = 20    # reactive steps
    frame_every: int = 20         # reactive steps between trajectory frames
    seed: int = 0
    device: str = "auto"
    backend: str = "auto"

    def __post_init__(self):
        if self.reservoir >= self.height or min(self.box_xy, self.height, self.reservoir) <= 0:
            raise ValueError("box_xy, height and reservoir (Å) must be positive, reservoir < height")
        if self.md_steps < 0 or self.relax_steps < 0 or self.checkpoint_every < 1 or self.frame_every < 1:
            raise ValueError("md_steps and relax_steps must be >= 0, checkpoint_every and frame_every >= 1")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend {self.backend!r} is not valid: use one of {', '.join(BACKENDS)}")
        self.reactive()  # validates those settings
        self.acceleration()
        if self.max_events < 1:
            raise ValueError(f"max_events {self.max_events!r} must be a positive whole number")

    def acceleration(self) -> Acceleration | None:
        return Acceleration(separation=self.separation) if self.accelerate else None

    def reactive(self) -> ReactiveSettings:
        return ReactiveSettings(self.reactive_dt, self.beta, self.reach, self.shell, self.acceptance,
                                self.proposal, self.temperature)


@dataclass
class GrowthResult:
    state: GrowthState
    summary: dict
    series: dict = field(default_factory=dict)


def _ionic_strength(bulk: dict[int, float], sites: SiteTable) -> float:
    return 0.5 * sum(c * sites.charge[s] ** 2 for s, c in bulk.items())


def initial_state(sites: SiteTable, bulk: dict[int, float], cfg: GrowthConfig, rng: np.random.Generator,
                  device: torch.device) -> GrowthState:
    """Bulk molecules (c N_A V each, V = box_xy^2 * height) on a shuffled simple-cubic lattice."""
    vol = cfg.box_xy ** 2 * cfg.height
    counts = {s: int(round(c * AVOGADRO * vol * 1e-27)) for s, c in bulk.items()}
    n = sum(counts.values())
    if n == 0:
        raise ValueError("the cell holds no molecules: raise the concentrations or the box size")
    smax = float(max(sites.sigma[s] for s in bulk))
    a = (vol / n) ** (1.0 / 3.0)
    while True:
        nx = max(1, int(cfg.box_xy // a))
        nz = max(1, int((cfg.height - smax) // a) + 1)
        if nx * nx * nz >= n:
            break
        a *= 0.98
    grid = np.stack(np.meshgrid(np.arange(nx), np.arange(nx), np.arange(nz), indexing="ij"), -1).reshape(-1, 3)
    pos = (grid + [0.5, 0.5, 0.0]) * [cfg.box_xy / nx, cfg.box_xy / nx, a] + [0.0, 0.0, 0.5 * smax]
    pos = pos[rng.choice(len(pos), n, replace=False)]
    species = rng.permutation(np.repeat(list(counts), list(counts.values())))
    vel = thermal_velocities(sites.mass[species], cfg.temperature, rng)
    return GrowthState.from_arrays(pos, vel, species, np.ones(n, bool), _box(cfg), sites, device)


def _box(cfg: GrowthConfig) -> list[float]:
    return [cfg.box_xy, cfg.box_xy, cfg.height]


def _config_json(cfg: GrowthConfig) -> str:
    d = dataclasses.asdict(cfg)
    for k in ("checkpoint_every", "frame_every", "device", "backend"):
        d.pop(k)            # these may change between a run and its resumption
    return json.dumps(d, sort_keys=True)


def _save_checkpoint(path: Path, state: GrowthState, step: int, rng, gen, record: dict, cfg,
                     kmc: ReactiveKMC) -> None:
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, positions=state.positions.cpu().numpy(), velocities=state.velocities.cpu().numpy(),
                        species=state.species.cpu().numpy(), mobile=state.mobile.cpu().numpy(),
                        step=step, rng=json.dumps(rng.bit_generator.state), torch_rng=gen.get_state().numpy(),
                        record=json.dumps(record), config=_config_json(cfg),
                        **kmc.get_state())
    os.replace(tmp, path)


def _load_checkpoint(path: Path, cfg: GrowthConfig, sites, device, kmc: ReactiveKMC):
    with np.load(path) as ck:
        if str(ck["config"]) != _config_json(cfg):
            old, new = json.loads(str(ck["config"])), json.loads(_config_json(cfg))
            diff = sorted(k for k in new if old.get(k) != new[k])
            raise ValueError(f"{path} was made with other settings ({', '.join(diff)}): use the same "
                             "settings to resume, or start over (--force / another --out)")
        state = GrowthState.from_arrays(ck["positions"], ck["velocities"], ck["species"], ck["mobile"],
                                        _box(cfg), sites, device)
        kmc.set_state(ck)
        return state, int(ck["step"]), json.loads(str(ck["rng"])), torch.tensor(ck["torch_rng"]), \
            json.loads(str(ck["record"]))


def _add(counter: dict, key, n: int = 1) -> None:
    counter[str(key)] = counter.get(str(key), 0) + n


def grow(chem: GrowthChemistry, sites: SiteTable, bulk: dict[int, float], config: GrowthConfig,
         steps: int, out: str | Path | None = None, force: bool = False, force_field=None,
         progress: Callable[[int, int, dict], None] | None = None) -> GrowthResult:
    """Run ``steps`` reactive steps (each after ``config.md_steps`` MD steps) of hybrid MD/MC growth.

    ``bulk``: species index -> mol/L of the electrolyte (also the reservoir's composition). With
    ``out`` the run checkpoints there and resumes from it (unless ``force``), and writes growth.json,
    growth.png, final.extxyz and trajectory.extxyz. ``force_field`` replaces the one-site model
    (any object with energy_forces, e.g. forcefield.AseForceField)."""
    if steps < 0:
        raise ValueError(f"steps {steps!r} must be >= 0")
    sites.check(list(bulk))
    device = resolve_device(config.device)
    out = Path(out) if out is not None else None
    rs = config.reactive()
    ionic = _ionic_strength(bulk, sites)
    eps = config.epsilon if config.epsilon is not None else BOLTZMANN_EV * config.temperature
    ff = force_field or site_model(config.temperature, ionic, config.dielectric, eps, backend=config.backend)
    gen = torch.Generator(device=device)
    kmc = ReactiveKMC(chem, rs, config.acceleration(), config.max_events)   # also the Metropolis candidates
    ck = out / CHECKPOINT if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    if ck is not None and ck.exists() and not force:
        state, start, rng_state, torch_state, record = _load_checkpoint(ck, config, sites, device, kmc)
        rng = np.random.default_rng()
        rng.bit_generator.state = rng_state
        gen.set_state(torch_state)
    else:
        rng = np.random.default_rng(config.seed)
        gen.manual_seed(config.seed)
        state = initial_state(sites, bulk, config, rng, device)
        relax(state, ff, 50)
        start = 0
        record = {"series": {k: [] for k in ("step", "time", "thickness_mean", "thickness_max", "coverage",
                                             "deposits", "sites", "events")},
                  "events": {}, "families": {}, "deposited": {}, "gases": {}, "escaped": {},
                  "conflicts": 0, "failed_insertions": 0, "frames": 0, "md_seconds": 0.0, "md_site_steps": 0,
                  "wall_seconds": 0.0}
        if out is not None:
            (out / "trajectory.extxyz").unlink(missing_ok=True)
    if out is not None:
        _truncate_frames(out / "trajectory.extxyz", record["frames"])
    md = Langevin(ff, config.dt_fs, config.temperature, config.friction, gen)
    targets = reservoir_targets(bulk, state.box, config.reservoir)
    t_run = time.perf_counter()
    ser = record["series"]
    for step in range(start, steps):
        t0 = time.perf_counter()
        md.run(state, config.md_steps)
        record["md_seconds"] += time.perf_counter() - t0
        record["md_site_steps"] += state.n * config.md_steps
        version = state.version
        if rs.acceptance == "rate":
            events, gases = kmc.step(state, rng, config.temperature)
            conflicts = 0
        else:
            fired = metropolis_events(kmc.candidates(state), chem, rs, rng)
            events, gases, conflicts = apply_events(state, chem, fired, rng, config.temperature)
        escaped, failed = refresh_reservoir(state, targets, config.reservoir, rng, config.temperature)
        if state.version != version:
            relax(state, ff, config.relax_steps)
            md.invalidate()
        new_deposits = deposit(state, config.contact, config.overlap)
        for e in events:
            _add(record["events"], e["reaction"])
            _add(record["families"], e["family"])
        for s in new_deposits:
            _add(record["deposited"], sites.names[s])
        for s, n in gases.items():
            _add(record["gases"], sites.names[s], n)
        for s, n in escaped.items():
            _add(record["escaped"], sites.names[s], n)
        record["conflicts"] += conflicts
        record["failed_insertions"] += failed
        th = analysis.thickness(state)
        for k, v in (("step", step + 1), ("time", (step + 1) * config.reactive_dt), ("thickness_mean", th["mean"]),
                     ("thickness_max", th["max"]), ("coverage", th["coverage"]),
                     ("deposits", int((~state.mobile).sum())), ("sites", state.n), ("events", len(events))):
            ser[k].append(v)
        if progress is not None:
            progress(step + 1, steps, th)
        if out is not None and (step + 1) % config.frame_every == 0:
            from ase.io import write

            write(out / "trajectory.extxyz", state.to_atoms(), format="extxyz", append=True)
            record["frames"] += 1
        if out is not None and ((step + 1) % config.checkpoint_every == 0 or step + 1 == steps):
            record["wall_seconds"] += time.perf_counter() - t_run
            t_run = time.perf_counter()
            _save_checkpoint(ck, state, step + 1, rng, gen, record, config, kmc)
    record["wall_seconds"] += time.perf_counter() - t_run
    summary = _summary(state, chem, sites, bulk, config, record, eps, ionic, ff, kmc)
    if out is not None:
        from ase.io import write

        (out / "growth.json").write_text(json.dumps({**summary, "series": ser}, indent=1))
        write(out / "final.extxyz", state.to_atoms(), format="extxyz")
        analysis.plot(summary, ser, out / "growth.png")
    return GrowthResult(state, summary, ser)


def _truncate_frames(path: Path, frames: int) -> None:
    """Keep the first ``frames`` frames of an extxyz file (frames written after the last checkpoint
    are dropped on resumption, so none appears twice)."""
    if not path.exists():
        return
    from ase.io import read, write

    images = read(path, index=":", format="extxyz")
    if len(images) != frames:
        write(path, images[:frames], format="extxyz")


def _summary(state, chem, sites, bulk, cfg, record, eps, ionic, ff, kmc) -> dict:
    ser = record["series"]
    th = ser["thickness_mean"][-1] if ser["thickness_mean"] else 0.0
    top = sorted(record["events"].items(), key=lambda kv: -kv[1])[:20]
    pair_model = getattr(ff, "fields", [ff])[0]
    return {
        "level_of_theory": {
            "rates": chem.rate_source,
            "model": "one site per molecule: WCA + screened Coulomb (Debye-Hueckel) + WCA walls, Langevin BAOAB",
            "units": "Å, eV, amu, K; MD time fs; chemical time s; density g/cm^3",
        },
        "settings": dataclasses.asdict(cfg),
        "model": {"epsilon_eV": eps, "dielectric": cfg.dielectric, "ionic_strength_M": ionic,
                  "debye_length_A": debye_length(ionic, cfg.dielectric, cfg.temperature),
                  "coulomb_cutoff_A": getattr(pair_model, "coulomb_cutoff", None),
                  "force_backend": getattr(pair_model, "backend", None),
                  "size_scale": sites.size_scale,
                  "bulk": {sites.names[s]: {"mol_per_L": c, "sigma_A": float(sites.sigma[s]),
                                            "mass_amu": float(sites.mass[s]), "charge_e": float(sites.charge[s])}
                           for s, c in bulk.items()}},
        "steps": len(ser["step"]),
        "chemical_time_s": ser["time"][-1] if ser["time"] else 0.0,
        "md_time_per_step_fs": cfg.md_steps * cfg.dt_fs,
        "thickness_A": {"final_mean": th, "final_max": ser["thickness_max"][-1] if ser["thickness_max"] else 0.0,
                        "coverage": ser["coverage"][-1] if ser["coverage"] else 0.0},
        "growth_law": analysis.growth_laws(np.array(ser["time"]), np.array(ser["thickness_mean"])),
        "porosity": analysis.porosity(state, th),
        "layer_order": analysis.layer_order(state),
        "profiles": analysis.profiles(state),
        "events": {"by_family": record["families"],
                   "top_reactions": [{"reaction": chem.describe(int(j)), "count": n} for j, n in top],
                   "conflicts": record["conflicts"],
                   "rate_scaling": kmc.scaling_summary() if cfg.acceptance == "rate" else None},
        "deposited": record["deposited"], "gases_released": record["gases"],
        "escaped_to_bulk": record["escaped"], "failed_insertions": record["failed_insertions"],
        "skipped_reactions": chem.skipped,
        "wall_seconds": round(record["wall_seconds"], 3),
        "md_site_steps_per_second": (record["md_site_steps"] / record["md_seconds"]
                                     if record["md_seconds"] > 0 else None),
    }


def growth_mechanism(query) -> tuple:
    """(mechanism, dG in eV per mechanism reaction) of a prepared network (kinetics.query.PathQuery)
    for growth: rate constants without the encounter limit of well-mixed kinetics (kinetics.rates),
    since MD moves the molecules and so simulates their encounters; pairs in contact react at the
    activation-controlled TST rate."""
    from sei_net.kinetics.mechanism import mechanism_from_query

    if query.rate_model.viscosity is not None:
        query = query.with_rate_model(dataclasses.replace(query.rate_model, viscosity=None))
    mech = mechanism_from_query(query)
    return mech, query.scores.dG[np.isin(query.graph.reaction_id, mech.graph.reaction_id)]


def grow_network(recipe, network: str | Path, config: GrowthConfig | None = None, steps: int = 200,
                 out: str | Path | None = None, source: str | None = None, rates: str | None = None,
                 force: bool = False, progress=None, query=None) -> GrowthResult:
    """Grow an SEI for ``recipe`` (a Recipe or its file/name) with the reactions and rate constants of
    the network file ``network``: stored rates (``rates``) or rates from its energies (``source``) at
    the recipe's potential and temperature. ``query``: that network already prepared at the recipe's
    potential and temperature (kinetics.query.PathQuery, open store), used instead of scoring again."""
    from contextlib import nullcontext

    from sei_net.growth.phases import load_phase_rules
    from sei_net.growth.sites import site_table
    from sei_net.kinetics.setup import load_mechanism
    from sei_net.recipe import Recipe, load_recipe
    from sei_net.store import NetworkStore

    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    config = config or GrowthConfig(temperature=recipe.temperature)
    if abs(config.temperature - recipe.temperature) > 1e-9:
        raise ValueError(f"growth temperature {config.temperature} K differs from the recipe's "
                         f"{recipe.temperature} K, at which the rates are made: give the recipe's temperature")
    with (nullcontext(query.store) if query is not None else NetworkStore.open(network, readonly=True)) as store:
        if rates is not None:
            mech, dG = load_mechanism(store, rates=rates)[0], None
        else:
            if query is None:
                query = load_mechanism(store, energy_source=source, potential=recipe.potential,
                                       temperature=recipe.temperature)[1]
            mech, dG = growth_mechanism(query)
        ids = store.species_ids
        missing = [s.species.name or s.species.smiles for s in recipe.species if s.species.key not in ids]
        if missing:
            raise ValueError(f"recipe species {', '.join(missing)} are not in {network}: build the "
                             "network from this recipe")
        bulk = {ids[s.species.key]: s.concentration for s in recipe.species if s.concentration > 0}
        species = store.all_species()
    chem = GrowthChemistry.from_mechanism(mech, dG)
    sites = site_table(species, mech.n_species, load_phase_rules(), bulk, config.packing)
    return grow(chem, sites, bulk, config, steps, out, force, progress=progress)
