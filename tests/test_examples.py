"""The examples/ scripts run with small limits and give chemically sensible answers."""

import pytest


def test_build_network_reaches_ring_opened_liec(tmp_path, load_example):
    out = load_example("build_network").main(["--max-generations", "2", "--out", str(tmp_path)])
    assert out["species"] > 3 and out["reactions"] > 0
    assert {"EC", "Li+", "LiEC_RO"} <= set(out["known"])        # EC + Li+ + e-, then ring opening
    assert out["kinds"].get("redox", 0) > 0


def test_path_query_finds_ring_opened_liec_by_reduction(tmp_path, load_example):
    paths = load_example("path_query").main(["--max-generations", "2", "--out", str(tmp_path), "--target", "LiEC_RO",
                                      "-k", "2"])
    assert 1 <= len(paths) <= 2 and paths[0]["cost"] <= paths[-1]["cost"]
    best = paths[0]
    assert best["electrons"] == 1                               # one reduction makes LiEC_RO
    assert any(s["kind"] == "ring_opening" for s in best["steps"])


@pytest.mark.slow
def test_grow_sei_runs_and_accounts_for_its_events(tmp_path, load_example):
    rep = load_example("grow_sei").main(["--max-generations", "2", "--out", str(tmp_path), "--steps", "3",
                                  "--md-steps", "5", "--box", "26", "--height", "30"])
    assert rep["chemical_time_s"] == pytest.approx(3e-5)
    assert sum(rep["events_by_family"].values()) > 0        # Li+ meets EC at once: coordination fires
    assert rep["thickness_A"]["final_max"] >= rep["thickness_A"]["final_mean"] >= 0
