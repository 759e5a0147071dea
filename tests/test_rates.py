"""Rates and costs: limits, detailed balance, the Marcus form, and cost properties."""

from dataclasses import replace

import numpy as np
import pytest

from sei_net.constants import AVOGADRO, BOLTZMANN_EV, PLANCK_EV
from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.query import score_reactions
from sei_net.kinetics.costs import kinetic_cost, mrnet_cost, reaction_costs, softplus_cost
from sei_net.kinetics.rates import (
    DEFAULT_BEP, DEFAULT_VISCOSITY, GAS_CONSTANT, RNMC_BEP, VISCOSITY_ACTIVATION, RateModel, bep_barrier,
    diffusion_limit, encounter_factor, eyring, marcus_barrier, mhc_barrier, outer_reorganisation, tunnelling_factor,
    viscosity_at,
)

T = 298.15
KT = BOLTZMANN_EV * T
DG = np.linspace(-3.0, 3.0, 121)


def test_eyring_limits():
    assert eyring(0.0, T) == pytest.approx(KT / PLANCK_EV)            # 6.2e12 s^-1 at 298 K
    assert eyring(1.0, T) / eyring(0.0, T) == pytest.approx(np.exp(-1.0 / KT))
    assert eyring(0.5, 2 * T) > eyring(0.5, T)
    with pytest.raises(ValueError, match="temperature"):
        eyring(0.1, -5.0)


@pytest.mark.parametrize("kind", sorted(DEFAULT_BEP))
def test_bep_defaults_obey_detailed_balance_and_bound(kind):
    e0, alpha = DEFAULT_BEP[kind]
    forward, reverse = bep_barrier(DG, e0, alpha), bep_barrier(-DG, e0, alpha)
    assert np.all(forward >= np.maximum(DG, 0.0) - 1e-12)
    # k_f / k_r = exp(-dG/kT): barriers differ by exactly dG
    assert np.allclose(forward - reverse, DG, atol=1e-12)


@pytest.mark.parametrize("forward_kind, reverse_kind", [("fragmentation", "recombination"),
                                                       ("ring_opening", "ring_closing"),
                                                       ("decoordination", "coordination")])
def test_bep_defaults_keep_detailed_balance_across_a_pair_of_kinds(forward_kind, reverse_kind):
    # a reaction of one kind runs backwards as the other: the two barriers must differ by dG
    forward = bep_barrier(DG, *DEFAULT_BEP[forward_kind])
    reverse = bep_barrier(-DG, *DEFAULT_BEP[reverse_kind])
    assert np.allclose(forward - reverse, DG, atol=1e-12)


def test_default_bep_is_what_the_committed_neb_barriers_give():
    from pathlib import Path

    from sei_net.learn.barrier_data import load_barrier_dataset
    from sei_net.learn.barrier_fit import fit_bep
    from sei_net.learn.reaction_graph import reaction_class

    data = load_barrier_dataset([Path(__file__).parents[1] / "data" / "barriers" / "gfn2_neb_ec_lipf6.jsonl.gz"])
    classes = [reaction_class(e.reaction.kind) for e in data]
    fitted = fit_bep(classes, np.array([e.dG for e in data]), np.array([e.target for e in data]), alpha=0.5)
    for kind in ("fragmentation", "recombination", "ring_opening", "ring_closing", "concerted"):
        assert DEFAULT_BEP[kind] == pytest.approx(fitted[reaction_class(kind)])
    for kind in ("coordination", "decoordination", "other"):          # no labels: RNMC's value
        assert reaction_class(kind) not in fitted and DEFAULT_BEP[kind] == RNMC_BEP[kind]


def test_marcus_form():
    lam = 0.8
    b = marcus_barrier(DG, lam)
    assert marcus_barrier(0.0, lam) == pytest.approx(lam / 4)
    assert marcus_barrier(-lam, lam) == pytest.approx(0.0)             # activationless at dG = -lambda
    assert np.all(b >= np.maximum(DG, 0.0) - 1e-12)
    assert np.allclose(b - marcus_barrier(-DG, lam), DG)               # detailed balance
    inverted = DG < -lam
    assert np.all(np.diff(b[inverted]) < 0)                            # inverted region: barrier rises as dG falls
    with pytest.raises(ValueError):
        marcus_barrier(0.1, 0.0)


