"""Accelerated stochastic kinetics (kinetics.acceleration): slowing fast quasi-equilibrated pairs must
leave the slow chemistry unchanged. Checked against an exact solution, against the mass-action ODE,
and against the exact (unaccelerated) SSA where that is affordable."""

import numpy as np
import pytest

from sei_net.kinetics.acceleration import Acceleration, reverse_partners
from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.mechanism import AVOGADRO, Mechanism
from sei_net.kinetics.ode import integrate
from sei_net.kinetics.ssa import simulate


def mechanism(reactants, products, rates):
    g = HyperGraph.from_lists(reactants, products)
    return Mechanism(g, np.array(rates, dtype=float), [f"X{i}" for i in range(g.n_species)], "test", "test")


def test_reverse_partners_pair_each_reaction_with_its_reverse():
    # A + B -> C, C -> A + B, C -> D, 2 A -> E, E -> A + A, A -> A (changes nothing)
    g = HyperGraph.from_lists([[0, 1], [2], [2], [0, 0], [4], [0]], [[2], [1, 0], [3], [4], [0, 0], [0]])
    assert reverse_partners(g).tolist() == [1, 0, -1, 4, 3, -1]


def test_fast_equilibrium_then_slow_step_follows_the_exact_solution():
    # A <-> B at 1e8 / 2e8 s^-1, B -> C at 1 s^-1: C(t) = N0 (1 - exp(-k K/(1+K) t)), K = 1/2.
    # The exact SSA needs ~3e8 events per molecule-second (1e11 events per trajectory here).
    mech = mechanism([[0], [1], [1]], [[1], [0], [2]], [1e8, 2e8, 1.0])
    n0, trajectories = 100, 400
    res = simulate(mech, {0: n0}, trajectories, time=3.0, seed=1, volume=1e-18, grid_points=7,
                   accelerate=Acceleration(separation=1000))
    p = 1 - np.exp(-res.grid / 3)
    se = np.sqrt(n0 * p * (1 - p) / trajectories)
    assert np.all(np.abs(res.grid_mean[:, 2] - n0 * p) <= 4 * se + 1e-9)
    assert np.all(res.final.sum(axis=1) == n0)
    assert res.n_events / trajectories < 1e6                 # >1e5 times fewer events than exact
    assert np.all(res.alpha[:, 0] == res.alpha[:, 1]) and res.alpha[:, 0].min() > 1e4
    assert np.all(res.alpha[:, 2] == 1.0)                     # the slow step has no reverse: never scaled


def test_accelerated_binding_equilibrium_agrees_with_mass_action():
    # A + L <-> AL fast (1e9 L/mol/s, 1e5 s^-1), AL -> P + L slow (2 s^-1, L is a catalyst), 10^4
    # molecules: the ODE needs no acceleration; the accelerated SSA mean must follow it in time.
    mech = mechanism([[0, 1], [2], [2]], [[2], [0, 1], [3, 1]], [1e9, 1e5, 2.0])
    V, init, trajectories = 1e-19, {0: 10000, 1: 5000}, 20
    res = simulate(mech, init, trajectories, time=2.0, seed=1, volume=V, grid_points=11, log_grid=True,
                   accelerate=Acceleration())
    ref = integrate(mech, init, 2.0, volume=V, times=res.grid).values * AVOGADRO * V
    assert ref[-1, 3] > 9000 and ref[1, 2] > 4000             # the run covers binding and turnover
    se = res.grid_std / np.sqrt(trajectories)
    assert np.all(np.abs(res.grid_mean - ref) <= 5 * se + 3.0)
    assert res.alpha.max() > 100


def test_driven_fast_reactions_are_not_slowed():
    # A <-> B with a fast forward and a slow reverse: far from equilibrium for most of the run, so
    # the accelerated run must relax exactly like the exact one (same seeds, same events until
    # equilibrium is reached).
    mech = mechanism([[0], [1]], [[1], [0]], [1e6, 1e3])
    exact = simulate(mech, {0: 20000}, 10, time=2e-5, seed=4, volume=1e-18, grid_points=6, kernel="tree")
    fast = simulate(mech, {0: 20000}, 10, time=2e-5, seed=4, volume=1e-18, grid_points=6,
                    accelerate=Acceleration())
    assert np.array_equal(exact.grid_mean, fast.grid_mean)
    assert np.all(fast.alpha == 1.0)


def test_acceleration_off_is_the_exact_ssa():
    mech = mechanism([[0, 1], [2], [2]], [[2], [0, 1], [3]], [1e9, 1e4, 5.0])
    kwargs = dict(time=1e-3, seed=9, volume=1e-19, grid_points=5)
    plain = simulate(mech, {0: 300, 1: 200}, 5, **kwargs)
    assert plain.alpha is None and plain.params["acceleration"] is None
    accelerated = simulate(mech, {0: 300, 1: 200}, 5, accelerate=Acceleration(window=1000), **kwargs)
    assert accelerated.params["acceleration"]["window"] == 1000
    assert plain.steps.min() > 2000 and accelerated.steps.max() < plain.steps.min()   # it did act


@pytest.mark.parametrize("field, value", [("window", 5), ("min_events", 2.5), ("tolerance", 1.5),
                                          ("separation", 1.0)])
def test_bad_acceleration_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=f"acceleration {field}"):
        Acceleration(**{field: value})
