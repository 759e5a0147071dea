"""The known SEI chemistry on the generated ec_lipf6 network with surrogate energies (issue 6).

From EC + Li+ + e- at 0 V vs Li/Li+, LEDC, C2H4 and Li2CO3 must be reachable and ranked among the
likely products. "Among the likely products" is fixed relative to the network, before looking at
the ranks: within the top 1 % of its species."""

from pathlib import Path

import pytest

pytest.importorskip("torch")

from sei_net.generate import build_network  # noqa: E402
from sei_net.kinetics.products import likely_products  # noqa: E402
from sei_net.kinetics.query import PathQuery  # noqa: E402
from sei_net.learn.score import load_model, oracle_labels, score_network  # noqa: E402
from sei_net.store import NetworkStore  # noqa: E402

LABELS = [Path(__file__).parents[1] / "data" / "labels" / f for f in
          ("gfn2_ec_lipf6.jsonl.gz", "gfn2_reference_species.jsonl.gz")]


@pytest.mark.slow
def test_ledc_c2h4_and_li2co3_are_likely_products(tmp_path):
    db = tmp_path / "ec_lipf6.db"
    build_network("ec_lipf6", db).close()
    model = load_model("default", "cpu")
    with NetworkStore.open(db) as store:
        score_network(store, model, oracle_labels(LABELS, model))
    with NetworkStore.open(db, readonly=True) as store:
        q = PathQuery.prepare(store, source="gfn2-surrogate", potential=0.0)
        start = [q.species_id("EC"), q.species_id("Li+")]
        top = max(1, len(q.species) // 100)
        ranked = likely_products(q, start, top)
        names = [p["known_as"] for p in ranked]
        for name in ("LEDC", "C2H4", "Li2CO3"):
            assert name in names, f"{name} not among the top {top} likely products"
            path = q.paths(start, q.species_id(name), 1)[0]
            assert path.electrons == 2 and path.dG_total < 0  # two reductions, downhill overall
