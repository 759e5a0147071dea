"""Electrolyte recipes: which species, how much, at what electrode potential and temperature.

Schema (YAML, see docs/recipes.md)::

    name: ec_lipf6
    species:                      # one entry per molecule or ion
      - {smiles: "O=C1OCCO1", name: EC, concentration: 14.0}     # mol/L
    potential: 0.0                # V vs Li/Li+
    temperature: 298.15           # K
    rules: default.yaml           # a file in reactions/ or a path
    limits: {max_generations: 3, max_species: 5000, max_reactions: 200000, max_heavy_atoms: 12}

Optional species keys: ``charge`` and ``multiplicity`` (override the SMILES). ``max_generations: 0``
gives a network of just the listed species.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sei_net.chem.species import Species
from sei_net.resources import check_mapping, find_resource

LIMIT_KEYS = {"max_generations": 3, "max_species": 5000, "max_reactions": 200_000,
              "max_heavy_atoms": 12}
TOP_KEYS = {"name", "description", "species", "potential", "temperature", "rules", "limits"}
SPECIES_KEYS = {"smiles", "name", "concentration", "charge", "multiplicity"}


class RecipeError(ValueError):
    """A recipe file is invalid; the message names the file, the key and what is valid."""


@dataclass
class RecipeSpecies:
    species: Species
    concentration: float  # mol/L


@dataclass
class Recipe:
    """A validated recipe. Potential in V vs Li/Li+, temperature in K, concentrations in mol/L."""

    name: str
    species: list[RecipeSpecies]
    potential: float = 0.0
    temperature: float = 298.15
    rules: str = "default.yaml"
    limits: dict[str, int] = field(default_factory=lambda: dict(LIMIT_KEYS))
    description: str = ""
    path: Path | None = None

    def rules_path(self) -> Path:
        """The rule library file (relative paths resolve next to the recipe first)."""
        if self.path is not None and (self.path.parent / self.rules).is_file():
            return self.path.parent / self.rules
        return find_resource("reactions", self.rules)


def _number(value, where: str, lo: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RecipeError(f"{where} must be a number, got {value!r}")
    if lo is not None and value < lo:
        raise RecipeError(f"{where} must be >= {lo}, got {value!r}")
    return float(value)


def parse_recipe(data: dict, source: str = "recipe") -> Recipe:
    """Validate a recipe dict; raises RecipeError naming the bad key and what is valid."""
    check_mapping(data, TOP_KEYS, source, "recipe", RecipeError)
    for key in ("name", "species"):
        if key not in data:
            raise RecipeError(f"{source}: missing required key {key!r}")
    if not isinstance(data["name"], str) or not data["name"].strip():
        raise RecipeError(f"{source}: 'name' must be a non-empty string")
    if not isinstance(data["species"], list) or not data["species"]:
        raise RecipeError(f"{source}: 'species' must be a non-empty list of {{smiles, name, concentration}}")
    species = []
    for i, item in enumerate(data["species"]):
        where = f"{source}: species[{i}]"
        if not isinstance(item, dict) or "smiles" not in item:
            raise RecipeError(f"{where} must be a mapping with at least 'smiles'")
        bad = set(item) - SPECIES_KEYS
        if bad:
            raise RecipeError(f"{where}: unknown key(s) {sorted(bad)}; valid: {sorted(SPECIES_KEYS)}")
        try:
            sp = Species.from_smiles(str(item["smiles"]), item.get("charge"), item.get("multiplicity"),
                                     name=item.get("name"))
        except ValueError as err:
            raise RecipeError(f"{where}: {err}") from None
        conc = _number(item.get("concentration", 0.0), f"{where}.concentration (mol/L)", 0.0)
        species.append(RecipeSpecies(sp, conc))
    keys = [s.species.key for s in species]
    if len(set(keys)) != len(keys):
        raise RecipeError(f"{source}: a species is listed twice")
    potential = _number(data.get("potential", 0.0), f"{source}: potential (V vs Li/Li+)")
    temperature = _number(data.get("temperature", 298.15), f"{source}: temperature (K)", 1.0)
    rules = data.get("rules", "default.yaml")
    if not isinstance(rules, str):
        raise RecipeError(f"{source}: 'rules' must be a file name in reactions/ or a path")
    limits = dict(LIMIT_KEYS)
    raw_limits = data.get("limits") or {}
    if not isinstance(raw_limits, dict):
        raise RecipeError(f"{source}: 'limits' must be a mapping with keys {sorted(LIMIT_KEYS)}")
    for k, v in raw_limits.items():
        if k not in LIMIT_KEYS:
            raise RecipeError(f"{source}: unknown limit {k!r}; valid limits: {sorted(LIMIT_KEYS)}")
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise RecipeError(f"{source}: limits.{k} must be a non-negative integer, got {v!r}")
        limits[k] = v
    return Recipe(name=data["name"].strip(), species=species, potential=potential,
                  temperature=temperature, rules=rules, limits=limits,
                  description=str(data.get("description", "")))


def load_recipe(path_or_name: str | Path) -> Recipe:
    """Load and validate a recipe file, given as a path or as the name of a shipped recipe."""
    try:
        path = find_resource("networks", path_or_name)
    except FileNotFoundError as err:
        raise RecipeError(str(err).replace("network file", "recipe")) from None
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark else ""
        raise RecipeError(f"{path}: not valid YAML{at}") from None
    recipe = parse_recipe(data, str(path))
    recipe.path = path
    return recipe
