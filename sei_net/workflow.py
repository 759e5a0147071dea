"""The main job (``sei-net run``): recipe -> network -> surrogate energies -> likely products and
paths -> (kinetics, growth, report to come).

Each stage records itself in OUT/summary.json; stages not yet available are listed as such, never
faked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Sequence

from sei_net.recipe import load_recipe
from sei_net.store import NetworkStore

STAGES_PENDING = ["kinetics", "growth", "report"]

#: known SEI products whose best paths the summary reports when the network has them
PATH_TARGETS = ("LEDC", "Li2CO3", "LiF", "LEMC", "C2H4", "CO", "Li2O")


def _score_stage(db: Path, labels: Sequence[Path], echo: Callable[[str], None]) -> dict:
    """Surrogate free energies for every species (the shipped GFN2-trained ensemble); species in
    the label files keep their oracle values."""
    from sei_net.learn.score import score_file

    result, ensemble = score_file(db, "default", labels, "auto")
    keep = ("n", "mae", "rmse", "coverage_95", "miscalibration_area")
    result["model_test_metrics_eV"] = {what: {k: m[k] for k in keep}
                                       for what, m in ensemble.card.get("test", {}).items()}
    echo(f"scored {result['scored']} species with the {result['source']} ensemble in {result['seconds']['total']} s")
    return result


def _products_stage(db: Path, recipe, source: str, echo: Callable[[str], None]) -> dict:
    """Likely products and the best paths to known SEI products at the recipe's potential."""
    from sei_net.kinetics.path_output import path_record
    from sei_net.kinetics.paths import UnreachableError
    from sei_net.kinetics.products import likely_products
    from sei_net.kinetics.query import PathQuery
    with NetworkStore.open(db, readonly=True) as store:
        q = PathQuery.prepare(store, source=source, potential=recipe.potential, temperature=recipe.temperature)
        start = [q.species_id(s.species.key) for s in recipe.species]
        ranked = likely_products(q, start, top=max(15, len(q.species) // 100))  # the top 1 %
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
            best[name] = {k: rec[k] for k in ("cost", "dG_total", "hardest_step_dG", "electrons", "byproducts")}
            best[name]["steps"] = len(rec["steps"])
    known_ranks = {p["known_as"]: i + 1 for i, p in enumerate(ranked) if p["known_as"]}
    echo(f"ranked {len(ranked)} likely products (known SEI products at ranks {known_ranks}); "
         f"best paths to {', '.join(k for k, v in best.items() if v)}")
    return {"settings": q.describe(), "known_product_ranks": known_ranks, "likely_products": ranked,
            "best_paths": best}


def network_with_energies(recipe, out: Path, force: bool = False, labels: Sequence[str | Path] = (),
                          echo: Callable[[str], None] = print) -> tuple[Path, dict, list[str], dict]:
    """Build (or resume) the recipe's network in ``out`` and score it with the shipped surrogate
    ensemble; returns (network file, build state, known SEI species found, energies stage record)."""
    from sei_net.chem.known import known_species_keys
    from sei_net.generate import build_network

    out.mkdir(parents=True, exist_ok=True)
    db = out / f"{recipe.name}.db"
    echo(("building" if force or not db.exists() else "resuming") + f" network {db} from recipe {recipe.name}")
    with build_network(recipe, db, overwrite=force, progress=echo) as net:
        build_state = json.loads(net.store.get_meta("build_state"))
        known = known_species_keys()
        found = sorted(known[s.key] for s in net.species().values() if s.key in known)
    return db, build_state, found, _score_stage(db, [Path(p) for p in labels], echo)


def run_main_job(recipe_ref: str, out: str | Path, force: bool = False, labels: Sequence[str | Path] = (),
                 echo: Callable[[str], None] = print) -> dict:
    """Run the main job for a recipe into folder ``out``; returns the summary dict. ``labels``:
    oracle label files whose species keep their oracle free energies."""
    t0 = time.perf_counter()
    recipe = load_recipe(recipe_ref)
    out = Path(out)
    db, build_state, found, energies = network_with_energies(recipe, out, force, labels, echo)
    products = _products_stage(db, recipe, energies["source"], echo)
    with NetworkStore.open(db, readonly=True) as store:
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
        "stages_done": ["recipe", "seed_network", "generation", "energies", "paths"],
        "stages_pending": STAGES_PENDING,
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
