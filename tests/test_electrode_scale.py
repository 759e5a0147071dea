"""The electron free-energy constant: fitted on measured reduction potentials, the shipped GFN2 constant
is that fit, and the measured window agrees with the DFT reference networks' own constant."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from sei_net.constants import ELECTRON_FREE_ENERGY_OFFSET, ELECTRON_OFFSETS
from sei_net.energy.electrode_scale import (COUPLES, MEASUREMENTS, Measurement, calibrate_electron_offset,
                                            reduction_free_energies)
from sei_net.cli import app

LABELS = sorted((Path(__file__).resolve().parents[1] / "data" / "labels").glob("gfn2_*.jsonl.gz"))


def _energies_at(offset: float, potentials: dict[str, float]) -> dict[str, float]:
    """Species free energies (eV) whose couples reduce at ``potentials`` (V) for electron constant
    ``offset``: G_red - G_ox = -(U + c); every oxidised species at an arbitrary distinct G."""
    G = {}
    for i, (name, u) in enumerate(potentials.items()):
        ox, red = COUPLES[name].keys()
        G[ox] = -100.0 * (i + 1)
        G[red] = G[ox] - (u + offset)
    return G


def test_recovers_a_known_constant_and_predicts_the_other_couples():
    truth = {"Li+EC": 0.75, "Li+VC": 1.3, "FEC": -0.2}
    scale = calibrate_electron_offset(_energies_at(4.0, truth))
    assert scale.offset == pytest.approx(4.0, abs=1e-9)          # the window's midpoint is 0.75 V
    assert scale.offset_range == pytest.approx((3.95, 4.05), abs=1e-9)
    assert scale.potentials == pytest.approx(truth, abs=1e-9)
    assert set(scale.missing) == set(COUPLES) - set(truth)
    holds = {(c["couple"], c["low_V"]): c["holds"] for c in scale.checks}
    assert holds == {("Li+EC", 0.7): True, ("Li+EC", 1.0): False, ("Li+VC", 1.0): True}


def test_a_shifted_labelling_shifts_the_constant_not_the_potentials():
    """Adding the same constant to every reduced species (what an error in absolute electron
    affinities does) moves c by that amount and leaves every predicted potential unchanged."""
    truth = {"Li+EC": 0.8, "Li+FEC": 1.1, "EC": -0.5}
    a = calibrate_electron_offset(_energies_at(5.0, truth))
    b = calibrate_electron_offset(_energies_at(5.0 + 2.5, truth))
    assert b.offset - a.offset == pytest.approx(2.5, abs=1e-9)
    assert b.potentials == pytest.approx(a.potentials, abs=1e-9)


def test_disagreeing_windows_leave_no_range_and_bad_input_is_named():
    G = _energies_at(3.0, {"Li+EC": 0.75, "Li+VC": 2.0})
    both = MEASUREMENTS[:1] + (Measurement("Li+VC", 0.7, 0.8, "test", "test"),)
    scale = calibrate_electron_offset(G, both)
    assert scale.offset_range is None
    assert scale.offset == pytest.approx(3.0 + (2.0 - 0.75) / 2, abs=1e-9)   # least squares: the mean
    with pytest.raises(ValueError, match="Li\\+EC"):
        calibrate_electron_offset(_energies_at(3.0, {"VC": 1.0}))
    with pytest.raises(ValueError, match="unknown couples \\['PC'\\]"):
        calibrate_electron_offset(G, (Measurement("PC", 0.5, 1.0, "test", "test"),))


def test_shipped_gfn2_constant_is_the_calibration_on_the_shipped_labels():
    res = CliRunner().invoke(app, ["electrode-scale", *map(str, LABELS), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["level_of_theory"].startswith("GFN2-xTB")
    scale = SimpleNamespace(offset=out["offset_eV"], potentials=out["potentials_V"], missing=out["missing"])
    assert abs(ELECTRON_OFFSETS["gfn2"] - scale.offset) <= 0.005          # the constant, rounded
    assert not scale.missing
    # measured: the additives are reduced before EC (they make the SEI first); GFN2 agrees
    assert scale.potentials["Li+FEC"] > scale.potentials["Li+EC"]
    assert scale.potentials["Li+VC"] > scale.potentials["Li+EC"]
    # Li+ binding makes reduction easier by far (every SEI study: bare EC reduces below 0 V)
    for solvent in ("EC", "FEC", "VC"):
        assert scale.potentials[f"Li+{solvent}"] > scale.potentials[solvent] + 0.5


def test_measured_ec_window_agrees_with_the_dft_networks_constant(rnmc_entries):
    """Independent check of the reference: the RNMC network's DFT free energies (eV) with the DFT
    constant of DESIGN.md (1.40 eV) put Li+(EC) + e- -> LiEC inside the measured EC window."""
    g = {e["name"]: e["free_energy"] for e in rnmc_entries}
    u = -(g["LiEC"] - g["LiEC_plus"]) - ELECTRON_FREE_ENERGY_OFFSET
    window = next(m for m in MEASUREMENTS if m.couple == "Li+EC" and m.two_sided)
    assert window.holds(u)


def test_reduction_free_energies_need_both_species():
    G = _energies_at(5.0, {"Li+EC": 0.75})
    ox, red = COUPLES["Li+EC"].keys()
    assert reduction_free_energies(G) == pytest.approx({"Li+EC": -5.75})
    del G[red]
    assert reduction_free_energies(G) == {}
