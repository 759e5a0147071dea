"""Small species are the oracle's: selection, labelling, resuming, and what scoring keeps."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from sei_net import Species
from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.energy.record import EnergyRecord
from sei_net.energy.small_species import label_small_species, small_species

REFERENCE = Path(__file__).parents[1] / "data" / "labels" / "gfn2_reference_species.jsonl.gz"
CO2, H2O, LI = Species.from_smiles("O=C=O"), Species.from_smiles("O"), Species.from_smiles("[Li+]")
GLYOXAL, EC = Species.from_smiles("O=CC=O"), Species.from_smiles("O=C1OCCO1")


class CountingOracle:
    """Stands in for GFN2: a fixed G per call, and a list of the keys it was asked for."""

    name = "fake"
    level_of_theory = "fake level"

    def __init__(self):
        self.asked: list[str] = []

    def compute(self, species: Species) -> EnergyRecord:
        self.asked.append(species.key)
        return EnergyRecord(species.key, self.level_of_theory, "ok", E=-1.0, G=-1.0, temperature=298.15)


def test_small_means_at_most_the_heavy_atom_limit():
    assert ORACLE_MAX_HEAVY == 3 and CO2.n_heavy == 3 and GLYOXAL.n_heavy == 4
    picked = small_species([EC, GLYOXAL, CO2, H2O, LI])
    assert set(picked) == {CO2, H2O, LI}


def test_only_unsettled_small_species_are_labelled_and_a_rerun_computes_nothing(tmp_path):
    oracle = CountingOracle()
    cache = tmp_path / "labels.db"
    first = label_small_species([EC, GLYOXAL, CO2, H2O, LI], {H2O.key}, cache, oracle)
    assert sorted(oracle.asked) == sorted([CO2.key, LI.key])   # H2O settled; EC and glyoxal too big
    assert first["unlabelled"] == 2 and first["computed"] == 2
    assert first["records"] == {CO2.key: ("ok", -1.0), LI.key: ("ok", -1.0)}
    again = label_small_species([EC, GLYOXAL, CO2, H2O, LI], {H2O.key}, cache, oracle)
    assert again["computed"] == 0 and len(oracle.asked) == 2 and again["records"] == first["records"]


@pytest.mark.skipif(importlib.util.find_spec("tblite") is None, reason="needs tblite (GFN2-xTB)")
def test_the_oracle_is_the_one_whose_level_the_model_names():
    from sei_net.energy.gfn2 import GFN2Oracle
    from sei_net.energy.small_species import gfn2_oracle_for

    for settings in ({"n_conformers": 1}, {"n_conformers": 3}, {"n_conformers": 2, "hessian": False}):
        level = GFN2Oracle(**settings).level_of_theory
        assert gfn2_oracle_for(level).level_of_theory == level
    assert gfn2_oracle_for("wB97X-V/def2-TZVPPD; SMD(EC/EMC)") is None          # not GFN2: nothing labelled
    assert gfn2_oracle_for(GFN2Oracle(temperature=333.15).level_of_theory) is None  # another temperature


@pytest.mark.skipif(importlib.util.find_spec("tblite") is None, reason="needs tblite (GFN2-xTB)")
def test_scoring_labels_small_species_with_the_models_oracle_and_keeps_them(tmp_path):
    from sei_net.learn.dataset import label_energies
    from sei_net.learn.score import score_file
    from sei_net.store import NetworkStore

    net = tmp_path / "net.db"
    with NetworkStore.create(net) as store:
        store.add_species([H2O, CO2, EC])
    reference, level = label_energies([REFERENCE])
    result, model = score_file(net, "default", small_species_cache=tmp_path / "labels.db")
    assert model.level_of_theory == level
    small = result["small_species"]
    assert small["unlabelled"] == 2 and small["computed"] == 2 and small["usable"] == 2
    with NetworkStore.open(net, readonly=True) as store:
        key_of = {sid: key for key, sid in store.species_ids.items()}
        rows = {key_of[r["species_id"]]: r for r in store.energies(result["source"])}
    for sp in (H2O, CO2):   # a fresh GFN2 run at the model's level reproduces the committed labels
        assert rows[sp.key]["data"]["origin"] == "oracle" and rows[sp.key]["sigma"] == 0
        assert rows[sp.key]["G"] == pytest.approx(reference[sp.key][1], abs=0.01)
        assert np.all(rows[sp.key]["members"] == rows[sp.key]["G"])
    assert rows[EC.key]["data"]["origin"] == "surrogate" and rows[EC.key]["sigma"] > 0
    from typer.testing import CliRunner

    from sei_net.cli import app

    again = CliRunner().invoke(app, ["score", str(net), "--oracle-small", "--no-shipped-labels", "--json"])
    assert again.exit_code == 0, again.output
    small = json.loads(again.stdout)["small_species"]   # resumed from the cache beside the network
    assert small["computed"] == 0 and small["usable"] == 2 and small["cache"] == str(tmp_path / "labels.db")


@pytest.mark.skipif(importlib.util.find_spec("tblite") is None, reason="needs tblite (GFN2-xTB)")
def test_scoring_sends_species_outside_the_models_domain_to_the_oracle(tmp_path):
    from sei_net.learn.domain import Domain
    from sei_net.learn.score import load_model, score_file
    from sei_net.store import NetworkStore

    ethynyl_ether = Species.from_smiles("[C]#COC")           # a bare sp carbon no training species has
    domain = Domain.of_card(load_model("default", "cpu").card)
    assert domain.novel(ethynyl_ether) and not domain.novel(EC)
    net = tmp_path / "net.db"
    with NetworkStore.create(net) as store:
        store.add_species([EC, ethynyl_ether])
    result, _ = score_file(net, "default", outside_domain_cache=tmp_path / "labels.db")
    outside = result["outside_domain"]
    assert outside["unlabelled"] == 1 and outside["computed"] == 1
    assert [tuple(row) for row in outside["environments"]] == [(e, 1) for e in domain.novel(ethynyl_ether)]
    with NetworkStore.open(net, readonly=True) as store:
        key_of = {sid: key for key, sid in store.species_ids.items()}
        rows = {key_of[r["species_id"]]: r for r in store.energies(result["source"])}
    assert result["domain"]["outside"] == 0                     # nothing left that the model would extrapolate
    assert rows[EC.key]["data"]["origin"] == "surrogate"
    if outside["usable"]:                                       # labelled: the oracle's G, no spread
        assert rows[ethynyl_ether.key]["data"]["origin"] == "oracle" and rows[ethynyl_ether.key]["sigma"] == 0
    else:                                                       # no minimum at the oracle's level: unscored
        assert ethynyl_ether.key not in rows and result["no_minimum_unscored"] == 1
    again, _ = score_file(net, "default", outside_domain_cache=tmp_path / "labels.db")
    assert again["outside_domain"]["computed"] == 0 and again["outside_domain"]["usable"] == outside["usable"]


def test_a_graph_rdkit_cannot_embed_is_not_asked_again_but_an_scf_failure_is(tmp_path):
    from sei_net.chem.convert import NOT_EMBEDDABLE
    from sei_net.energy.labels import LabelStore
    from sei_net.learn.dataset import oracle_verdicts

    level = "fake level"
    records = [EnergyRecord(CO2.key, level, "ok", E=-1.0, G=-1.0, temperature=298.15),
               EnergyRecord(EC.key, level, "failed", reason=f"ValueError: {NOT_EMBEDDABLE} for {EC.key}"),
               EnergyRecord(GLYOXAL.key, level, "failed", reason="RuntimeError: SCF did not converge")]
    with LabelStore(tmp_path / "labels.db") as store:
        store.put(records)
        assert store.not_embeddable(level) == [EC.key]
    known, no_minimum, not_embeddable = oracle_verdicts([tmp_path / "labels.db"], level)
    assert set(known) == {CO2.key} and not no_minimum and not_embeddable == {EC.key}   # glyoxal: ask again
