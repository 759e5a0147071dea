"""Hybrid MD/MC growth: forces against an independent route and finite differences, NVE energy
conservation, detailed balance of the Metropolis option, exact first-order decay of the rate
acceptance (several events per site and step, rate scaling of fast reversible pairs), deposits that
never overlap, tunnelling-limited (saturating) growth, checkpoint/resume."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from sei_net.chem.known import KNOWN_SEI_SPECIES as KNOWN
from sei_net.chem.species import Species
from sei_net.constants import BOLTZMANN_EV
from sei_net.growth import GrowthConfig, grow
from sei_net.growth.chemistry import GrowthChemistry
from sei_net.growth.dynamics import Langevin
from sei_net.growth.forcefield import AseForceField, PairModel, debye_length, site_model
from sei_net.growth.phases import PhaseRulesError, load_phase_rules
from sei_net.growth.kmc import ReactiveKMC
from sei_net.growth.reactive import ReactiveSettings, apply_events, metropolis_events
from sei_net.growth.sites import site_table
from sei_net.growth.state import GrowthState
from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.mechanism import Mechanism

NAMES = ["-", "EC", "Li+", "PF6-", "LiEC_RO", "LEDC", "C2H4", "Li2CO3", "DMC"]
SMILES = {i: KNOWN.get(n, "COC(=O)OC") for i, n in enumerate(NAMES) if i}
BULK = {1: 14.0, 2: 1.0, 3: 1.0}


@pytest.fixture(scope="module")
def sites():
    species = {i: Species.from_smiles(s) for i, s in SMILES.items()}
    return site_table(species, len(NAMES), load_phase_rules(), BULK)


def schematic(reactants, products, electrons, rates, dG=None) -> GrowthChemistry:
    """A hand-written mechanism over NAMES (rates in s^-1 / L mol^-1 s^-1)."""
    g = HyperGraph.from_lists(reactants, products, electrons=electrons, kinds=["other"] * len(rates),
                              n_species=len(NAMES))
    return GrowthChemistry.from_mechanism(Mechanism(g, rates, NAMES, "schematic", ""), dG)


def sei_chemistry(li2co3_rate: float = 1e9) -> GrowthChemistry:
    """EC + e- -> LiEC_RO; 2 LiEC_RO -> LEDC + C2H4 (anywhere); LiEC_RO + e- -> Li2CO3 + C2H4 (at the
    electrode): the EC-reduction picture in miniature (not balanced; rates chosen, not computed)."""
    return schematic([[1], [4, 4], [4]], [[4], [5, 6], [7, 6]], [1, 0, 1], [1e10, 1e9, li2co3_rate])


def bulk_state(sites, n_side=7, seed=0, jitter=0.3) -> GrowthState:
    rng = np.random.default_rng(seed)
    a = 5.0
    grid = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3) * a + a / 2
    sp = rng.choice([1] * 12 + [2, 3], len(grid))
    pos = torch.tensor(grid + rng.normal(scale=jitter, size=grid.shape))
    box = torch.tensor([n_side * a, n_side * a, n_side * a + 2.0], dtype=torch.float64)
    state = GrowthState(pos, torch.zeros_like(pos), torch.tensor(sp), torch.ones(len(sp), dtype=torch.bool), box, sites)
    state.wrap()
    return state


def test_numba_and_torch_forces_agree_and_match_finite_differences(sites):
    state = bulk_state(sites)
    lam = debye_length(1.0)
    e_nb, f_nb = PairModel(0.0257, debye=lam, backend="numba").energy_forces(state, True)
    e_t, f_t = PairModel(0.0257, debye=lam, backend="torch").energy_forces(state, True)
    assert float(e_nb) == pytest.approx(float(e_t), rel=1e-10)
    assert torch.allclose(f_nb, f_t, atol=1e-10)
    assert torch.allclose(f_nb.sum(0), torch.zeros(3, dtype=f_nb.dtype), atol=1e-9)   # Newton's third law
    model = site_model(298.15, 1.0, backend="numba")
    _, f = model.energy_forces(state)
    h = 1e-5
    for k in (0, 5, int(torch.nonzero(state.charge).flatten()[0])):
        for a in range(3):
            state.positions[k, a] += h
            ep = float(model.energy_forces(state, True)[0])
            state.positions[k, a] -= 2 * h
            em = float(model.energy_forces(state, True)[0])
            state.positions[k, a] += h
            assert -(ep - em) / (2 * h) == pytest.approx(float(f[k, a]), abs=1e-6)


def test_ase_calculator_adapter_reproduces_wca(sites):
    from ase.calculators.lj import LennardJones

    state = bulk_state(sites)
    state.species[:] = 1                       # one kind of site: WCA is LJ cut at 2^(1/6) sigma
    state.refresh()
    sigma = float(state.sigma[0])
    eps = 0.0257
    ase_ff = AseForceField(LennardJones(sigma=sigma, epsilon=eps, rc=2 ** (1 / 6) * sigma, smooth=False))
    e_ase, f_ase = ase_ff.energy_forces(state, True)
    e, f = PairModel(eps, coulomb=False).energy_forces(state, True)
    assert float(e) > 0.1                     # the jittered lattice has overlapping pairs
    assert torch.allclose(f_ase, f, atol=1e-8)
    assert float(e_ase) == pytest.approx(float(e), rel=1e-8)


def test_nve_conserves_energy_with_second_order_error(sites):
    """Velocity Verlet (BAOAB without friction): no drift, and the energy fluctuation falls ~dt^2."""
    state = bulk_state(sites, jitter=0.0)
    model = site_model(298.15, 1.0)
    Langevin(model, 5.0, 298.15, 0.01, torch.Generator().manual_seed(0)).run(state, 400)
    spread = {}
    for dt in (4.0, 2.0):
        s = GrowthState(state.positions.clone(), state.velocities.clone(), state.species.clone(),
                        state.mobile.clone(), state.box, sites)
        nve = Langevin(model, dt, 298.15, 0.0)
        energies = [nve.total_energy(s)]
        for _ in range(40):
            nve.run(s, int(80 / dt))
            energies.append(nve.total_energy(s))
        e = np.array(energies) / s.n
        assert abs(e[-1] - e[0]) < 2e-4            # eV per site over 3.2 ps (kB T = 0.0257 eV)
        spread[dt] = e.std()
    assert spread[4.0] / spread[2.0] > 2.5          # 4 for an exactly second-order integrator


def _two_state(sites, chem, n=3000, steps=300, proposal=0.5, dt=1e-9, acceptance="metropolis", seed=1):
    rng = np.random.default_rng(seed)
    pos = torch.tensor(rng.random((n, 3)) * [60.0, 60.0, 40.0] + [0, 0, 10.0])
    state = GrowthState(pos, torch.zeros_like(pos), torch.ones(n, dtype=torch.long), torch.ones(n, dtype=torch.bool),
                        torch.tensor([60.0, 60.0, 60.0], dtype=torch.float64), sites)
    rs = ReactiveSettings(dt=dt, acceptance=acceptance, proposal=proposal, reach=0.0)
    kmc = ReactiveKMC(chem, rs, acceleration=None)
    frac = []
    for _ in range(steps):
        if acceptance == "rate":
            kmc.step(state, rng, 298.15)
        else:
            apply_events(state, chem, metropolis_events(kmc.candidates(state), chem, rs, rng), rng, 298.15)
        frac.append(float((state.species == 8).double().mean()))
    return np.array(frac)


def test_metropolis_obeys_detailed_balance_on_two_states(sites):
    dG = 0.02                                   # eV, EC -> "DMC" stands in for A -> B
    chem = schematic([[1], [8]], [[8], [1]], [0, 0], [1.0, 1.0], dG=np.array([dG, -dG]))
    frac = _two_state(sites, chem)[100:]
    expected = 1.0 / (1.0 + math.exp(dG / (BOLTZMANN_EV * 298.15)))
    # 200 samples, correlated over a few steps: the standard error is under 0.02/sqrt(200/5)
    assert frac.mean() == pytest.approx(expected, abs=0.006)
    assert abs(frac.mean() - 0.5) > 0.1         # far from the dG = 0 answer: the test can fail


def test_rate_acceptance_reproduces_first_order_decay(sites):
    k, dt, n0, steps = 3e8, 1e-9, 5000, 5       # k dt = 0.3: a linearised P = k dt would be far off
    chem = schematic([[1]], [[8]], [0], [k])
    frac_left = 1.0 - _two_state(sites, chem, n=n0, steps=steps, dt=dt, acceptance="rate")
    for m, f in enumerate(frac_left, 1):
        p = math.exp(-k * dt * m)
        assert f == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n0))
    assert abs(frac_left[-1] - (1 - k * dt) ** steps) > 8 * math.sqrt(0.22 * 0.78 / n0)


def _frozen_cell(sites, n, seed):
    """n EC sites spread at random far from the electrode (reach 0 switches electron transfer off)."""
    rng = np.random.default_rng(seed)
    pos = torch.tensor(rng.random((n, 3)) * [60.0, 60.0, 40.0] + [0, 0, 10.0])
    return GrowthState(pos, torch.zeros_like(pos), torch.ones(n, dtype=torch.long), torch.ones(n, dtype=torch.bool),
                       torch.tensor([60.0, 60.0, 60.0], dtype=torch.float64), sites), rng


def test_a_site_reacts_several_times_within_one_step(sites):
    """A -> B -> C with k1 dt = 1 and k2 dt = 2: after one step the fraction of C is the Bateman
    solution 1 - (k2 e^(-k1 dt) - k1 e^(-k2 dt)) / (k2 - k1) = 0.40; a step that allows one event per
    site would give none."""
    k1, k2, dt, n = 1e9, 2e9, 1e-9, 4000
    chem = schematic([[1], [8]], [[8], [5]], [0, 0], [k1, k2])
    state, rng = _frozen_cell(sites, n, 2)
    ReactiveKMC(chem, ReactiveSettings(dt=dt, reach=0.0), acceleration=None).step(state, rng, 298.15)
    a, b = k1 * dt, k2 * dt
    expected = {1: math.exp(-a), 8: a / (b - a) * (math.exp(-a) - math.exp(-b))}
    expected[5] = 1.0 - expected[1] - expected[8]
    for sp, p in expected.items():
        frac = float((state.species == sp).double().mean())
        assert frac == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n))
    assert expected[5] > 0.35


def test_rate_scaling_keeps_the_equilibrium_and_the_slow_rate(sites):
    """A <-> B at 1e9/2e9 s^-1 (3e5 events per site in a 1e-4 s step without scaling), B -> C at
    1e3 s^-1: C forms at k_eff = k3 K/(1 + K) with K = 1/2, and A:B stays 2:1. The scaled run must
    reproduce both (exact first-order answer; 4 standard errors plus 2 % for the finite separation
    of 100). A step with one event per site would make almost no C."""
    kf, kr, k3, dt, n, steps = 1e9, 2e9, 1e3, 1e-4, 2000, 12
    chem = schematic([[1], [8], [8]], [[8], [1], [5]], [0, 0, 0], [kf, kr, k3])
    assert list(chem.partner) == [1, 0, -1]
    state, rng = _frozen_cell(sites, n, 4)
    kmc = ReactiveKMC(chem, ReactiveSettings(dt=dt, reach=0.0))
    for _ in range(steps):
        kmc.step(state, rng, 298.15)
    p = 1.0 - math.exp(-k3 * kf / (kf + kr) * dt * steps)       # 0.33
    frac = float((state.species == 5).double().mean())
    assert frac == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / n) + 0.02 * p)
    n_a, n_b = int((state.species == 1).sum()), int((state.species == 8).sum())
    assert n_b / (n_a + n_b) == pytest.approx(kf / (kf + kr), abs=4 * math.sqrt(2 / 9 / (n_a + n_b)))
    summary = kmc.scaling_summary()
    assert summary["scaled_pairs"] == 1 and summary["max_alpha"] > 1e3 and summary["truncated_steps"] == 0


def _deposit_distances(state):
    dep = torch.nonzero(~state.mobile).flatten()
    p = state.positions[dep]
    d = p[:, None] - p[None]
    d[..., :2] -= state.box[:2] * torch.round(d[..., :2] / state.box[:2])
    r = d.norm(dim=-1)
    sij = 0.5 * (state.sigma[dep][:, None] + state.sigma[dep][None])
    off = ~torch.eye(len(dep), dtype=torch.bool)
    return (r / sij)[off]


@pytest.fixture(scope="module")
def growth_runs(sites):
    chem = sei_chemistry()
    runs = {}
    for beta in (0.0, 1.5, 3.0):
        cfg = GrowthConfig(box_xy=30.0, height=40.0, md_steps=30, beta=beta, reactive_dt=1e-9, seed=3)
        runs[beta] = grow(chem, sites, BULK, cfg, 80)
    return runs


def test_growth_saturates_when_tunnelling_is_short_ranged(growth_runs):
    """beta = 3/Å: each Å of film cuts electron transfer 20-fold, so growth stops after about one
    layer; beta = 0 (the control) keeps reducing at the film surface and grows until the cell fills."""
    h = {beta: np.array(run.series["thickness_mean"]) for beta, run in growth_runs.items()}
    assert h[3.0][39] > 2.5 and h[3.0][-1] > h[3.0][9]            # a first layer forms, and grows ...
    assert h[3.0][-1] - h[3.0][39] < 0.5                          # ... then levels off
    # the control keeps growing, several times faster than the tunnelling-limited film
    assert h[0.0][39] - h[0.0][9] > max(5.0, 5 * (h[3.0][39] - h[3.0][9]))
    assert h[0.0][-1] > h[1.5][-1] > h[3.0][-1]
    electrode = {b: r.summary["events"]["by_family"]["electrode"] for b, r in growth_runs.items()}
    assert electrode[0.0] > electrode[1.5] > electrode[3.0]


def test_deposits_never_overlap(growth_runs):
    for run in growth_runs.values():
        ratio = _deposit_distances(run.state)
        assert len(ratio) > 20 and float(ratio.min()) >= 0.85 - 1e-9
        assert float(run.state.positions[:, 2].min()) > 0.0


def test_inorganic_deposits_lie_nearer_the_electrode_than_organic(growth_runs):
    """Li2CO3 needs a second reduction, so with tunnelling (beta = 1.5/Å) it forms at the electrode,
    while LEDC forms wherever two LiEC_RO meet: the known inner-inorganic, outer-organic picture."""
    layers = growth_runs[1.5].summary["layer_order"]
    assert layers["inorganic"]["count"] >= 5 and layers["organic"]["count"] >= 5
    assert layers["inorganic"]["mean_z"] < layers["organic"]["mean_z"] - 0.5


def test_checkpoint_resume_gives_the_uninterrupted_run(sites, tmp_path):
    chem = sei_chemistry()
    cfg = GrowthConfig(box_xy=30.0, height=40.0, md_steps=20, seed=5, checkpoint_every=4, frame_every=4)
    whole = grow(chem, sites, BULK, cfg, 12, out=tmp_path / "whole")
    grow(chem, sites, BULK, cfg, 8, out=tmp_path / "parts")          # "killed" after step 8
    resumed = grow(chem, sites, BULK, cfg, 12, out=tmp_path / "parts")
    assert torch.equal(whole.state.positions, resumed.state.positions)
    assert torch.equal(whole.state.species, resumed.state.species)
    assert resumed.series["thickness_mean"] == whole.series["thickness_mean"]
    from ase.io import read
    assert len(read(tmp_path / "parts" / "trajectory.extxyz", index=":")) == 3
    saved = json.loads((tmp_path / "parts" / "growth.json").read_text())
    assert saved["steps"] == 12 and saved["level_of_theory"]["rates"] == "schematic"
    with pytest.raises(ValueError, match="other settings"):
        grow(chem, sites, BULK, GrowthConfig(box_xy=30.0, height=40.0, md_steps=20, seed=6), 14,
             out=tmp_path / "parts")


def test_extxyz_frames_read_back_with_spaced_species_names(sites, tmp_path):
    """Species names such as 'CO3 2-' hold a space; extxyz splits columns on whitespace."""
    import dataclasses

    from ase.io import read, write
    spaced = dataclasses.replace(sites, names=[n if n != "Li2CO3" else "CO3 2-" for n in sites.names])
    state = bulk_state(spaced, n_side=3)
    state.species[:] = NAMES.index("Li2CO3")
    state.refresh()
    write(tmp_path / "f.extxyz", state.to_atoms(), format="extxyz")
    back = read(tmp_path / "f.extxyz", format="extxyz")
    assert list(back.arrays["species_name"]) == ["CO3_2-"] * state.n
    assert back.arrays["mobile"].all() and np.allclose(back.arrays["sigma"], state.sigma.numpy())


def test_bad_phase_rule_and_settings_give_one_clear_error(tmp_path):
    bad = tmp_path / "phases.yaml"
    bad.write_text("gases: [not_a_molecule((]\n")
    with pytest.raises(PhaseRulesError, match="neither a known SEI species"):
        load_phase_rules(bad)
    with pytest.raises(ValueError, match="acceptance 'glauber' is not valid"):
        GrowthConfig(acceptance="glauber")
    with pytest.raises(ValueError, match="acceleration separation 1 is not valid"):
        GrowthConfig(separation=1)
    from sei_net.growth import grow_network
    with pytest.raises(ValueError, match="differs from the recipe's 298.15 K"):
        grow_network("ec_lipf6", tmp_path / "never_opened.db", GrowthConfig(temperature=330.0), steps=1)
