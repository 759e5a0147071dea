"""GFN2-xTB oracle: determinism, graph check, thermochemistry limits, label cache, failures, Dask."""

import numpy as np
import pytest

from sei_net.chem import Species
from sei_net.energy.geometry import graph_check, starting_geometries
from sei_net.energy.gfn2 import GFN2Oracle
from sei_net.energy.labelling import label_network
from sei_net.energy.labels import LabelStore
from sei_net.energy.record import EnergyRecord

pytest.importorskip("tblite")

EC = Species.from_smiles("O=C1OCCO1")


@pytest.fixture(scope="module")
def oracle():
    return GFN2Oracle(n_conformers=2)


def test_same_species_gives_the_same_energy(oracle):
    a, b = oracle.compute(EC), oracle.compute(EC)
    assert a.status == "ok" and b.status == "ok"
    assert abs(a.E - b.E) < 1e-6 and abs(a.G - b.G) < 1e-6


def test_free_energy_has_the_physical_parts(oracle):
    rec = oracle.compute(EC)
    assert rec.data["n_imaginary"] == 0                     # a minimum
    assert len(rec.data["frequencies_cm"]) == 3 * EC.n_atoms - 6
    assert 1500 < max(rec.data["frequencies_cm"]) < 3500     # C=O / C-H stretches, cm-1
    # G - E = ZPE + thermal - TS: ZPE of EC is ~2.3 eV, -TS at 298 K ~ -0.9 eV
    assert 0.5 < rec.G - rec.E < 2.5
    assert rec.data["zpe"] > 1.5


def test_reduction_is_downhill_in_solution_and_radical_spin_is_used(oracle):
    anion = oracle.compute(Species.from_smiles("O=C1OCCO1", charge=-1, multiplicity=2))
    assert anion.status == "ok"
    # GFN2 electron affinity of EC in a dielectric is positive (the anion is bound)
    assert anion.E < oracle.compute(EC).E


def test_graph_check_flags_a_rearranged_structure():
    ethanol = Species.from_smiles("CCO")
    dimethyl_ether = Species.from_smiles("COC")
    coords = starting_geometries(dimethyl_ether, 1)[0]
    # the ether's geometry checked against the ether's graph is fine ...
    assert graph_check(dimethyl_ether, coords)[0] == "ok"
    # ... and a species whose graph the optimised structure does not have is flagged
    relabelled = Species.from_graph(dimethyl_ether.elements, [(i, j) for i, j, _ in dimethyl_ether.bonds], 0, 1)
    assert graph_check(relabelled, coords)[0] == "ok"
    heavy = [a for a, e in enumerate(ethanol.elements) if e != "H"]
    assert graph_check(ethanol, starting_geometries(ethanol, 1)[0])[0] == "ok"
    # shuffle the ether coordinates onto ethanol's atom order: C-O-C is not C-C-O
    order = sorted(range(dimethyl_ether.n_atoms), key=lambda a: dimethyl_ether.elements[a])
    target = sorted(range(ethanol.n_atoms), key=lambda a: ethanol.elements[a])
    moved = np.zeros_like(coords)
    moved[target] = coords[order]
    assert heavy and graph_check(ethanol, moved)[0] == "rearranged"
    # hysteresis: a long but intact bond (GFN2's H2, 0.776 A) is kept; a broken one is not
    h2 = Species.from_smiles("[H][H]")
    assert graph_check(h2, np.array([[0, 0, 0], [0.776, 0, 0]]))[0] == "ok"
    assert graph_check(h2, np.array([[0, 0, 0], [1.2, 0, 0]]))[0] == "rearranged"


def test_li_coordination_change_is_flagged_not_relabelled(oracle):
    ro = Species.from_smiles("[Li]OC(=O)OC[CH2]")
    rec = oracle.compute(ro)
    assert rec.key == ro.key
    assert rec.status in ("ok", "coordination_changed")
    if rec.status == "coordination_changed":
        assert "metal cation moved" in rec.reason


