"""The NEB barrier store carries over to a fresh machine through a committed barrier dataset."""

import gzip
import json
from collections import Counter
from pathlib import Path

from sei_net.energy.barrier_labels import BarrierStore
from sei_net.energy.neb import NEB_LEVEL, BarrierRecord

DATASET = Path(__file__).parents[1] / "data" / "barriers" / "gfn2_neb_ec_lipf6.jsonl.gz"


def _dataset_lines() -> list[dict]:
    with gzip.open(DATASET, "rt") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def test_the_committed_dataset_rebuilds_the_store_that_made_it(tmp_path):
    lines = _dataset_lines()
    with BarrierStore(tmp_path / "b.db") as store:
        assert store.import_jsonl(DATASET) == len(lines)
        assert store.counts() == dict(Counter(d["status"] for d in lines))
        assert store.done(NEB_LEVEL) == {d["reaction_key"] for d in lines}  # a resumed run skips them all
        assert store.import_jsonl(DATASET) == 0
        kinds, records = zip(*store.records())
    first = next(d for d in lines if d["status"] == "ok")
    again = dict(zip([r["reaction_key"] for r in records], zip(kinds, records)))[first["reaction_key"]]
    assert again[0] == first["kind"]
    assert again[1]["dG_act"] == first["dG_act"] and again[1]["ts_coords"] == first["ts_coords"]


def test_importing_keeps_results_stored_since_the_export(tmp_path):
    with BarrierStore(tmp_path / "old.db") as old:
        old.put(BarrierRecord("r1", "failed", reason="SCF not converged"), "concerted")
        old.put(BarrierRecord("r2", "ok", dG_act=0.4), "fragmentation")
        assert old.export_jsonl(tmp_path / "x.jsonl") == 2
    with BarrierStore(tmp_path / "new.db") as new:
        new.put(BarrierRecord("r1", "ok", dG_act=0.7), "concerted")  # retried here
        assert new.import_jsonl(tmp_path / "x.jsonl") == 1
        by_key = {rec["reaction_key"]: rec for _, rec in new.records()}
        assert by_key["r1"]["status"] == "ok" and by_key["r2"]["dG_act"] == 0.4


def test_export_leaves_out_records_of_reactions_the_network_lacks(tmp_path):
    """A store that took in another network's dataset (--resume-from) exports only this network's
    reactions, each with the dG of its species labels; the rest is counted, not a crash."""
    from sei_net.energy.labels import LabelStore
    from sei_net.energy.record import EnergyRecord
    from sei_net.generate import build_network
    from sei_net.learn.barrier_data import export_barrier_dataset
    from sei_net.recipe import parse_recipe

    recipe = parse_recipe({"name": "ro", "species": [{"smiles": "[CH2]COC(=O)[O-]", "concentration": 1.0}],
                           "limits": {"max_generations": 1}})
    with build_network(recipe, tmp_path / "ro.db") as net:
        reaction = next(r for r in net.reactions() if len(r.reactants) == 1 and r.electrons == 0)
    level = "test level"
    G = {s.key: -100.0 - i for i, s in enumerate(reaction.reactants + reaction.products)}
    with LabelStore(tmp_path / "labels.db") as labels:
        labels.put([EnergyRecord(k, level, "ok", E=g, G=g, temperature=298.15) for k, g in G.items()])
    with BarrierStore(tmp_path / "b.db") as store:
        store.put(BarrierRecord(reaction.key, "ok", dG_act=0.5), reaction.kind)
        store.put(BarrierRecord("0" * 32, "barrierless"), "fragmentation")   # another network's
    written, left_out = export_barrier_dataset(tmp_path / "b.db", tmp_path / "ro.db", tmp_path / "labels.db",
                                               level, tmp_path / "out.jsonl.gz")
    assert (written, left_out) == (1, 1)
    with gzip.open(tmp_path / "out.jsonl.gz", "rt") as fh:
        (line,) = [json.loads(x) for x in fh]
    assert line["reaction_key"] == reaction.key
    assert line["dG"] == sum(G[p.key] for p in reaction.products) - G[reaction.reactants[0].key]
