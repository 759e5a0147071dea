"""The sei-net command line: documented JSON, one-line errors with exit code 2, fast start-up."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from sei_net import Species
from sei_net.cli import app
from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.store import NetworkStore

runner = CliRunner()


def sei_net(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sei_net.cli", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def mrnet_db(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("cli") / "m.db"
    res = runner.invoke(app, ["import", "mrnet", str(shared_data / "mrnet" / "ronalds_MoleculeEntry.json"),
                              "-o", str(path)])
    assert res.exit_code == 0, res.output
    return path


def assert_mean_ranking_then_members(ranked: list[dict]) -> None:
    """Likely products: the mean ranking by cost first, then only species most members keep."""
    by_mean = [p for p in ranked if p["ranked_by"] == "mean"]
    assert ranked[:len(by_mean)] == by_mean
    assert [p["cost"] for p in by_mean] == sorted(p["cost"] for p in by_mean)
    assert all(p["probability_top_k"] > 0.5 for p in ranked[len(by_mean):])


def test_info_json_schema(mrnet_db):
    res = runner.invoke(app, ["info", str(mrnet_db), "--json"])
    data = json.loads(res.stdout)
    assert data["species"] == 46 and data["reactions"] == 0
    assert data["kinds"] == {} and data["energy_sources"] == {"mrnet": 46}


def test_species_json_by_name_and_smiles(mrnet_db):
    by_name = json.loads(runner.invoke(app, ["species", str(mrnet_db), "-s", "EC", "--json"]).stdout)
    by_smiles = json.loads(runner.invoke(app, ["species", str(mrnet_db), "-s", "C1COC(=O)O1", "--json"]).stdout)
    assert by_name == by_smiles
    rec = by_name["species"][0]
    assert set(rec) == {"key", "name", "smiles", "formula", "charge", "multiplicity", "energies"}
    assert rec["formula"] == "C3H4O3" and rec["charge"] == 0 and rec["multiplicity"] == 1
    e = rec["energies"]["mrnet"]
    assert set(e) == {"G", "sigma", "members", "level_of_theory"} and e["G"] < -9000
    everything = json.loads(runner.invoke(app, ["species", str(mrnet_db), "--json"]).stdout)
    assert len(everything["species"]) == 46


@pytest.mark.parametrize("args, message", [
    (["species", "{db}", "-s", "C1CC("], "nor a valid SMILES"),
    (["species", "{db}", "-s", "[Li]OC(=O)OCCCCOC(=O)O[Li]"], "is not in"),
    (["info", "{missing}"], "does not exist"),
    (["info", "{notnet}"], "not a sei_net network"),
    (["export", "{db}", "--format", "xml", "-o", "{tmp}/x"], "valid formats"),
    (["import", "mrnet", "{notnet}", "-o", "{tmp}/y.db"], "not JSON"),
    (["run", "{tmp}/bad_recipe.yaml", "-o", "{tmp}/o"], "species[0]"),
    (["run", "no_such_recipe", "-o", "{tmp}/o"], "ec_lipf6"),
    (["run", "ec_lipf6", "--potential", "0,low", "-o", "{tmp}/o"], "comma-separated numbers in V vs Li/Li+"),
    (["run", "ec_lipf6", "--temperature", "-5", "-o", "{tmp}/o"], "temperatures are in K"),
    (["run", "ec_lipf6", "--kinetics-time", "0", "-o", "{tmp}/o"], "positive time in s"),
    (["run", "ec_lipf6", "--max-generations", "0", "-o", "{tmp}/o"], "--max-generations 0 is not valid"),
    (["run", "ec_lipf6", "--electrode-kinetics", "tafel", "-o", "{tmp}/o"], "valid: marcus, mhc"),
    (["run", "ec_lipf6", "--viscosity", "-1", "-o", "{tmp}/o"], "shear viscosity in mPa s"),
    (["grow", "ec_lipf6", "--net", "{missing}", "-o", "{tmp}/g"], "does not exist"),
    (["grow", "ec_lipf6", "--net", "{db}", "-o", "{tmp}/g"], "PF6- are not in"),
    (["grow", "ec_lipf6", "--net", "{db}", "--box", "-3", "-o", "{tmp}/g"], "must be positive"),
])
def test_bad_input_gives_one_line_and_exit_2(mrnet_db, tmp_path, args, message):
    notnet = tmp_path / "notnet.db"
    notnet.write_text("plain text")
    (tmp_path / "bad_recipe.yaml").write_text("name: x\nspecies:\n  - {smiles: 'C1CC(', concentration: 1}\n")
    fmt = {"db": mrnet_db, "missing": tmp_path / "missing.db", "notnet": notnet, "tmp": tmp_path}
    res = sei_net(*[a.format(**fmt) for a in args])
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_cli_import_keeps_heavy_modules_lazy():
    code = ("import sys, sei_net.cli; heavy = [m for m in ('rdkit', 'torch', 'pymatgen', 'torch_geometric', "
            "'ase', 'numpy', 'scipy') if m in sys.modules]; print(','.join(heavy))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == ""


def test_run_builds_the_network_and_resumes(tmp_path):
    recipe = tmp_path / "small.yaml"
    recipe.write_text("name: small\nspecies: [{smiles: 'O=C1OCCO1', concentration: 14.0},\n"
                      "  {smiles: '[Li+]', concentration: 1.0}]\nlimits: {max_generations: 2}\n")
    out = tmp_path / "run"
    first = runner.invoke(app, ["run", str(recipe), "-o", str(out)])
    assert first.exit_code == 0, first.output
    summary = json.loads((out / "summary.json").read_text())
    assert "generation" in summary["stages_done"] and summary["generation"]["stop_reason"] == "max_generations"
    assert summary["network"]["species"] > 2
    assert "LiEC_RO" in summary["generation"]["known_sei_species_found"]  # EC + Li+ + e-, ring opened
    assert {"energies", "paths"} <= set(summary["stages_done"])
    # C, H, O, Li: all known to the model; only species the shipped labels say have no minimum go unscored
    energies = summary["energies"]
    assert energies["skipped_unknown_elements"] == 0
    assert energies["scored"] + energies["no_minimum_unscored"] == summary["network"]["species"]
    assert summary["products"]["settings"]["energy_source"] == "gfn2-surrogate"
    ranked = summary["products"]["likely_products"]
    assert ranked and all(p["class"] != "radical" for p in ranked)
    assert_mean_ranking_then_members(ranked)
    assert {"sweep", "kinetics", "report"} <= set(summary["stages_done"])
    sweep = summary["sweep"]
    assert [r["potential_V_vs_Li"] for r in sweep["rows"]] == [0.0, 0.3, 0.6, 0.9, 1.2, 1.5]
    kin = summary["kinetics"]
    totals = kin["element_totals"]
    assert totals["initial"] == {"C": 3 * 1400, "H": 4 * 1400, "Li": 100, "O": 3 * 1400}
    assert totals["at_counts_time"] == pytest.approx(totals["initial"])   # atoms conserved
    assert 0 < kin["counts_at_s"] <= kin["time_reached_s"]["min"] and kin["members"]["n"] == 5
    assert 0 < kin["members"]["counts_at_s"] <= kin["counts_at_s"]
    spreads = [y["members"] for y in kin["yields"] if "members" in y]
    assert spreads and all(m["min"] <= m["median"] <= m["max"] for m in spreads)
    assert max(kin["series"]["time_s"]) == kin["counts_at_s"]
    assert min(t for t in kin["series"]["time_s"] if t > 0) <= 1e-9 * kin["counts_at_s"]   # 10 decades shown
    ms = kin["member_series"]   # the members' counts over time end where the yields' member figures are taken
    assert ms["members"] == 5 and ms["time_s"][-1] == pytest.approx(kin["members"]["counts_at_s"])
    for i, name in enumerate(kin["series"]["species"]):
        assert all(lo <= med <= hi for lo, med, hi in zip(ms["min"][i], ms["median"][i], ms["max"][i]))
        y = next(y for y in kin["yields"] if y["species"] == name)
        assert ms["median"][i][-1] == pytest.approx(y["members"]["median"])
        assert (ms["min"][i][-1], ms["max"][i][-1]) == pytest.approx((y["members"]["min"], y["members"]["max"]))
    assert kin["acceleration"]["separation"] == 100 and kin["stop"]["time_s"] == 1.0   # the default run
    ec = next(y for y in kin["yields"] if y["known_as"] == "EC")
    assert ec["initial"] == 1400 and ec["mean"] < 1400                   # electrons at 0 V reduce EC
    page = (out / "report.html").read_text()
    assert "Level of theory" in page and "Kinetics" in page and "<img" in page and "Accelerated" in page
    e = summary["energies"]   # the page says how many species have energies, and from where
    assert f"{e['scored']} species have a free energy: {e['oracle_labels_kept']} their oracle label" in page
    assert (f"{e['no_minimum_unscored']} are left without one" in page) == (e["no_minimum_unscored"] > 0)
    assert "http://" not in page and "https://" not in page and 'src="data:image/png;base64,' in page
    second = runner.invoke(app, ["run", str(recipe), "-o", str(out), "--trajectories", "0",
                                 "--potential", "0.5"])
    assert "resuming" in second.output
    again = json.loads((out / "summary.json").read_text())
    assert again["network"] == summary["network"] and "kinetics" not in again["stages_done"]
    assert [r["potential_V_vs_Li"] for r in again["sweep"]["rows"]] == [0.0, 0.5]   # the recipe's is added
    deeper = runner.invoke(app, ["run", str(recipe), "-o", str(out), "--trajectories", "0", "--max-generations", "3"])
    assert deeper.exit_code == 0, deeper.output
    third = json.loads((out / "summary.json").read_text())      # the built network is extended, not rebuilt
    assert [g["generation"] for g in third["generation"]["generations"]] == [1, 2, 3]
    assert third["network"]["species"] > summary["network"]["species"]
    assert third["energies"]["scored"] + third["energies"]["no_minimum_unscored"] == third["network"]["species"]


def _ec_lipf6_small(folder: Path) -> Path:
    """EC + LiPF6 (as Li+ and PF6-, which growth needs) over two generations."""
    recipe = folder / "small.yaml"
    recipe.write_text("name: small\nspecies: [{smiles: 'O=C1OCCO1', concentration: 14.0},\n"
                      "  {smiles: '[Li+]', concentration: 1.0}, {smiles: 'F[P-](F)(F)(F)(F)F', concentration: 1.0}]\n"
                      "limits: {max_generations: 2}\n")
    return recipe


def test_grow_builds_scores_grows_and_resumes(tmp_path):
    recipe = _ec_lipf6_small(tmp_path)
    out = tmp_path / "g"
    args = ["grow", str(recipe), "-o", str(out), "--box", "26", "--height", "30", "--md-steps", "10", "--json"]
    first = runner.invoke(app, args + ["--steps", "4"])
    assert first.exit_code == 0, first.output
    s = json.loads(first.stdout)
    assert s["steps"] == 4 and s["chemical_time_s"] == pytest.approx(4e-9)
    assert s["level_of_theory"]["rates"].startswith("gfn2-surrogate via Eyring")
    assert set(s["model"]["bulk"]) == {"EC", "Li+", "PF6-"} and s["model"]["debye_length_A"] == pytest.approx(3.25, abs=0.01)
    assert sum(s["events"]["by_family"].values()) > 0          # Li+ meets EC at once: coordination fires
    assert (out / "growth.png").stat().st_size > 10_000 and (out / "final.extxyz").exists()
    again = runner.invoke(app, args + ["--steps", "6"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["steps"] == 6 and json.loads((out / "growth.json").read_text())["steps"] == 6


def test_run_with_grow_adds_an_sei_growth_section(tmp_path):
    recipe = _ec_lipf6_small(tmp_path)
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", str(recipe), "-o", str(out), "--trajectories", "0", "--grow", "3"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert "growth" in summary["stages_done"] and "kinetics" not in summary["stages_done"]
    g = summary["growth"]
    assert g["steps"] == 3 and g["chemical_time_s"] == pytest.approx(3 * 1e-5)   # the main job's reactive dt
    assert g["settings"]["temperature"] == summary["temperature_K"]      # rates and MD at the recipe's T
    assert g["events"]["by_family"]["electrode"] > 0                   # 0 V vs Li/Li+ reduces EC at the wall
    assert json.loads((out / "growth" / "growth.json").read_text())["steps"] == 3
    page = (out / "report.html").read_text()
    section = page[page.index("<h2>SEI growth</h2>"):]
    assert "3 reactive steps" in section and '<img alt="SEI growth" src="data:image/png;base64,' in section


@pytest.fixture(scope="module")
def mrnet_rxn_db(tmp_path_factory, shared_data):
    path = tmp_path_factory.mktemp("cli") / "mr.db"
    res = runner.invoke(app, ["import", "mrnet", str(shared_data / "mrnet" / "ronalds_MoleculeEntry.json"),
                              "--reactions", "-o", str(path)])
    assert res.exit_code == 0, res.output
    return path


def test_paths_json_schema_and_plot(mrnet_rxn_db, tmp_path):
    png = tmp_path / "p.png"
    res = runner.invoke(app, ["paths", str(mrnet_rxn_db), "--from", "EC", "--from", "[Li+]", "--to", "LEDC",
                              "-k", "3", "--electron-free-energy", "-2.15", "--json", "--plot", str(png)])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [p["rank"] for p in data["paths"]] == [1, 2, 3]
    costs = [p["cost"] for p in data["paths"]]
    assert costs == sorted(costs)
    for p in data["paths"]:
        assert {"cost", "dG_total", "hardest_step_dG", "probability_best", "steps"} <= set(p)
        # the overall dG is the sum of each step's dG times how often it fires
        assert p["dG_total"] == pytest.approx(sum(s["dG"] * s["times"] for s in p["steps"]))
        for s in p["steps"]:
            assert {"reactants", "products", "electrons", "dG", "barrier", "rate"} <= set(s)
            assert s["barrier"] >= max(0.0, s["dG"]) - 1e-12
    assert data["settings"]["electron_free_energy_eV"] == -2.15
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"


def test_products_lists_ledc_and_c2h4(mrnet_rxn_db):
    res = runner.invoke(app, ["products", str(mrnet_rxn_db), "--from", "EC", "--from", "Li_plus",
                              "--potential", "0.0", "--json"])
    assert res.exit_code == 0, res.output
    ranked = json.loads(res.stdout)["products"]
    names = [p["species"] for p in ranked]
    assert {"LEDC", "C2H4", "Li2CO3"} <= set(names)
    assert next(p["class"] for p in ranked if p["species"] == "C2H4") == "gas"
    assert_mean_ranking_then_members(ranked)


@pytest.mark.parametrize("args, message", [
    (["--from", "EC", "--to", "LEDC"], "cannot be made from EC"),
    (["--from", "EC", "--from", "Li_plus", "--to", "unobtainium"], "unobtainium"),
    (["--from", "EC", "--to", "EC"], "is one of the starting species"),
    (["--from", "EC", "--to", "LEDC", "--cost", "cheap"], "valid costs"),
    (["--from", "EC", "--to", "LEDC", "--potential", "0", "--electron-free-energy", "-2"], "not both"),
])
def test_paths_bad_input_exit_2(mrnet_rxn_db, args, message):
    res = sei_net("paths", str(mrnet_rxn_db), *args)
    assert res.returncode == 2
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_run_keeps_the_shipped_oracle_labels_unless_told_not_to(tmp_path):
    from sei_net.learn.dataset import label_energies
    from sei_net.resources import shipped_label_files

    shipped, _ = label_energies(shipped_label_files())
    recipe = _ec_lipf6_small(tmp_path)
    origins = {}
    for flag in ("--shipped-labels", "--no-shipped-labels"):
        out = tmp_path / flag
        # else the oracle labels small ones, and those outside the surrogate's domain
        small = [] if flag == "--shipped-labels" else ["--no-oracle-small", "--no-oracle-outside"]
        res = runner.invoke(app, ["run", str(recipe), "-o", str(out), "--trajectories", "0", "--potential", "0",
                                  flag, *small])
        assert res.exit_code == 0, res.output
        with NetworkStore.open(out / "small.db", readonly=True) as store:
            key_of = {sid: key for key, sid in store.species_ids.items()}
            rows = {key_of[r["species_id"]]: r for r in store.energies("gfn2-surrogate")}
        origins[flag] = {k: r["data"]["origin"] for k, r in rows.items()}
        if flag == "--shipped-labels":   # every labelled species has its GFN2 G in every member, with no spread
            labelled = [k for k in rows if k in shipped]
            assert len(labelled) > 10 and all(origins[flag][k] == "oracle" for k in labelled)
            for k in labelled:
                assert rows[k]["G"] == shipped[k][1] and rows[k]["sigma"] == 0
                assert np.all(rows[k]["members"] == shipped[k][1])
            heavy = {k: Species.from_key(k).n_heavy for k in rows}
            assert all(origins[flag][k] == "surrogate" for k in rows if k not in shipped and heavy[k] > ORACLE_MAX_HEAVY)
            assert all(origins[flag][k] == "oracle" for k in rows if heavy[k] <= ORACLE_MAX_HEAVY)
            energies = json.loads((out / "summary.json").read_text())["energies"]
            asked = energies["small_species"]["unlabelled"] + energies["outside_domain"]["unlabelled"]
            assert (out / "labels.db").exists() == (asked > 0)
    assert set(origins["--no-shipped-labels"].values()) == {"surrogate"}
