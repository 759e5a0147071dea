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
