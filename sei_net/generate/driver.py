"""Network expansion: generations of rule applications from a recipe's species, until closure or
limits, one transaction per generation (a killed build resumes at the last finished generation).

Generation g applies unimolecular rules to the species first made in generation g - 1 and
bimolecular rules to the pairs with at least one such species that the rule's ``partners`` and
``max_generation_sum`` allow. Candidate products pass the rule library's filters; every decision
(kept, or the reason it was discarded) is stored in ``decisions``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable, Iterable

from sei_net.chem.elements import COORDINATING_METALS
from sei_net.chem.reaction import Reaction, reaction_key
from sei_net.chem.species import Species
from sei_net.generate import operators as op
from sei_net.generate.filters import SpeciesFilter
from sei_net.generate.rules import Rule, RuleSet, load_rules
from sei_net.network import Network, seed_network
from sei_net.recipe import Recipe, load_recipe
from sei_net.store import NetworkStore


def _partner_ok(sp: Species, partners: frozenset[str], seeds: set[str], small: int) -> bool:
    """Whether ``sp`` may be the second reactant B of a bimolecular rule (rules.PARTNER_CLASSES)."""
    if "any" in partners:
        return True
    return (("seed" in partners and sp.key in seeds)
            or ("radical" in partners and sp.multiplicity > 1)
            or ("small" in partners and sum(e not in COORDINATING_METALS for e in sp.elements
                                            if e != "H") <= small))


_UNIMOLECULAR = {"bond_breaking": op.bond_breaking, "decoordination": op.decoordination,
                 "intramolecular_transfer": op.intramolecular_transfer}
_DIRECTED = {"group_transfer": op.group_transfer, "radical_addition": op.radical_addition,
             "nucleophilic_addition": op.nucleophilic_addition}


#: bimolecular rules whose only product holds all atoms of both reactants (an adduct)
_ADDUCT_RULES = {"coordination", "radical_coupling", "radical_addition", "nucleophilic_addition"}


def _any_pair(a: Species, b: Species) -> bool:
    return True


def _coordinations(cations: Iterable[Species], targets: list[Species], rule: Rule,
                   pair_ok: Callable[[Species, Species], bool]) -> Iterable[op.Candidate]:
    """Each metal cation of ``cations`` bound to each of ``targets`` that ``pair_ok`` allows."""
    for cation in cations:
        for sp in targets:
            if pair_ok(sp, cation):
                yield from op.coordination(sp, cation, rule)


def _candidates(rules: RuleSet, new: list[Species], every: list[Species], seeds: set[str],
                generation_of: dict[str, int], adduct_ok: Callable[[Species, Species], bool]
                ) -> Iterable[op.Candidate]:
    """Unimolecular rules on the new species; bimolecular rules on pairs with at least one new
    species (A, the attacking radical or anion, first; B restricted by the rule's ``partners``
    and ``max_generation_sum``). Pairs whose adduct ``adduct_ok`` rejects (size, charge, Li count)
    are skipped for the adduct-forming rules before any product is built."""
    new_keys = {s.key for s in new}
    g_new = max((generation_of[s.key] for s in new), default=0)
    for rule in rules.rules:
        if rule.cls == "redox":
            exclude = {Species.from_smiles(s).key for s in rule.options.get("exclude", [])}
            for sp in new:
                yield from op.redox(sp, rule, exclude)
            continue
        if rule.cls in _UNIMOLECULAR:
            for sp in new:
                yield from _UNIMOLECULAR[rule.cls](sp, rule)
            continue
        # bimolecular: B's generation may be at most max_generation_sum - generation of A
        cap = rule.options.get("max_generation_sum")
        old = [b for b in every if b.key not in new_keys
               and (cap is None or generation_of[b.key] <= cap - g_new)]
        new_pairs = cap is None or 2 * g_new <= cap   # may two new species meet?
        pair_ok = adduct_ok if rule.cls in _ADDUCT_RULES else _any_pair
        if rule.cls == "coordination":
            metal = rule.options.get("metal", "Li")
            yield from _coordinations((s for s in new if op.is_metal_cation(s, metal)),
                                      old + (new if new_pairs else []), rule, pair_ok)
            yield from _coordinations((s for s in old if op.is_metal_cation(s, metal)), new, rule, pair_ok)
        elif rule.cls == "radical_coupling":
            radicals_new = [s for s in new if s.multiplicity > 1]
            radicals_old = [s for s in old if s.multiplicity > 1]
            for t, a in enumerate(radicals_new):
                for b in radicals_old + (radicals_new[t:] if new_pairs else []):
                    if pair_ok(a, b):
                        yield from op.radical_coupling(a, b, rule)
        else:
            func = _DIRECTED[rule.cls]
            partners = rule.options.get("partners", frozenset({"any"}))
            small = rule.options.get("small_heavy_atoms", 3)
            ok = lambda b: _partner_ok(b, partners, seeds, small)  # noqa: E731
            ok_old = [b for b in old if ok(b)]
            ok_new = [b for b in new if ok(b)]
            for a in new:          # new attacker, old or new partner
                for b in ok_old + (ok_new if new_pairs else []):
                    if pair_ok(a, b):
                        yield from func(a, b, rule)
            for a in old:          # old attacker, new partner
                for b in ok_new:
                    if pair_ok(a, b):
                        yield from func(a, b, rule)


def _coordination_candidates(rules: RuleSet, targets: list[Species], every: list[Species],
                             adduct_ok: Callable[[Species, Species], bool]) -> Iterable[op.Candidate]:
    """Coordination of the network's metal cations to ``targets`` (pairs ``adduct_ok`` allows)."""
    for rule in rules.rules:
        if rule.cls == "coordination":
            metal = rule.options.get("metal", "Li")
            yield from _coordinations((s for s in every if op.is_metal_cation(s, metal)), targets, rule,
                                      adduct_ok)


