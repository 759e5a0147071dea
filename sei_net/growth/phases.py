"""Which species leave the cell as gas and which deposit as insoluble SEI (rules as data:
reactions/growth.yaml), and which deposits count as inorganic."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from sei_net.resources import check_mapping, find_resource

SOLUTION, GAS, INSOLUBLE = 0, 1, 2


class PhaseRulesError(ValueError):
    """A phase-rule file that cannot be used."""


@dataclass(frozen=True)
class PhaseRules:
    """Species keys of gases and insoluble species, plus the generic insoluble-salt rule: a neutral
    closed-shell species with at least ``insoluble_min_li`` Li atoms (0: off)."""

    gases: frozenset[str]
    insoluble: frozenset[str]
    insoluble_min_li: int
    source: str = "reactions/growth.yaml"

    def phase(self, species) -> int:
        """SOLUTION, GAS or INSOLUBLE for a Species."""
        if species.key in self.gases:
            return GAS
        if species.key in self.insoluble:
            return INSOLUBLE
        n_li = species.composition.get("Li", 0)
        if (self.insoluble_min_li and n_li >= self.insoluble_min_li and species.charge == 0
                and species.multiplicity == 1):
            return INSOLUBLE
        return SOLUTION


def is_organic(species) -> bool:
    """Organic means the species has a C-H bond (LEDC, LEMC); Li2CO3, Li oxalate, LiF are inorganic."""
    el = species.elements
    return any({el[i], el[j]} == {"C", "H"} for i, j, *_ in species.bonds)


def _species_of(entry: str, where: str):
    from sei_net.chem.known import KNOWN_SEI_SPECIES
    from sei_net.chem.species import Species

    smiles = KNOWN_SEI_SPECIES.get(entry, entry)
    try:
        return Species.from_smiles(smiles)
    except Exception as exc:  # noqa: BLE001 - report which entry is bad, whatever RDKit says
        raise PhaseRulesError(f"{where}: {entry!r} is neither a known SEI species name "
                              f"({', '.join(sorted(KNOWN_SEI_SPECIES))}) nor valid SMILES ({exc})") from None


def load_phase_rules(path: str | Path = "growth") -> PhaseRules:
    """Phase rules from a YAML file (path or shipped name; schema in docs/growth.md)."""
    path = find_resource("reactions", path)
    data = yaml.safe_load(path.read_text())
    check_mapping(data, {"name", "description", "gases", "insoluble", "insoluble_min_li"}, str(path),
                  "phase-rule file", PhaseRulesError)
    keys = {}
    for field in ("gases", "insoluble"):
        entries = data.get(field, [])
        if not isinstance(entries, list):
            raise PhaseRulesError(f"{path}: {field} must be a list of names or SMILES")
        keys[field] = frozenset(_species_of(str(e), f"{path}: {field}").key for e in entries)
    min_li = data.get("insoluble_min_li", 0)
    if not isinstance(min_li, int) or min_li < 0:
        raise PhaseRulesError(f"{path}: insoluble_min_li {min_li!r} must be a whole number >= 0")
    both = keys["gases"] & keys["insoluble"]
    if both:
        raise PhaseRulesError(f"{path}: species listed both as gas and insoluble: {sorted(both)}")
    return PhaseRules(keys["gases"], keys["insoluble"], min_li, str(path))