def test_label_cache_never_recomputes_and_keeps_failures(tmp_path, monkeypatch):
    from sei_net.generate import build_network

    net_path = tmp_path / "n.db"
    build_network("ec_lipf6", net_path, max_generations=0).close()
    calls = []

    import sei_net.energy.labelling as labelling

    real = labelling._label_one

    def counting(payload, name, settings):
        calls.append(payload["key"] if "key" in payload else Species.from_dict(payload).key)
        sp = Species.from_dict(payload)
        if sp.elements[0] == "F" or "P" in sp.elements:   # pretend PF6- fails
            return EnergyRecord(sp.key, labelling.make_oracle(name, **settings).level_of_theory, "failed",
                                reason="RuntimeError: SCF did not converge").to_dict()
        return real(payload, name, settings)

    monkeypatch.setattr(labelling, "_label_one", counting)
    first = label_network(net_path, n_conformers=1, hessian=False)
    assert first["computed"] == 3 and first["cache"] == {"ok": 2, "failed": 1}
    assert first["energies_written"] == 2
    second = label_network(net_path, n_conformers=1, hessian=False)
    assert second["computed"] == 0 and len(calls) == 3          # cache hits, failure not retried
    third = label_network(net_path, n_conformers=1, hessian=False, retry_failed=True)
    assert third["computed"] == 1 and len(calls) == 4           # only the failure is retried
    with LabelStore(tmp_path / "labels.db") as cache:
        failed = [r for r in cache.records() if r.status == "failed"]
    assert failed and "SCF" in failed[0].reason


def test_a_networks_oracle_energies_never_mix_levels_of_theory(tmp_path):
    from sei_net.generate import build_network
    from sei_net.store import NetworkStore

    net_path = tmp_path / "n.db"
    build_network("ec_lipf6", net_path, max_generations=0).close()
    one = label_network(net_path, n_conformers=1, hessian=False, max_heavy_atoms=5)
    assert one["energies_written"] >= 1
    # a run at another level (two conformers) that labels nothing yet leaves no stale energies behind
    two = label_network(net_path, n_conformers=2, hessian=False, max_heavy_atoms=5, limit=0)
    assert two["dropped_other_level_energies"] == one["energies_written"] and two["energies_written"] == 0
    assert two["other_levels"] == {one["level_of_theory"]: sum(one["cache"].values())}
    with NetworkStore.open(net_path, readonly=True) as store:
        assert store.energies("gfn2") == []
    again = label_network(net_path, n_conformers=1, hessian=False, max_heavy_atoms=5)
    assert again["computed"] == 0 and again["energies_written"] == one["energies_written"]   # from the cache
    with NetworkStore.open(net_path, readonly=True) as store:
        assert {r["level_of_theory"] for r in store.energies("gfn2")} == {one["level_of_theory"]}


def test_dask_local_cluster_labels_like_the_serial_run(tmp_path):
    pytest.importorskip("dask.distributed")
    from sei_net.recipe import parse_recipe
    from sei_net.generate import build_network

    recipe = parse_recipe({"name": "small", "species": [
        {"smiles": "C=C", "concentration": 1}, {"smiles": "O=C=O", "concentration": 1},
        {"smiles": "[C-]#[O+]", "concentration": 1}, {"smiles": "[Li+]", "concentration": 1}],
        "limits": {"max_generations": 0}})
    for name in ("serial", "dask"):
        build_network(recipe, tmp_path / f"{name}.db").close()
    serial = label_network(tmp_path / "serial.db", labels=tmp_path / "s_labels.db", n_conformers=1)
    parallel = label_network(tmp_path / "dask.db", labels=tmp_path / "d_labels.db", workers=2, n_conformers=1)
    assert serial["computed"] == parallel["computed"] == 4
    with LabelStore(tmp_path / "s_labels.db") as a, LabelStore(tmp_path / "d_labels.db") as b:
        ga = {r.key: r.G for r in a.records()}
        gb = {r.key: r.G for r in b.records()}
    assert ga.keys() == gb.keys() and all(abs(ga[k] - gb[k]) < 1e-6 for k in ga)


