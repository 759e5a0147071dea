"""Stochastic (Gillespie) and mean-field kinetics: exact results of small mechanisms, agreement of the
two at high counts, reproducibility, and the cross-checks with RNMC's GMC and with Cantera."""

import json

import numpy as np
import pytest

from sei_net.kinetics.hypergraph import HyperGraph
from sei_net.kinetics.mechanism import AVOGADRO, Mechanism
from sei_net.kinetics.ode import integrate
from sei_net.kinetics.ssa import simulate


def mechanism(reactants, products, rates, n_species=None, electrons=None):
    g = HyperGraph.from_lists(reactants, products, electrons=electrons, n_species=n_species)
    n = g.n_species
    return Mechanism(g, np.array(rates, dtype=float), [f"X{i}" for i in range(n)], "test", "test units")


@pytest.mark.parametrize("log_grid", [False, True])
def test_first_order_decay_is_binomial_in_physical_time(log_grid):
    # A -> B with k = 2 /s: each molecule survives to t with p = exp(-k t), so the count is binomial
    mech = mechanism([[0]], [[1]], [2.0])
    n0, t_end = 1000, 1.0
    res = simulate(mech, {0: n0}, 400, time=t_end, seed=7, volume=1e-18, grid_points=11, log_grid=log_grid)
    if log_grid:                                       # 0, then 10 points evenly spaced in log t
        assert res.grid[0] == 0 and np.allclose(np.diff(np.log10(res.grid[1:])), 6 / 9)
    p = np.exp(-2.0 * res.grid)
    se = np.sqrt(n0 * p * (1 - p) / res.n_trajectories)
    assert np.all(np.abs(res.grid_mean[:, 0] - n0 * p) <= 4 * se + 1e-9)
    var_ratio = res.grid_std[5, 0] ** 2 / (n0 * p[5] * (1 - p[5]))
    assert 0.8 < var_ratio < 1.25                      # chi-square with 399 dof: 0.8-1.2 at ~3 sigma
    assert np.all(res.final[:, 0] + res.final[:, 1] == n0)
    assert np.all(res.end_time == t_end)


KERNELS = ["tree", "dense"]


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("mode", ["physical", "rnmc"])
def test_identical_reactant_combinatorics(mode, kernel):
    # two molecules: A + A -> P fires at c*n(n-1) = 2c (physical: c = k/(N_A V)); A + B -> P at c
    V, k, trajectories = 1e-21, 3.0e8, 4000
    c = k / (AVOGADRO * V) if mode == "physical" else k
    expected = {"A+A": 1 / (2 * c) if mode == "physical" else 1 / (2 * 0.5 * c), "A+B": 1 / c}
    for case, init, mech in [("A+A", {0: 2}, mechanism([[0, 0]], [[1]], [k])),
                             ("A+B", {0: 1, 2: 1}, mechanism([[0, 2]], [[1]], [k]))]:
        res = simulate(mech, init, trajectories, steps=1, seed=3, mode=mode, volume=V, kernel=kernel)
        assert np.all(res.steps == 1) and res.params["kernel"] == kernel
        waits = res.end_time
        # exponential waiting time: mean 1/a, standard error 1/(a sqrt(T))
        assert abs(waits.mean() - expected[case]) < 4 * expected[case] / np.sqrt(trajectories)


@pytest.mark.parametrize("kernel", KERNELS)
def test_event_selection_follows_propensities(kernel):
    # 40 channels A -> B_i with rates 1..40: the first event picks channel i with probability k_i / sum k
    n = 40
    k = np.arange(1, n + 1, dtype=float)
    mech = mechanism([[0]] * n, [[i + 1] for i in range(n)], k)
    res = simulate(mech, {0: 5}, 20000, steps=1, seed=11, volume=1e-18, kernel=kernel)
    expected = res.n_trajectories * k / k.sum()
    chi2 = float(((res.firings - expected) ** 2 / expected).sum())
    assert chi2 < 39 + 5 * np.sqrt(2 * 39)            # 39 dof: mean 39, sd 8.8
    assert res.firings.sum() == 20000