def _mhc_by_quadrature(dG: float, lam: float) -> float:
    """The Marcus-Hush-Chidsey barrier by adaptive quadrature (scipy), independently of the grid:
    -kT ln( integral f(e) exp(-(lam + dG - e)^2 / 4 lam kT) de / sqrt(4 pi lam kT) )."""
    from scipy.integrate import quad

    def log_term(e):
        return -(lam + dG - e) ** 2 / (4 * lam * KT) - np.logaddexp(0.0, e / KT)

    grid = np.linspace(-30.0, 30.0, 600001)
    peak = grid[np.argmax(log_term(grid))]
    top = log_term(peak)
    area = quad(lambda e: np.exp(log_term(e) - top), -30.0, 30.0, points=[peak, 0.0, lam + dG], limit=1000)[0]
    return max(0.0, -KT * (np.log(area) + top - 0.5 * np.log(4 * np.pi * lam * KT)))


@pytest.mark.parametrize("lam", [0.3, 1.0, 2.5])
def test_marcus_hush_chidsey_at_the_electrode(lam):
    b = mhc_barrier(DG, lam)
    for dG in (-2.5, -lam, -0.3, 0.0, 0.4, 2.0):
        assert mhc_barrier(dG, lam) == pytest.approx(_mhc_by_quadrature(dG, lam), abs=1e-6)
    assert mhc_barrier(-lam, lam) == pytest.approx(KT * np.log(2.0), rel=1e-6)   # half the levels reach it
    assert np.allclose(b - mhc_barrier(-DG, lam), DG, atol=1e-9)                 # detailed balance
    assert np.all(b >= np.maximum(DG, 0.0) - 1e-12) and np.all(np.diff(b) > -1e-12)
    assert mhc_barrier(-lam - 40 * np.sqrt(lam * KT), lam) < 1e-6                # no inverted region
    # near dG = 0 it follows the parabola's slope (1/2), above it by about kT ln(levels' share)
    slope = (mhc_barrier(0.05, lam) - mhc_barrier(-0.05, lam)) / 0.1
    assert slope == pytest.approx(0.5, abs=0.02)
    assert 0.0 < mhc_barrier(0.0, lam) - marcus_barrier(0.0, lam) < 0.1


def test_rate_model_electrode_kinetics():
    dG = np.array([-3.0, 0.0, -3.0])
    kinds = np.array(["redox", "redox", "fragmentation"], dtype=object)
    electrons = np.array([1, 1, 0])
    marcus, mhc = (RateModel(redox_reorganisation=0.8, electrode=e).barriers(dG, kinds, electrons)
                   for e in ("marcus", "mhc"))
    assert marcus[:2] == pytest.approx(marcus_barrier(dG[:2], 0.8))
    assert mhc[:2] == pytest.approx(mhc_barrier(dG[:2], 0.8))
    assert mhc[2] == marcus[2]                                         # non-redox steps untouched
    assert "Chidsey" in RateModel(electrode="mhc").describe()
    with pytest.raises(ValueError, match="valid: marcus, mhc"):
        RateModel(electrode="butler-volmer")


def test_outer_reorganisation_two_sphere_and_electrode():
    # two 3 Å spheres in contact in a medium with n = 1.415, eps = 18.5
    pekar = 1 / 1.415 ** 2 - 1 / 18.5
    assert outer_reorganisation(3.0, 3.0) == pytest.approx(14.399645 * (1 / 6 + 1 / 6 - 1 / 6) * pekar)
    # at an electrode the image halves the self term at contact: (1/2a - 1/4a) = 1/(4a)
    assert outer_reorganisation(3.0) == pytest.approx(14.399645 / 12 * pekar)
    assert outer_reorganisation(2.0) > outer_reorganisation(4.0)       # small ions reorganise more solvent
    assert outer_reorganisation(3.0, dielectric=1.415 ** 2) == pytest.approx(0.0, abs=1e-12)


