"""The main job (``sei-net run``): recipe -> network -> surrogate energies -> likely products and
paths -> potential/temperature sweep -> kinetics -> (optional) SEI growth -> report.

Each stage records itself in OUT/summary.json (``stages_done``); OUT/report.html shows it all.
Interrupted runs resume: the network build and the growth continue from their checkpoints, the
other stages take seconds to a minute and are redone.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Sequence

from sei_net.kinetics.rates import DEFAULT_VISCOSITY
from sei_net.recipe import load_recipe
from sei_net.store import NetworkStore

#: electrode potentials (V vs Li/Li+) of the default sweep; the recipe's own is always added
DEFAULT_SWEEP_POTENTIALS = (0.0, 0.3, 0.6, 0.9, 1.2, 1.5)

#: known SEI products whose best paths the summary reports when the network has them
PATH_TARGETS = ("LEDC", "Li2CO3", "LiF", "LEMC", "LMC", "C2H4", "CO", "Li2O")


def _score_stage(db: Path, labels: Sequence[Path], shipped_labels: bool, echo: Callable[[str], None],
                 oracle_small: bool = True, oracle_outside: bool = True) -> dict:
    """Surrogate free energies for every species (the shipped GFN2-trained ensemble); species in
    the label files, and with ``shipped_labels`` in the shipped ones, keep their oracle values.
    With ``oracle_small`` the small species no label file settles are labelled by the oracle first
    (OUT/labels.db; ``energy.small_species``) and keep those labels too; with ``oracle_outside``
    so are the species outside the surrogate's applicability domain (``learn.domain``)."""
    from sei_net.learn.score import score_file

    def progress(what: str, done: int, total: int, record) -> None:
        echo(f"oracle: {what} {done}/{total} {record.key} {record.status}")

    cache = db.with_name("labels.db")
    result, ensemble = score_file(db, "default", labels, "auto", shipped_labels, cache if oracle_small else None,
                                  progress, cache if oracle_outside else None)
    small, outside = result["small_species"], result["outside_domain"]
    if small and "skipped" in small:
        echo(f"small species not labelled: {small['skipped']}")
    elif small:
        echo(f"oracle: {small['unlabelled']} small species (<= {small['max_heavy_atoms']} heavy atoms) had no "
             f"label; {small['computed']} computed now, {small['usable']} usable")
    if outside and "skipped" in outside:
        echo(f"species outside the surrogate's domain not labelled: {outside['skipped']}")
    elif outside and outside["unlabelled"]:
        echo(f"oracle: {outside['unlabelled']} species outside the surrogate's domain had no label; "
             f"{outside['computed']} computed now, {outside['usable']} usable")
    result["model_test_metrics_eV"] = _test_metrics(ensemble.card.get("test", {}))
    echo(f"scored {result['scored']} species with the {result['source']} ensemble in {result['seconds']['total']} s")
    if result["no_minimum_unscored"]:
        echo(f"{result['no_minimum_unscored']} species have no oracle minimum: "
             f"{result['dissociative_transfers']['reactions']} concerted electron transfers through them")
    result["barriers"] = _barrier_stage(db, echo)
    return result


def _test_metrics(test: dict) -> dict:
    """The headline held-out metrics (eV) of a model card's test sets, for the summary."""
    keep = ("n", "mae", "rmse", "coverage_95", "miscalibration_area")
    return {what: {k: m[k] for k in keep if k in m} for what, m in test.items()}


def _barrier_stage(db: Path, echo: Callable[[str], None]) -> dict | None:
    """Learned intrinsic barriers for the non-redox reactions of the shipped barrier ensemble's
    domain classes, when one is shipped (its held-out errors, and its cross-validated errors on
    those classes against the fitted BEP, go into the record); None otherwise (BEP defaults)."""
    from sei_net.learn.score import default_barrier_model_path, load_barrier_model, score_barriers
    from sei_net.store import NetworkStore

    if not default_barrier_model_path().exists():
        return None
    ensemble = load_barrier_model()
    with NetworkStore.open(db) as store:
        result = score_barriers(store, ensemble)
    report = ensemble.card.get("report", {})
    result["model_test_metrics_eV"] = _test_metrics(report.get("test", {}))
    result["domain_classes"] = ensemble.domain_classes
    cv = report.get("cross_validation", {}).get("mae", {})
    result["cross_validation_mae_eV"] = {c: cv[f"class {c}"] for c in result["domain_classes"] or ()
                                         if f"class {c}" in cv}
    echo(f"scored intrinsic barriers of {result['reactions']} reactions in {result['seconds']} s")
    return result


