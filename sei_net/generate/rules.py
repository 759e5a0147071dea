"""Rule libraries (reactions/*.yaml): load and validate, with errors that name the bad key.

Schema (docs/rules.md)::

    name: default
    include_reverse: true
    coordination_closure: true      # metal-cation adducts join the generation of their parent
    filters: {elements, charge_window, max_multiplicity, max_li, max_lewis_penalty, forbidden,
              exempt_from_lewis_penalty, max_heavy_atoms}
    rules:
      - {name, class: redox, direction: reduction|oxidation, exclude: [SMILES]}
      - {name, class: bond_breaking, pairs: [A-B], heterolytic: bool, ring_opening: never|open_shell|always}
      - {name, class: coordination, metal: Li, donors: [O, F]}
      - {name, class: decoordination, metal: Li}
      - {name, class: radical_coupling, pairs: [A-B]}
      - {name, class: group_transfer, form: [A-B], break: [A-B], partners: [seed, radical, small]}
      - {name, class: radical_addition, pairs: [A-B], partners: [...]}
      - {name, class: nucleophilic_addition, pairs: [A-B], electrophiles: [C], partners: [...]}
      - {name, class: intramolecular_transfer, form: [A-B], break: [A-B], min_distance: 4, max_distance: 5}

``partners`` (bimolecular rules other than radical coupling) restricts the second reactant B:
``seed`` (a recipe species), ``radical`` (open shell), ``small`` (at most ``small_heavy_atoms``
heavy atoms, metals not counted, default 3: CO2, CO, C2H4, LiF ...), or ``any`` (the default).
``max_generation_sum`` (bimolecular rules) allows a pair only when the generations of its two
reactants add up to at most this: two deep, dilute intermediates rarely meet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from sei_net.chem.elements import SUPPORTED_ELEMENTS
from sei_net.resources import check_mapping

RULE_CLASSES = {
    "redox": {"direction", "exclude"},
    "bond_breaking": {"pairs", "heterolytic", "ring_opening"},
    "coordination": {"metal", "donors", "max_generation_sum"},
    "decoordination": {"metal"},
    "radical_coupling": {"pairs", "max_generation_sum"},
    "group_transfer": {"form", "break", "partners", "small_heavy_atoms", "max_generation_sum"},
    "radical_addition": {"pairs", "partners", "small_heavy_atoms", "max_generation_sum"},
    "nucleophilic_addition": {"pairs", "electrophiles", "partners", "small_heavy_atoms",
                              "max_generation_sum"},
    "intramolecular_transfer": {"form", "break", "min_distance", "max_distance"},
}
#: rule classes that take two reactants
BIMOLECULAR = {"coordination", "radical_coupling", "group_transfer", "radical_addition",
               "nucleophilic_addition"}
PARTNER_CLASSES = ("seed", "radical", "small", "any")
FILTER_KEYS = {"elements", "charge_window", "max_multiplicity", "max_li", "max_lewis_penalty",
               "forbidden", "max_heavy_atoms", "exempt_from_lewis_penalty", "cations_need_metal"}
TOP_KEYS = {"name", "description", "include_reverse", "coordination_closure", "filters", "rules"}


class RuleError(ValueError):
    """A rule library is invalid; the message names the file and the key."""


@dataclass
class Filters:
    """Species filters (HiPRGen-style decision rules). Charges in e."""

    elements: frozenset[str] = frozenset({"H", "Li", "C", "O", "F", "P"})
    charge_window: tuple[int, int] = (-2, 1)
    max_multiplicity: int = 2
    max_li: int = 2
    max_lewis_penalty: float = 4.0
    forbidden: tuple[str, ...] = ()
    max_heavy_atoms: int = 12
    exempt_from_lewis_penalty: tuple[str, ...] = ()
    cations_need_metal: bool = False


@dataclass
class Rule:
    name: str
    cls: str
    options: dict = field(default_factory=dict)


@dataclass
class RuleSet:
    name: str
    rules: list[Rule]
    filters: Filters
    include_reverse: bool = True
    coordination_closure: bool = False
    description: str = ""
    path: Path | None = None


def _pairs(value, where: str) -> frozenset[tuple[str, str]]:
    if not isinstance(value, list) or not value:
        raise RuleError(f"{where} must be a non-empty list of element pairs such as C-O")
    out = set()
    for item in value:
        parts = str(item).split("-")
        if len(parts) != 2 or any(p not in SUPPORTED_ELEMENTS for p in parts):
            raise RuleError(f"{where}: {item!r} is not an element pair like C-O "
                            f"(elements: {', '.join(SUPPORTED_ELEMENTS)})")
        out.add(tuple(sorted(parts)))
    return frozenset(out)


def _elements(value, where: str) -> frozenset[str]:
    if not isinstance(value, list) or any(v not in SUPPORTED_ELEMENTS for v in value):
        raise RuleError(f"{where} must be a list of elements from {', '.join(SUPPORTED_ELEMENTS)}")
    return frozenset(value)


def parse_rules(data: dict, source: str = "rules") -> RuleSet:
    """Validate a rule-library dict."""
    check_mapping(data, TOP_KEYS, source, "rule library", RuleError)
    f = data.get("filters") or {}
    bad = set(f) - FILTER_KEYS
    if bad:
        raise RuleError(f"{source}: unknown filter(s) {sorted(bad)}; valid filters: {sorted(FILTER_KEYS)}")
    filters = Filters()
    if "elements" in f:
        filters.elements = _elements(f["elements"], f"{source}: filters.elements")
    if "charge_window" in f:
        cw = f["charge_window"]
        if not (isinstance(cw, list) and len(cw) == 2 and all(isinstance(x, int) for x in cw) and cw[0] <= cw[1]):
            raise RuleError(f"{source}: filters.charge_window must be [min, max] integers, got {cw!r}")
        filters.charge_window = (cw[0], cw[1])
    for key in ("max_multiplicity", "max_li", "max_heavy_atoms"):
        if key in f:
            if not isinstance(f[key], int) or f[key] < 0:
                raise RuleError(f"{source}: filters.{key} must be a non-negative integer")
            setattr(filters, key, f[key])
    if "cations_need_metal" in f:
        if not isinstance(f["cations_need_metal"], bool):
            raise RuleError(f"{source}: filters.cations_need_metal must be true or false")
        filters.cations_need_metal = f["cations_need_metal"]
    if "max_lewis_penalty" in f:
        filters.max_lewis_penalty = float(f["max_lewis_penalty"])
    for key in ("forbidden", "exempt_from_lewis_penalty"):
        if key in f:
            if not isinstance(f[key], list):
                raise RuleError(f"{source}: filters.{key} must be a list of SMILES")
            setattr(filters, key, tuple(str(s) for s in f[key]))
    rules = []
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RuleError(f"{source}: 'rules' must be a non-empty list")
    names = set()
    for i, r in enumerate(raw_rules):
        where = f"{source}: rules[{i}]"
        if not isinstance(r, dict) or "class" not in r or "name" not in r:
            raise RuleError(f"{where} needs 'name' and 'class' (classes: {', '.join(RULE_CLASSES)})")
        cls = r["class"]
        if cls not in RULE_CLASSES:
            raise RuleError(f"{where}: class {cls!r} is not valid; valid classes: {', '.join(RULE_CLASSES)}")
        if r["name"] in names:
            raise RuleError(f"{where}: rule name {r['name']!r} is used twice")
        names.add(r["name"])
        opts = {k: v for k, v in r.items() if k not in ("name", "class", "enabled")}
        bad = set(opts) - RULE_CLASSES[cls]
        if bad:
            raise RuleError(f"{where}: unknown option(s) {sorted(bad)} for class {cls}; valid: "
                            f"{sorted(RULE_CLASSES[cls])}")
        if not r.get("enabled", True):
            continue
        for key in ("pairs", "form", "break"):
            if key in opts:
                opts[key] = _pairs(opts[key], f"{where}.{key}")
        for key in ("donors", "electrophiles"):
            if key in opts:
                opts[key] = _elements(opts[key], f"{where}.{key}")
        if "partners" in opts:
            partners = opts["partners"]
            if not isinstance(partners, list) or not partners or any(p not in PARTNER_CLASSES for p in partners):
                raise RuleError(f"{where}.partners must be a non-empty list from {', '.join(PARTNER_CLASSES)}")
            opts["partners"] = frozenset(partners)
        for key in ("small_heavy_atoms", "min_distance", "max_distance", "max_generation_sum"):
            if key in opts and (not isinstance(opts[key], int) or opts[key] < 1):
                raise RuleError(f"{where}.{key} must be a positive integer")
        if cls == "redox" and opts.get("direction", "reduction") not in ("reduction", "oxidation"):
            raise RuleError(f"{where}.direction must be 'reduction' or 'oxidation'")
        if cls == "bond_breaking" and opts.get("ring_opening", "open_shell") not in ("never", "open_shell", "always"):
            raise RuleError(f"{where}.ring_opening must be never, open_shell or always")
        for key in ("pairs", "form", "break"):
            if key in RULE_CLASSES[cls] and key not in opts:
                raise RuleError(f"{where}: class {cls} needs '{key}'")
        rules.append(Rule(str(r["name"]), cls, opts))
    return RuleSet(name=str(data.get("name", "rules")), rules=rules, filters=filters,
                   include_reverse=bool(data.get("include_reverse", True)),
                   coordination_closure=bool(data.get("coordination_closure", False)),
                   description=str(data.get("description", "")))


def load_rules(path: str | Path) -> RuleSet:
    """Load and validate a rule library file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise RuleError(f"rule library {str(path)!r} does not exist") from None
    except yaml.YAMLError:
        raise RuleError(f"{path}: not valid YAML") from None
    rules = parse_rules(data, str(path))
    rules.path = path
    return rules