def test_reaction_energy_comparison_cancels_per_element_constants(tmp_path):
    """Two sources that differ by a constant per element (and per electron) give identical reaction
    energies for balanced reactions, and the electron constant is recovered exactly."""
    from sei_net.energy.compare import electron_offset, reaction_energy_errors
    from sei_net.generate import build_network

    with build_network("ec_lipf6", tmp_path / "c.db", max_generations=2) as net:
        species = net.species()
        rng = np.random.default_rng(1)
        per_element = {e: rng.normal(0, 50) for e in ("H", "Li", "C", "O", "F", "P")}
        rows = []
        for sid, sp in species.items():
            g = rng.normal(0, 3)
            shift = sum(per_element[e] for e in sp.elements) - 0.7 * (-sp.charge)  # 0.7 eV per electron
            rows += [{"species_id": sid, "source": "ref", "level_of_theory": "x", "G": g},
                     {"species_id": sid, "source": "test", "level_of_theory": "y", "G": g + shift}]
        net.store.set_energies(rows)
        stats = reaction_energy_errors(net.store, "test", "ref")
        assert stats["n"] > 50 and stats["mae"] < 1e-9
        cal = electron_offset(net.store, "test", "ref", reference_offset=1.40)
        assert cal["n"] > 5
        # each reduction is 0.7 eV more downhill in "test"; U = -dG - c matches "ref" for c = 1.40 + 0.7
        assert abs(cal["offset"] - (1.40 + 0.7)) < 1e-9 and cal["rmse_V"] < 1e-9


def test_label_export_round_trips(tmp_path):
    recs = [EnergyRecord("a|0|1", "L", "ok", E=-1.5, G=-1.2, temperature=298.15, coords=[[0.0, 0.0, 0.0]]),
            EnergyRecord("b|0|2", "L", "failed", reason="SCF not converged")]
    with LabelStore(tmp_path / "one.db") as one:
        one.put(recs)
        assert one.export_jsonl(tmp_path / "x.jsonl.gz") == 2
    with LabelStore(tmp_path / "two.db") as two:
        assert two.import_jsonl(tmp_path / "x.jsonl.gz") == 2
        assert two.get("a|0|1", "L") == recs[0] and two.get("b|0|2", "L").reason == "SCF not converged"
        assert two.todo(["a|0|1", "b|0|2", "c|0|1"], "L") == ["c|0|1"]
        assert two.todo(["a|0|1", "b|0|2"], "L", retry_failed=True) == ["b|0|2"]
        extra = EnergyRecord("c|0|1", "L", "ok", E=-2.0, G=-1.9, temperature=298.15, coords=[[0.0, 0.0, 0.0]])
        two.put([extra])
        assert two.export_jsonl(tmp_path / "new.jsonl.gz", exclude=[tmp_path / "x.jsonl.gz"]) == 1
    with LabelStore(tmp_path / "three.db") as three:                  # the two files make the whole set
        assert three.import_jsonl(tmp_path / "x.jsonl.gz") + three.import_jsonl(tmp_path / "new.jsonl.gz") == 3
        assert three.get("c|0|1", "L") == extra


def test_resuming_from_an_export_keeps_what_the_cache_already_holds(tmp_path):
    exported = [EnergyRecord("a|0|1", "L", "failed", reason="SCF not converged"),
                EnergyRecord("b|0|1", "L", "ok", E=-1.0, G=-0.9, temperature=298.15, coords=[[0.0, 0.0, 0.0]])]
    with LabelStore(tmp_path / "old.db") as old:
        old.put(exported)
        old.export_jsonl(tmp_path / "x.jsonl.gz")
    retried = EnergyRecord("a|0|1", "L", "ok", E=-2.0, G=-1.8, temperature=298.15, coords=[[0.0, 0.0, 0.0]])
    with LabelStore(tmp_path / "new.db") as new:
        new.put([retried])                                      # computed here since the export
        assert new.import_jsonl(tmp_path / "x.jsonl.gz", replace=False) == 1
        assert new.get("a|0|1", "L") == retried and new.get("b|0|1", "L") == exported[1]
        assert new.import_jsonl(tmp_path / "x.jsonl.gz", replace=False) == 0
        assert new.import_jsonl(tmp_path / "x.jsonl.gz") == 2  # the default replaces
        assert new.get("a|0|1", "L").status == "failed"
