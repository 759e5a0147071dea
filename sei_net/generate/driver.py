"""Network expansion: generations of rule applications from a recipe's species, until closure or
limits, one transaction per generation (a killed build resumes at the last finished generation).

Generation g applies unimolecular rules to the species first made in generation g - 1 and
bimolecular rules to every pair of (new species, any species). Candidate products pass the rule
library's filters; every decision (kept, or the reason it was discarded) is stored in ``decisions``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable, Iterable

from sei_net.chem.reaction import Reaction
from sei_net.chem.species import Species
from sei_net.generate import operators as op
from sei_net.generate.filters import SpeciesFilter
from sei_net.generate.rules import RuleSet, load_rules
from sei_net.network import Network, seed_network
from sei_net.recipe import Recipe, load_recipe
from sei_net.store import NetworkStore

def _candidates(rules: RuleSet, new: list[Species], every: list[Species]) -> Iterable[op.Candidate]:
    """Unimolecular rules on the new species; bimolecular rules on (new, any) pairs."""
    new_keys = {s.key for s in new}
    for rule in rules.rules:
        if rule.cls == "redox":
            exclude = {Species.from_smiles(s).key for s in rule.options.get("exclude", [])}
            for sp in new:
                yield from op.redox(sp, rule, exclude)
        elif rule.cls == "bond_breaking":
            for sp in new:
                yield from op.bond_breaking(sp, rule)
        elif rule.cls == "decoordination":
            for sp in new:
                yield from op.decoordination(sp, rule)
        elif rule.cls == "coordination":
            cations = [s for s in every if s.n_atoms == 1 and s.charge == 1
                       and s.elements[0] == rule.options.get("metal", "Li")]
            for cation in cations:
                for sp in (every if cation.key in new_keys else new):
                    yield from op.coordination(sp, cation, rule)
        elif rule.cls in ("radical_coupling", "group_transfer"):
            symmetric = rule.cls == "radical_coupling"
            func = op.radical_coupling if symmetric else op.group_transfer
            seen_pairs: set[tuple[str, str]] = set()
            for a in new:
                for b in every:
                    for x, y in ((a, b), (b, a)):
                        if (x.key, y.key) in seen_pairs or (symmetric and (y.key, x.key) in seen_pairs):
                            continue
                        seen_pairs.add((x.key, y.key))
                        yield from func(x, y, rule)


def expand(store: NetworkStore, rules: RuleSet, limits: dict[str, int],
           progress: Callable[[str], None] | None = None) -> dict:
    """Grow the network in ``store`` generation by generation; returns the build state."""
    state = json.loads(store.get_meta("build_state") or "{}") or {"generation_done": 0, "finished": False}
    flt = SpeciesFilter(dataclasses.replace(
        rules.filters, max_heavy_atoms=limits.get("max_heavy_atoms", rules.filters.max_heavy_atoms)))
    prov: dict[str, int] = {r.name: store.provenance_id("rule", r.name, rules.name) for r in rules.rules}
    species = {s.key: s for s in store.all_species().values()}
    generation_of = dict(store.conn.execute("SELECT key, generation FROM species"))
    n_reactions = store.info()["reactions"]
    while not state["finished"]:
        g = state["generation_done"] + 1
        if g > limits["max_generations"]:
            state.update(finished=True, stop_reason="max_generations")
            break
        t0 = time.perf_counter()
        new = [s for k, s in species.items() if generation_of.get(k) == g - 1]
        every = list(species.values())
        kept: dict[str, Reaction] = {}
        decisions: dict[tuple[str, str], tuple[int, str, str | None]] = {}
        new_species: dict[str, Species] = {}
        stop = None
        for cand in _candidates(rules, new, every):
            reasons = [(p, flt.reason(p)) for p in cand.products if p.key not in species]
            for p, why in reasons:
                decisions[(p.key, "species")] = (0 if why else 1, why or "passed filters", cand.rule)
            rx = Reaction(cand.reactants, cand.products, cand.electrons, cand.kind, cand.atom_map, cand.rule)
            bad = [f"product {p.smiles} rejected: {why}" for p, why in reasons if why]
            if bad:
                decisions.setdefault((rx.key, "reaction"), (0, bad[0], cand.rule))
                continue
            if rx.key in kept:
                continue
            add = [p for p in cand.products if p.key not in species and p.key not in new_species]
            if len(species) + len(new_species) + len(add) > limits["max_species"]:
                stop = "max_species"
                break
            pending = [rx] + ([rx.reversed()] if rules.include_reverse else [])
            if n_reactions + len(kept) + len(pending) > limits["max_reactions"]:
                stop = "max_reactions"
                break
            for p in add:
                new_species[p.key] = p
            for r in pending:
                kept.setdefault(r.key, r)
                decisions[(r.key, "reaction")] = (1, "kept", cand.rule)
        with store.transaction():
            store.add_species(new_species.values(), generation=g,
                              provenance=store.provenance_id("generator", rules.name, ""))
            ids = store.add_reactions(kept.values(), generation=g, rule_provenance=prov)
            n_reactions = store.info()["reactions"]
            store.conn.executemany(
                "INSERT OR REPLACE INTO decisions(key, kind, kept, reason, rule, generation) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(k, kind, kept_, why, rule, g) for (k, kind), (kept_, why, rule) in decisions.items()])
            state["generation_done"] = g
            if stop or not new_species:
                state.update(finished=True, stop_reason=stop or "closure")
            state.setdefault("generations", []).append(
                {"generation": g, "new_species": len(new_species), "new_reactions": len(set(ids)),
                 "seconds": round(time.perf_counter() - t0, 3)})
            store.set_meta({"build_state": state})
        for k, s in new_species.items():
            species[k] = s
            generation_of[k] = g
        if progress:
            progress(f"generation {g}: +{len(new_species)} species, +{len(set(ids))} reactions "
                     f"({len(species)} species, {n_reactions} reactions)")
    store.set_meta({"build_state": state})
    return state


def build_network(recipe: Recipe | str | Path, out: str | Path | None = None,
                  max_generations: int | None = None, max_species: int | None = None,
                  max_reactions: int | None = None, overwrite: bool = False,
                  progress: Callable[[str], None] | None = None) -> Network:
    """Build (or resume building) the reaction network of a recipe into ``out`` (SQLite).

    Example
    -------
    >>> net = build_network("ec_lipf6", "ec.db", max_generations=2)   # doctest: +SKIP
    """
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe)
    out = Path(out or f"{recipe.name}.db")
    limits = dict(recipe.limits)
    for key, value in (("max_generations", max_generations), ("max_species", max_species),
                       ("max_reactions", max_reactions)):
        if value is not None:
            limits[key] = value
    rules = load_rules(recipe.rules_path())
    if out.exists() and not overwrite:
        store = NetworkStore.open(out)
        if store.get_meta("recipe") != recipe.name:
            store.close()
            raise ValueError(f"{out} holds network {store.get_meta('recipe')!r}, not recipe "
                             f"{recipe.name!r}; use another -o path or --force")
        state = json.loads(store.get_meta("build_state") or "{}")
        if state.get("finished") and state.get("stop_reason") == "max_generations" \
                and limits["max_generations"] > state["generation_done"]:
            state["finished"] = False  # asked for more generations: continue
            store.set_meta({"build_state": state})
    else:
        store = seed_network(recipe, out, overwrite=True).store
    store.set_meta({"rules": rules.name, "limits": limits})
    expand(store, rules, limits, progress)
    return Network(store)