def _ranked(q, recipe) -> tuple[list[int], list[dict]]:
    """(starting species ids, likely products under query ``q``: the top 1 % or at least 15)."""
    from sei_net.kinetics.products import likely_products
    start = [q.species_id(s.species.key) for s in recipe.species]
    return start, likely_products(q, start, top=max(15, len(q.species) // 100))


def _known_ranks(ranked: list[dict]) -> dict[str, int]:
    """Known SEI product name -> rank (1-based) among ``ranked`` likely products."""
    return {p["known_as"]: i + 1 for i, p in enumerate(ranked) if p["known_as"]}


def _products_stage(q, recipe, echo: Callable[[str], None]) -> tuple[dict, list[dict]]:
    """Likely products and the best paths to known SEI products under query ``q`` (the recipe's
    potential); also returns the ranked list for the sweep."""
    from sei_net.kinetics.path_output import path_record
    from sei_net.kinetics.paths import UnreachableError
    start, ranked = _ranked(q, recipe)
    by_name = {q.known[sp.key]: sid for sid, sp in q.species.items() if sp.key in q.known}
    best = {}
    for name in PATH_TARGETS:
        if name not in by_name or by_name[name] in start:
            continue
        try:
            rec = path_record(q, q.paths(start, by_name[name], 1)[0], 1)
        except UnreachableError:
            best[name] = None
            continue
        best[name] = {k: rec[k] for k in ("cost", "dG_total", "hardest_step_dG", "probability_best",
                                          "electrons", "byproducts", "steps")}
    known_ranks = _known_ranks(ranked)
    echo(f"ranked {len(ranked)} likely products (known SEI products at ranks {known_ranks}); "
         f"best paths to {', '.join(k for k, v in best.items() if v)}")
    return ({"settings": q.describe(), "known_product_ranks": known_ranks, "likely_products": ranked,
             "best_paths": best}, ranked)


def _sweep_stage(q, recipe, ranked_here: list[dict], potentials: Sequence[float],
                 temperatures: Sequence[float], echo: Callable[[str], None]) -> dict:
    """Ranks of the known SEI products among the likely products at each potential x temperature,
    rescoring query ``q`` (whose own point's ranking, ``ranked_here``, is reused). The free
    energies are carried from the source's temperature to each T (energy.thermal), then the rates."""
    rows = []
    here = (q.potential, q.rate_model.temperature)
    for T in temperatures:
        for U in potentials:
            ranked = ranked_here if (U, T) == here else _ranked(q.at(U, T), recipe)[1]
            rows.append({"potential_V_vs_Li": U, "temperature_K": T, "listed": len(ranked),
                         "known_product_ranks": _known_ranks(ranked),
                         "top": [{k: p[k] for k in ("species", "cost", "probability_top_k")} for p in ranked[:5]]})
    echo(f"swept {len(potentials)} potentials x {len(temperatures)} temperatures")
    return {"potentials_V_vs_Li": list(potentials), "temperatures_K": list(temperatures), "rows": rows,
            "note": (f"free energies carried from the energy source's {q.energies.temperature:g} K to each "
                     "temperature with the thermal model's S and Cp (energy.thermal); rates at that temperature")}


def _kinetics_stage(q, echo: Callable[[str], None], **settings) -> dict:
    from sei_net.kinetics.yields import product_yields
    result = product_yields(q, **settings)
    echo(f"kinetics: {result['trajectories']} trajectories x {result['members']['n'] + 1} rate sets, "
         f"counts at {result['counts_at_s']:.3g} s ({result['events']} events, {result['wall_seconds']} s)")
    return result


def _growth_stage(q, recipe, db: Path, out: Path, steps: int, force: bool, echo: Callable[[str], None]) -> dict:
    from sei_net.growth import GrowthConfig, grow_network
    config = GrowthConfig(temperature=recipe.temperature, reactive_dt=1e-5)
    result = grow_network(recipe, db, config, steps, out, force=force, query=q)
    echo(f"growth: {result.summary['steps']} reactive steps, SEI {result.summary['thickness_A']['final_mean']:.2f} Å")
    return {**result.summary, "folder": str(out)}


def network_with_energies(recipe, out: Path, force: bool = False, labels: Sequence[str | Path] = (),
                          echo: Callable[[str], None] = print, shipped_labels: bool = True,
                          max_generations: int | None = None, oracle_small: bool = True,
                          oracle_outside: bool = True) -> tuple[Path, dict, list[str], dict]:
    """Build (or resume) the recipe's network in ``out`` and score it with the shipped surrogate
    ensemble; species in ``labels``, then (with ``shipped_labels``) in the shipped GFN2 label files
    (``learn.score.score_file``), keep their oracle free energies (a species in several keeps
    its first record). With ``oracle_small`` the small species none of them settles are labelled by
    the oracle first, and with ``oracle_outside`` those outside the surrogate's domain
    (``_score_stage``). ``max_generations`` overrides the recipe's limit (a finished network is
    extended). Returns (network file, build state, known SEI species found, energies stage record)."""
    from sei_net.chem.known import known_species_keys
    from sei_net.generate import build_network

    out.mkdir(parents=True, exist_ok=True)
    db = out / f"{recipe.name}.db"
    echo(("building" if force or not db.exists() else "resuming") + f" network {db} from recipe {recipe.name}")
    with build_network(recipe, db, max_generations=max_generations, overwrite=force, progress=echo) as net:
        build_state = json.loads(net.store.get_meta("build_state"))
        known = known_species_keys()
        found = sorted(known[s.key] for s in net.species().values() if s.key in known)
    return db, build_state, found, _score_stage(db, [Path(p) for p in labels], shipped_labels, echo, oracle_small,
                                                oracle_outside)


def run_main_job(recipe_ref: str, out: str | Path, force: bool = False, labels: Sequence[str | Path] = (),
                 echo: Callable[[str], None] = print, potentials: Sequence[float] | None = None,
                 temperatures: Sequence[float] | None = None, kinetics: dict | None = None,
                 grow_steps: int = 0, report: bool = True, shipped_labels: bool = True,
                 max_generations: int | None = None, electrode: str = "marcus",
                 viscosity: float | None = DEFAULT_VISCOSITY, oracle_small: bool = True,
                 oracle_outside: bool = True) -> dict:
    """Run the main job for a recipe into folder ``out``; returns the summary dict (also written to
    OUT/summary.json, and shown in OUT/report.html unless ``report`` is false).

    ``labels``: oracle label files whose species keep their oracle free energies, besides (with
    ``shipped_labels``, the default) the shipped GFN2 labels; without both, every species takes the
    surrogate's energy, except (with ``oracle_small``, the default) the species of at most
    ``constants.ORACLE_MAX_HEAVY`` heavy atoms and (with ``oracle_outside``, the default) those
    outside the surrogate's applicability domain (``learn.domain``), which the oracle labels into
    OUT/labels.db when no label file has them. ``potentials``
    (V vs Li/Li+) and ``temperatures`` (K): the sweep grid (default DEFAULT_SWEEP_POTENTIALS and the
    recipe's temperature; the recipe's potential is always included). ``kinetics``: settings for
    kinetics.yields.product_yields ({} for its defaults, None to skip the stage). ``grow_steps``:
    reactive steps of an SEI growth run in OUT/growth (0: no growth stage). ``max_generations``:
    overrides the recipe's network depth. ``electrode``: electrode kinetics of the rates, 'marcus'
    or 'mhc' (``kinetics.rates.RateModel``). ``viscosity``: the electrolyte's shear viscosity (Pa s)
    behind the encounter limit of bimolecular rates (None: TST rates unlimited)."""
    t0 = time.perf_counter()
    recipe = load_recipe(recipe_ref)
    out = Path(out)
    db, build_state, found, energies = network_with_energies(recipe, out, force, labels, echo, shipped_labels,
                                                             max_generations, oracle_small, oracle_outside)
    from sei_net.kinetics.query import PathQuery
    done = ["recipe", "seed_network", "generation", "energies", "paths"]
    potentials = sorted(set(DEFAULT_SWEEP_POTENTIALS if potentials is None else potentials) | {recipe.potential})
    temperatures = sorted(set(temperatures or ()) | {recipe.temperature})
    with NetworkStore.open(db, readonly=True) as store:
        q = PathQuery.prepare(store, source=energies["source"], potential=recipe.potential,
                              temperature=recipe.temperature, electrode=electrode, viscosity=viscosity)
        products, ranked = _products_stage(q, recipe, echo)
        sweep = _sweep_stage(q, recipe, ranked, potentials, temperatures, echo)
        done.append("sweep")
        kinetics_result = _kinetics_stage(q, echo, **kinetics) if kinetics is not None else None
        growth = _growth_stage(q, recipe, db, out / "growth", grow_steps, force, echo) if grow_steps else None
        info = store.info()  # after scoring: the energy sources now include the surrogate
    summary = {
        "recipe": recipe.name,
        "potential_V_vs_Li": recipe.potential,
        "temperature_K": recipe.temperature,
        "network": {"file": str(db), **info},
        "generation": {"stop_reason": build_state.get("stop_reason"),
                       "generations": build_state.get("generations", []),
                       "known_sei_species_found": found},
        "energies": energies,
        "products": products,
        "sweep": sweep,
    }
    if kinetics_result is not None:
        summary["kinetics"] = kinetics_result
        done.append("kinetics")
    if growth is not None:
        summary["growth"] = growth
        done.append("growth")
    summary["stages_done"] = done
    summary["wall_seconds"] = round(time.perf_counter() - t0, 3)
    if report:
        from sei_net.report import write_report
        summary["stages_done"].append("report")
        summary["report"] = str(write_report(summary, out / "report.html"))
        echo(f"wrote {summary['report']}")
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