def test_rate_model_members_and_tunnelling():
    model = RateModel(redox_reorganisation=0.6, film_thickness=5.0, beta=1.0, bep=dict(RNMC_BEP))
    dG = np.array([[-0.5, -0.4], [0.2, 0.3]])
    kinds = np.array(["redox", "fragmentation"], dtype=object)
    electrons = np.array([1, 0])
    barrier = model.barriers(dG, kinds, electrons)
    assert barrier.shape == (2, 2)
    assert barrier[0] == pytest.approx(marcus_barrier(dG[0], 0.6))
    assert barrier[1] == pytest.approx(dG[1])                          # RNMC: barrierless beyond dG
    k = model.rates(barrier, electrons)
    assert k[0, 0] == pytest.approx(eyring(barrier[0, 0], T) * tunnelling_factor(5.0))
    assert k[1, 0] == pytest.approx(eyring(barrier[1, 0], T))
    with pytest.raises(ValueError, match="BEP"):
        model.barriers(np.array([0.1]), np.array(["teleport"], dtype=object), np.array([0]))


def test_costs_are_non_negative_and_ordered():
    barrier = bep_barrier(DG)
    rate = eyring(barrier, T)
    for fn in (mrnet_cost, softplus_cost, kinetic_cost):
        c = fn(DG, barrier, rate, T)
        assert np.all(c >= 0) and np.all(np.diff(c) >= -1e-12)         # uphill never cheaper
    assert mrnet_cost(-1.0, 0, 0, T) == pytest.approx(1.0, abs=1e-15)
    assert mrnet_cost(20.0, 0, 0, T) == mrnet_cost(10.0, 0, 0, T)       # mrnet caps dG at 10 eV
    assert kinetic_cost(0.0, 0.0, eyring(0.0, T), T) == pytest.approx(0.0, abs=1e-12)
    c = reaction_costs("mrnet", np.array([np.nan, 0.0]), np.zeros(2), np.ones(2), T)
    assert np.isinf(c[0]) and c[1] == pytest.approx(2.0)
    with pytest.raises(ValueError, match=">= 0"):
        reaction_costs(lambda dG, b, k, t: dG, np.array([-1.0]), None, None, T)
    with pytest.raises(ValueError, match="valid costs"):
        reaction_costs("cheapest", DG, barrier, rate, T)


def test_diffusion_limit_is_smoluchowski_with_stokes_einstein():
    # independent route: k_D = 4 pi N_A (D_A + D_B)(r_A + r_B) with D = kB T / (6 pi eta r), per
    # species radius, SI units (J, m) -> L/(mol s); equal radii, any size, give 8RT/(3 eta)
    kb_si, eta = 1.380649e-23, 0.89e-3                       # J/K; water at 25 C, Pa s
    for r in (2e-10, 5e-10):
        d = kb_si * T / (6 * np.pi * eta * r)
        assert diffusion_limit(T, eta) == pytest.approx(4 * np.pi * AVOGADRO * 2 * d * 2 * r * 1e3, rel=1e-6)
    assert 6e9 < diffusion_limit(T, eta) < 8e9               # the textbook ~7e9 L/(mol s) of water
    assert diffusion_limit(T) < diffusion_limit(T, eta)      # the electrolyte is more viscous
    for bad in (0.0, -1e-3):
        with pytest.raises(ValueError, match="viscosity"):
            diffusion_limit(T, bad)
    with pytest.raises(ValueError, match="viscosity"):
        RateModel(viscosity=0.0)