def species_filter(rules: RuleSet, limits: dict[str, int]) -> SpeciesFilter:
    """The rule library's species filters with the build's max_heavy_atoms limit."""
    return SpeciesFilter(dataclasses.replace(
        rules.filters, max_heavy_atoms=limits.get("max_heavy_atoms", rules.filters.max_heavy_atoms)))


def stored_filter(store: NetworkStore) -> SpeciesFilter | None:
    """The species filters a stored network was built with (its rule library, re-read from the path
    recorded at build time, and its limits); None when that library is not available."""
    path, limits = store.get_meta("rules_path"), store.get_meta("limits")
    if not path or not limits or not Path(path).is_file():
        return None
    return species_filter(load_rules(path), json.loads(limits))


def expand(store: NetworkStore, rules: RuleSet, limits: dict[str, int],
           progress: Callable[[str], None] | None = None,
           tick: Callable[[dict], None] | None = None) -> dict:
    """Grow the network in ``store`` generation by generation; returns the build state.

    ``progress`` gets one line per finished generation; ``tick`` gets live counts (generation,
    candidates, new_species, new_reactions) every few thousand candidates, for a progress display.
    Candidates with a product the filters reject from composition and charge alone are dropped
    before their products are built (operators.product_prefilter; no decision row for them).
    """
    flt = species_filter(rules, limits)
    with op.product_prefilter(flt.composition_ok):
        return _expand(store, rules, limits, flt, progress, tick)


def _expand(store: NetworkStore, rules: RuleSet, limits: dict[str, int], flt: SpeciesFilter,
            progress: Callable[[str], None] | None, tick: Callable[[dict], None] | None) -> dict:
    """``expand`` with its species filter."""
    state = json.loads(store.get_meta("build_state") or "{}") or {"generation_done": 0, "finished": False}

    def adduct_ok(a: Species, b: Species) -> bool:
        # an adduct the filters reject on composition alone is never built, so it has no row in
        # ``decisions``; `sei-net reactions --why` explains such species from the filters
        return flt.adduct_reason(a, b) is None
    prov: dict[str, int] = {r.name: store.provenance_id("rule", r.name, rules.name) for r in rules.rules}
    species = {s.key: s for s in store.all_species().values()}
    generation_of = dict(store.conn.execute("SELECT key, generation FROM species"))
    n_reactions = store.n_reactions()
    seeds = {k for k, g in generation_of.items() if g == 0}
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

        def consider(cand: op.Candidate) -> str | None:
            """Filter one candidate, record the decision, keep it; returns a stop reason or None."""
            reasons = [(p, flt.reason(p)) for p in cand.products if p.key not in species]
            for p, why in reasons:
                decisions[(p.key, "species")] = (0 if why else 1, why or "passed filters", cand.rule)
            # the key first: most candidates repeat a kept reaction or have a rejected product, and
            # building (and checking) the Reaction is the costly part
            key = reaction_key((r.key for r in cand.reactants), (p.key for p in cand.products), cand.electrons)
            bad = [f"product {p.key} rejected: {why}" for p, why in reasons if why]
            if bad:
                decisions.setdefault((key, "reaction"), (0, bad[0], cand.rule))
                return None
            if key in kept:
                return None
            add = [p for p in cand.products if p.key not in species and p.key not in new_species]
            if len(species) + len(new_species) + len(add) > limits["max_species"]:
                return "max_species"
            rx = Reaction(cand.reactants, cand.products, cand.electrons, cand.kind, cand.atom_map, cand.rule)
            pending = [rx] + ([rx.reversed()] if rules.include_reverse else [])
            if n_reactions + len(kept) + len(pending) > limits["max_reactions"]:
                return "max_reactions"
            for p in add:
                new_species[p.key] = p
            for r in pending:
                kept.setdefault(r.key, r)
                decisions[(r.key, "reaction")] = (1, "kept", cand.rule)
            return None

        for n_cand, cand in enumerate(_candidates(rules, new, every, seeds, generation_of, adduct_ok), 1):
            stop = consider(cand)
            if stop:
                break
            if tick and n_cand % 2000 == 0:
                tick({"generation": g, "candidates": n_cand, "new_species": len(new_species),
                      "new_reactions": len(kept)})
        if rules.coordination_closure and not stop:
            # metal-cation association is fast: the adducts of this generation's products belong to it
            todo = list(new_species.values())
            while todo and not stop:
                before = set(new_species)
                for cand in _coordination_candidates(rules, todo, every, adduct_ok):
                    stop = consider(cand)
                    if stop:
                        break
                todo = [s for k, s in new_species.items() if k not in before]
        with store.transaction():
            store.add_species(new_species.values(), generation=g,
                              provenance=store.provenance_id("generator", rules.name, ""))
            ids = store.add_reactions(kept.values(), generation=g, rule_provenance=prov)
            n_reactions = store.n_reactions()
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
                  progress: Callable[[str], None] | None = None,
                  tick: Callable[[dict], None] | None = None) -> Network:
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
    store.set_meta({"rules": rules.name, "limits": limits,
                    "rules_path": str(Path(rules.path).resolve()) if rules.path else ""})
    expand(store, rules, limits, progress, tick)
    return Network(store)
