"""Recipes validate with clear errors; the wheel ships the rule and recipe folders."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sei_net.recipe import RecipeError, load_recipe, parse_recipe
from sei_net.resources import resource_dir, shipped_label_files

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["ec_lipf6", "ec_dmc_lipf6", "ec_fec_lipf6", "ec_vc_lipf6"])
def test_shipped_recipes_validate(name):
    recipe = load_recipe(name)
    assert recipe.name == name and recipe.temperature == 298.15 and recipe.potential == 0.0
    names = {s.species.name for s in recipe.species}
    assert {"EC", "Li+", "PF6-"} <= names
    # the salt is charge-neutral: Li+ and PF6- at the same concentration
    conc = {s.species.name: s.concentration for s in recipe.species}
    assert conc["Li+"] == conc["PF6-"] > 0
    assert sum(s.species.charge * s.concentration for s in recipe.species) == 0


@pytest.mark.parametrize("data, message", [
    ({"species": []}, "missing required key 'name'"),
    ({"name": "x", "species": []}, "non-empty list"),
    ({"name": "x", "species": [{"smiles": "C"}], "potentail": 0}, "unknown key"),
    ({"name": "x", "species": [{"smiles": "C", "concentration": -1}]}, ">= 0.0"),
    ({"name": "x", "species": [{"smiles": "C"}], "limits": {"max_generation": 1}}, "unknown limit"),
    ({"name": "x", "species": [{"smiles": "C"}], "temperature": "hot"}, "must be a number"),
    ({"name": "x", "species": [{"smiles": "C"}, {"smiles": "C"}]}, "listed twice"),
])
def test_bad_recipes_are_rejected_with_the_key_named(data, message):
    with pytest.raises(RecipeError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_recipe(data, "r.yaml")


def test_wheel_ships_rules_and_recipes(tmp_path):
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                   cwd=REPO, check=True, capture_output=True)
    wheel = next(tmp_path.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "sei_net/data/networks/ec_lipf6.yaml" in names
    assert any(n.startswith("sei_net/data/reactions/") for n in names)
    labels = {Path(n).name for n in names if n.startswith("sei_net/data/labels/gfn2_")}   # what sei-net run keeps
    assert labels == {p.name for p in shipped_label_files()} and len(labels) > 10
    assert any(n.endswith("entry_points.txt") for n in names)
    for model in ("energy_gfn2.pt", "barrier_gfn2_neb.pt", "thermal_gfn2.json"):  # shipped defaults
        assert f"sei_net/data/models/{model}" in names


def test_resource_dirs_exist():
    assert (resource_dir("networks") / "ec_lipf6.yaml").is_file()
    assert resource_dir("reactions").is_dir()