def test_viscosity_follows_arrhenius_away_from_25_c():
    # the reference point is exact, the law is Arrhenius (ln eta linear in 1/T with slope E/R),
    # hotter is thinner, and no activation energy means no temperature dependence
    assert viscosity_at(298.15) == pytest.approx(DEFAULT_VISCOSITY, rel=1e-12)
    temps = np.array([273.15, 298.15, 333.15, 353.15])
    ln_eta = np.log([viscosity_at(t) for t in temps])
    slope = np.polyfit(1.0 / temps, ln_eta, 1)[0]
    assert slope == pytest.approx(VISCOSITY_ACTIVATION / GAS_CONSTANT, rel=1e-9)
    assert np.all(np.diff(ln_eta) < 0)
    assert viscosity_at(333.15, 2e-3, activation=0.0) == pytest.approx(2e-3)
    # 25 -> 60 C: the electrolyte's viscosity roughly halves (module constant's stated range)
    assert 0.4 < viscosity_at(333.15) / viscosity_at(298.15) < 0.6
    with pytest.raises(ValueError, match="activation"):
        viscosity_at(T, activation=-1.0)
    # the rate model's k_D: Stokes-Einstein at the carried viscosity, so it grows faster than T
    hot, cold = RateModel(temperature=333.15), RateModel(temperature=298.15)
    assert hot.encounter_rate_constant() == pytest.approx(diffusion_limit(333.15, viscosity_at(333.15)))
    assert hot.encounter_rate_constant() / cold.encounter_rate_constant() > 1.5 * 333.15 / 298.15
    flat = RateModel(temperature=333.15, viscosity_activation=0.0)
    assert flat.encounter_rate_constant() == pytest.approx(diffusion_limit(333.15, DEFAULT_VISCOSITY))


def test_encounter_limit_caps_fast_bimolecular_steps_and_keeps_slow_ones():
    k_d = diffusion_limit(T)
    # a barrierless association A + B -> C: TST says kB*T/h = 6e12, the encounter caps it near k_D
    s = encounter_factor(0.0, -2.0, 2, 1, T, k_d)
    assert eyring(0.0, T) * s == pytest.approx(k_d, rel=1e-3) and eyring(0.0, T) * s < k_d
    # a 1 eV barrier is reaction-limited: no change
    assert encounter_factor(1.0, -2.0, 2, 1, T, k_d) == pytest.approx(1.0, abs=1e-6)
    # a unimolecular isomerisation has no encounter
    assert encounter_factor(0.0, -2.0, 1, 1, T, k_d) == 1.0
    # the dissociation C -> A + B of a barrierless association is limited by the same factor
    assert encounter_factor(2.0, 2.0, 1, 2, T, k_d) == pytest.approx(s)


@pytest.mark.parametrize("members", [False, True])
def test_encounter_limit_keeps_detailed_balance(members):
    # pairs: A + B <-> C (association), A + B <-> C + D (exchange), A <-> C; both directions of each
    graph = HyperGraph.from_lists([[0, 1], [2], [0, 1], [2, 3], [0], [2]],
                                  [[2], [0, 1], [2, 3], [0, 1], [2], [0]],
                                  kinds=["fragmentation"] * 6, n_species=4)
    G = np.array([0.0, 0.1, -0.6, 0.2])
    if members:
        G = G[:, None] + np.linspace(-0.3, 0.3, 4)[None, :]
    limited = score_reactions(graph, G, 0.0, RateModel(), "mrnet", np.zeros(6))
    free = score_reactions(graph, G, 0.0, RateModel(viscosity=None), "mrnet", np.zeros(6))
    ratio = limited.rate[0::2] / limited.rate[1::2]
    assert ratio == pytest.approx(np.exp(-limited.dG[0::2] / KT), rel=1e-9)
    assert np.all(limited.rate <= free.rate) and np.all(limited.rate[:4] < free.rate[:4])
    assert limited.rate[4:] == pytest.approx(free.rate[4:])            # unimolecular: untouched
    assert np.all(limited.rate[[0, 2, 3]] < diffusion_limit(T))         # bimolecular: below k_D


def test_encounter_limit_leaves_electrode_steps_alone():
    graph = HyperGraph.from_lists([[0, 1]], [[2]], electrons=[1], kinds=["redox"], n_species=3)
    model = RateModel(redox_reorganisation=0.5)
    limited = score_reactions(graph, np.array([0.0, 0.0, -1.0]), -1.0, model, "mrnet", np.ones(1))
    free = score_reactions(graph, np.array([0.0, 0.0, -1.0]), -1.0, replace(model, viscosity=None), "mrnet",
                           np.ones(1))
    assert limited.rate == pytest.approx(free.rate)
    assert "Collins-Kimball" in model.describe() and f"{DEFAULT_VISCOSITY * 1e3:g} mPa s" in model.describe()