def test_trajectories_are_reproducible_across_batches_and_threads():
    mech = mechanism([[0, 1], [2], [0]], [[2], [0, 1], [3]], [1e9, 50.0, 5.0])
    kwargs = dict(time=0.05, seed=123, volume=1e-19, grid_points=6)
    one = simulate(mech, {0: 300, 1: 200}, 12, **kwargs)
    threaded = simulate(mech, {0: 300, 1: 200}, 12, workers=3, batch_size=4, **kwargs)
    assert np.array_equal(one.final, threaded.final) and np.array_equal(one.steps, threaded.steps)
    assert np.array_equal(one.firings, threaded.firings)
    other_seed = simulate(mech, {0: 300, 1: 200}, 12, **{**kwargs, "seed": 124})
    assert np.array_equal(one.final[1:], other_seed.final[:-1])      # trajectory i is seed + i
    assert not np.array_equal(one.final, other_seed.final)


def test_trajectories_are_reproducible_on_dask():
    distributed = pytest.importorskip("dask.distributed")
    mech = mechanism([[0, 1], [2]], [[2], [0, 1]], [1e9, 50.0])
    kwargs = dict(steps=500, seed=5, volume=1e-19, batch_size=3)
    local = simulate(mech, {0: 300, 1: 200}, 7, **kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        remote = simulate(mech, {0: 300, 1: 200}, 7, scheduler=cluster.scheduler_address, **kwargs)
    assert np.array_equal(local.final, remote.final) and remote.params["dask"]


def test_stochastic_mean_approaches_mass_action_at_high_counts():
    # A + B <-> C, 2 C -> D (second order in C), started with 10^4 molecules
    V = 1e-19
    mech = mechanism([[0, 1], [2], [2, 2]], [[2], [0, 1], [3]], [2e8, 30.0, 1e8])
    init = {0: 10000, 1: 6000}
    t_end = 0.05
    ssa = simulate(mech, init, 40, time=t_end, seed=1, volume=V, grid_points=11)
    ode = integrate(mech, init, t_end, volume=V, grid_points=11)
    counts = ode.values * AVOGADRO * V
    assert counts[-1, 3] > 500 and counts[-1, 0] < 0.8 * init[0]   # the test exercises both reactions
    se = ssa.grid_std / np.sqrt(ssa.n_trajectories)
    # mean-field error is O(1) molecules at these counts; statistical error from the trajectories
    assert np.all(np.abs(ssa.grid_mean[:, :4] - counts[:, :4]) <= 5 * se[:, :4] + 3.0)


def test_dense_and_tree_kernels_draw_the_same_distribution():
    # a random network of all three two-reactant forms, with shared reactant pairs: the two exact
    # kernels draw different trajectories from the same seeds, so compare their final-count means
    # (two-sample z on the standard errors) and the total events of each reaction
    rng = np.random.default_rng(12)
    n_sp, reactants, products = 10, [], []
    for _ in range(30):
        a, b, p, q = rng.choice(n_sp, 4, replace=False)
        shape = rng.integers(3)
        rs, ps = [[a, b], [a], [a, a]][shape], [[p], [p, q], [p, q]][shape]
        reactants += [rs, ps, rs]
        products += [ps, rs, [q]]                     # reverse, and a second channel on rs
    mech = mechanism(reactants, products, rng.uniform(0.5, 2.0, len(reactants)), n_species=n_sp)
    init = {0: 40, 1: 30, 2: 30, 3: 20}
    kw = dict(steps=300, seed=8, mode="rnmc")
    tree = simulate(mech, init, 1500, kernel="tree", **kw)
    dense = simulate(mech, init, 1500, kernel="dense", **kw)
    assert not np.array_equal(tree.final, dense.final)
    se = np.sqrt((tree.final_std() ** 2 + dense.final_std() ** 2) / 1500)
    assert np.all(np.abs(tree.final_mean() - dense.final_mean()) <= 4.5 * se + 1e-9)
    fired = tree.firings + dense.firings
    busy = fired > 400
    assert busy.sum() >= 10
    # each reaction's share of events is binomial-like: compare the two counts against their sum
    share = dense.firings[busy] / fired[busy]
    assert np.all(np.abs(share - 0.5) <= 4.5 * np.sqrt(0.25 / fired[busy]) + 0.02)


def test_kernel_choice_and_its_limits():
    from sei_net.kinetics.acceleration import Acceleration
    from sei_net.kinetics.ssa import DENSE_MAX_SPECIES, choose_kernel

    small = mechanism([[0, 1], [2]], [[2], [0, 1]], [1.0, 1.0])
    assert choose_kernel(small, "auto", None) == "dense"
    assert choose_kernel(small, "auto", Acceleration()) == "tree"
    big = mechanism([[i] for i in range(DENSE_MAX_SPECIES)], [[i + 1] for i in range(DENSE_MAX_SPECIES)],
                    np.ones(DENSE_MAX_SPECIES))
    assert big.n_species == DENSE_MAX_SPECIES + 1 and choose_kernel(big, "auto", None) == "tree"
    three = mechanism([[0, 1, 2]], [[3]], [1.0])                # three reactants: only the sum tree
    assert choose_kernel(three, "auto", None) == "tree"
    with pytest.raises(ValueError, match="kernel 'dense' runs only"):
        simulate(three, {0: 1, 1: 1, 2: 1}, 2, steps=1, volume=1e-18, kernel="dense")
    with pytest.raises(ValueError, match="kernel 'gpu' is not valid"):
        simulate(small, {0: 1, 1: 1}, 2, steps=1, mode="rnmc", kernel="gpu")


def test_absorbing_state_and_bad_inputs():
    mech = mechanism([[0]], [[1]], [1.0])
    res = simulate(mech, {0: 3}, 5, steps=100, seed=0, volume=1e-18)
    assert np.all(res.steps == 3) and np.all(res.final[:, 1] == 3)
    with pytest.raises(ValueError, match="steps or a simulated time"):
        simulate(mech, {0: 3}, 5, volume=1e-18)
    with pytest.raises(ValueError, match="volume"):
        simulate(mech, {0: 3}, 5, steps=3)
    with pytest.raises(ValueError, match="propensity mode"):
        simulate(mech, {0: 3}, 5, steps=3, mode="bogus")
    with pytest.raises(ValueError, match="initial count"):
        simulate(mech, {0: -1}, 5, steps=3, volume=1e-18)
    with pytest.raises(ValueError, match="not finite"):
        mechanism([[0]], [[1]], [np.nan])


# ---------------------------------------------------------------- the published RNMC SEI network
RNMC_GMC = {  # RNMC GMC: 1000 trajectories x 5000 steps from seed 1000 (mean, std over trajectories)
    "Li2CO3": (500.0, 0.0), "Li_oxalate": (500.0, 0.0), "LEDC": (377.3, 9.1), "LEMC_minus": (306.7, 10.7),
    "EC": (194.1, 10.1), "CO": (177.4, 9.2), "Li_(OCH2)2_minus": (135.1, 10.2), "LEMC": (121.8, 9.1),
    "LiEC": (80.3, 7.8)}


@pytest.fixture(scope="module")
def rnmc_store(shared_data, tmp_path_factory):
    from sei_net.io.rnmc import import_rnmc

    d = shared_data / "rnmc_sei"
    store = import_rnmc(d / "rn.sqlite", tmp_path_factory.mktemp("rnmc") / "rnmc.db", d / "initial_state.sqlite",
                        d / "20211130_mol_entries.json")
    yield store
    store.close()


@pytest.mark.parametrize("kernel", KERNELS)
def test_rnmc_mode_reproduces_rnmc_gmc(rnmc_store, kernel):
    from sei_net.kinetics.mechanism import mechanism_from_rates

    mech = mechanism_from_rates(rnmc_store, "rnmc")
    res = simulate(mech, rnmc_store.initial_state("rnmc"), 1000, steps=5000, seed=1000, mode="rnmc", workers=2,
                   kernel=kernel)
    mean, std = res.final_mean(), res.final_std()
    index = {name: i for i, name in enumerate(mech.names)}
    z = 3.5                                      # ~0.5 % two-sided per species, 9 species
    for name, (ref_mean, ref_std) in RNMC_GMC.items():
        s = index[name]
        se = np.sqrt(std[s] ** 2 / 1000 + ref_std ** 2 / 1000)
        assert abs(mean[s] - ref_mean) <= z * se + 0.05, (name, mean[s], ref_mean)   # 0.05: RNMC rounding
    assert res.n_events == 5000 * 1000


def test_ode_conserves_elements_and_matches_cantera(rnmc_store):
    ct = pytest.importorskip("cantera")
    from sei_net.kinetics.cantera_export import cantera_name, cantera_yaml
    from sei_net.kinetics.mechanism import mechanism_from_rates

    mech = mechanism_from_rates(rnmc_store, "rnmc")
    species = rnmc_store.all_species()
    init, V = rnmc_store.initial_state("rnmc"), 1e-20
    res = integrate(mech, init, 1e-6, volume=V, grid_points=6)
    # element totals (mol/L of atoms) are constant: every reaction is element-balanced
    elements = sorted({e for s in species.values() for e in s.elements})
    atoms = np.zeros((mech.n_species, len(elements)))
    for sid, s in species.items():
        for e in s.elements:
            atoms[sid, elements.index(e)] += 1
    totals = res.values @ atoms
    assert np.allclose(totals, totals[0], rtol=1e-7, atol=0)
    assert np.abs(res.values[-1] - res.values[0]).max() > 0.05 * res.values[0].max()   # it did react

    gas = ct.Solution(yaml=cantera_yaml(mech, species))
    conc = {cantera_name(s): n / (AVOGADRO * V) for s, n in init.items()}
    gas.TPX = 298.15, sum(conc.values()) * ct.gas_constant * 298.15, conc
    reactor = ct.IdealGasReactor(gas, energy="off", clone=False)
    net = ct.ReactorNet([reactor])
    net.rtol, net.atol = 1e-10, 1e-20
    used = [s for s in range(mech.n_species) if cantera_name(s) in gas.species_names]
    cols = [gas.species_index(cantera_name(s)) for s in used]
    for t, row in zip(res.times[1:], res.values[1:]):
        net.advance(t)
        theirs = reactor.phase.concentrations[cols]          # kmol/m^3 = mol/L
        assert np.abs(theirs - row[used]).max() < 1e-6 * row.max()


def test_member_rates_give_a_spread_of_yields(rnmc_store, tmp_path):
    from sei_net.kinetics.setup import load_mechanism, member_mechanisms, member_spread

    rng = np.random.default_rng(0)
    rows = rnmc_store.energies("rnmc")
    for name, sigma in (("test-surrogate", 0.05), ("flat-surrogate", 0.0)):
        rnmc_store.set_energies({"species_id": r["species_id"], "source": name, "level_of_theory": "test",
                                 "G": r["G"], "sigma": sigma,
                                 "members": r["G"] + sigma * rng.standard_normal(4)} for r in rows)
    spreads = {}
    for name in ("test-surrogate", "flat-surrogate"):
        mech, query = load_mechanism(rnmc_store, energy_source=name, potential=0.0)
        finals = [simulate(m, rnmc_store.initial_state("rnmc"), 20, steps=300, seed=0, volume=1e-20).final_mean()
                  for m in member_mechanisms(query)]
        assert len(finals) == 4
        spreads[name] = member_spread(np.array(finals), mech.names)
    assert max(v["std"] for v in spreads["test-surrogate"].values()) > 1.0
    assert all(v["std"] == 0.0 for v in spreads["flat-surrogate"].values())   # equal members, same seeds
    assert all(v["min"] <= v["median"] <= v["max"] for v in spreads["test-surrogate"].values())
    assert all(v["median"] == v["mean"] for v in spreads["flat-surrogate"].values())


def test_kmc_and_ode_cli(rnmc_store, tmp_path):
    import sqlite3

    from typer.testing import CliRunner

    from sei_net.cli import app

    db = tmp_path / "net.db"
    with sqlite3.connect(db) as copy:          # the module's store is open in WAL mode: back it up
        rnmc_store.conn.backup(copy)
    runner = CliRunner()
    res = runner.invoke(app, ["kmc", str(db), "--trajectories", "20", "--steps", "200", "--seed", "1000", "--rnmc",
                              "--json", "-o", str(tmp_path / "runs"), "--events"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["trajectories"] == 20 and out["steps"] == 200 and out["events"] == 4000
    total = sum(v["mean"] for v in out["final_counts"].values())
    assert set(out) >= {"final_counts", "wall_seconds", "events_per_second"} and total > 0
    assert out["kernel"] == "dense"                  # 62 species, one or two reactants: auto takes dense
    with sqlite3.connect(db) as conn:                # the run is recorded in the network's runs table
        status, results = conn.execute("SELECT status, results FROM runs WHERE id = ?", (out["run_id"],)).fetchone()
    assert status == "done" and json.loads(results)["events"] == 4000
    import pyarrow.parquet as pq
    events = pq.read_table(tmp_path / "runs" / "events.parquet")
    assert events.num_rows == 4000 and set(events.column("seed").to_pylist()) == set(range(1000, 1020))
    res = runner.invoke(app, ["kmc", str(db), "--trajectories", "4", "--steps", "3000", "--rnmc", "--accelerate",
                              "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["acceleration"]["separation"] == 100
    assert json.loads(res.output)["kernel"] == "tree"   # acceleration runs on the sum tree only
    res = runner.invoke(app, ["kmc", str(db), "--trajectories", "4", "--steps", "100", "--rnmc", "--json",
                              "--kernel", "tree"])
    assert res.exit_code == 0 and json.loads(res.output)["kernel"] == "tree"
    bad = runner.invoke(app, ["kmc", str(db), "--steps", "10", "--rnmc", "--kernel", "fast"])
    assert bad.exit_code == 2 and "kernel 'fast' is not valid" in bad.output
    bad = runner.invoke(app, ["kmc", str(db), "--steps", "10", "--accelerate", "--separation", "1"])
    assert bad.exit_code == 2 and "acceleration separation 1.0 is not valid" in bad.output
    bad = runner.invoke(app, ["kmc", str(db), "--steps", "10", "--init", "LEDC=abc"])
    assert bad.exit_code == 2 and "LEDC=abc" in bad.output
    bad = runner.invoke(app, ["kmc", str(db), "--steps", "10", "--init", "Unobtainium=3", "--rnmc"])
    assert bad.exit_code == 2 and "Unobtainium" in bad.output
    res = runner.invoke(app, ["ode", str(db), "--time", "1e-9", "--volume", "1e-20", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["units"] == "mol/L"
    res = runner.invoke(app, ["export", str(db), "-f", "cantera", "-o", str(tmp_path / "mech.yaml")])
    assert res.exit_code == 0, res.output
    import yaml
    doc = yaml.safe_load((tmp_path / "mech.yaml").read_text())
    assert len(doc["reactions"]) == 959 and len(doc["phases"][0]["species"]) == 62


@pytest.mark.parametrize("kernel", KERNELS)
def test_every_waiting_time_uses_the_exact_total_propensity(kernel):
    # replay recorded events on a small, sparse-count network where reactants often appear and
    # vanish together (A + B <-> C): each waiting time must be E/a0 with a0 recomputed from scratch,
    # so a stale propensity left in the sum tree (or a drifting partial sum in the dense kernel)
    # shows up; and every fired reaction must be possible. E = -ln(1 - u) takes the next draw of
    # the trajectory's stream after the previous event's selection draws: one (tree), or one plus
    # one more when the fired reaction shares its reactants with others (dense: the channel draw)
    from numba import njit

    from sei_net.kinetics._ssa_kernel import rng_state, uniform

    @njit
    def draws(seed, n):
        s = rng_state(seed)
        out = np.empty(n)
        for i in range(n):
            out[i] = uniform(s)
        return out

    rng = np.random.default_rng(4)
    n_sp, reactants, products = 8, [], []
    for _ in range(40):
        a, b, p, q = rng.choice(n_sp, 4, replace=False)
        shape = rng.integers(4)
        rs, ps = [[a, b], [a], [a, a], [a, b]][shape], [[p], [p, q], [p], [p, q]][shape]
        reactants += [rs, ps]
        products += [ps, rs]                           # every reaction with its reverse
    k = rng.uniform(0.5, 2.0, len(reactants))
    mech = mechanism(reactants, products, k, n_species=n_sp)
    c = mech.propensity_constants("rnmc")
    steps = 400
    res = simulate(mech, {0: 2, 1: 1, 2: 1, 3: 2}, 6, steps=steps, seed=50, mode="rnmc", record_events=True,
                   kernel=kernel)
    g = mech.graph
    same_reactants = {}
    for j in range(g.n_reactions):
        key = tuple(sorted(g.reactants(j)))
        same_reactants[key] = same_reactants.get(key, 0) + 1
    extra = [int(kernel == "dense" and same_reactants[tuple(sorted(g.reactants(j)))] > 1)
             for j in range(g.n_reactions)]
    assert sum(extra) > 0 or kernel == "tree"          # the dense case exercises the channel draw
    for t in range(res.n_trajectories):
        u = draws(int(res.seeds[t]), 3 * steps + 1)
        counts = np.array([2, 1, 1, 2, 0, 0, 0, 0], dtype=float)
        previous, draw = 0.0, 0
        for step in range(int(res.steps[t])):
            a = np.array([c[j] * np.prod([np.prod(counts[s] - np.arange(n)) for s, n in g.reactants(j)])
                          for j in range(g.n_reactions)])
            j, time = res.events[t, step], res.event_times[t, step]
            assert a[j] > 0
            assert time - previous == pytest.approx(-np.log(1 - u[draw]) / a.sum(), rel=1e-9, abs=1e-12)
            draw += 2 + extra[j]
            previous = time
            for s, n in g.reactants(j):
                counts[s] -= n
            for s, n in g.products(j):
                counts[s] += n


def test_counts_at_common_time_are_unbiased_when_trajectories_stop_early():
    # A -> B, k = 2 /s; an event cap stops trajectories at different times before t_end. Counts at the
    # common time (the last grid time all reached) must still be binomial, n0 exp(-k t).
    from sei_net.kinetics.yields import at_common_time
    mech = mechanism([[0]], [[1]], [2.0])
    n0 = 1000
    res = simulate(mech, {0: n0}, 200, time=1.0, steps=600, seed=11, volume=1e-18, grid_points=61, log_grid=True)
    assert res.end_time.min() < 1.0                       # the cap bites
    t, mean, std, g = at_common_time(res)
    assert 0 < t <= res.end_time.min() and res.grid[g] == t
    assert g + 1 == len(res.grid) or res.grid[g + 1] > res.end_time.min()
    p = np.exp(-2.0 * t)
    assert abs(mean[0] - n0 * p) <= 4 * np.sqrt(n0 * p * (1 - p) / 200) + 1e-9
    assert mean[0] + mean[1] == pytest.approx(n0)
