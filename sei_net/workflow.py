"""The main job (``sei-net run``): recipe -> network -> (energies, paths, kinetics, growth) -> report.

Each stage records itself in OUT/summary.json; stages not yet available are listed as such, never
faked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

from sei_net.recipe import load_recipe

STAGES_PENDING = ["generation", "energies", "paths", "kinetics", "growth", "report"]


def run_main_job(recipe_ref: str, out: str | Path, force: bool = False,
                 echo: Callable[[str], None] = print) -> dict:
    """Run the main job for a recipe into folder ``out``; returns the summary dict."""
    from sei_net.network import seed_network
    from sei_net.store import NetworkStore

    t0 = time.perf_counter()
    recipe = load_recipe(recipe_ref)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"{recipe.name}.db"
    if db.exists() and not force:
        echo(f"resuming with existing network {db}")
        net_store = NetworkStore.open(db)
    else:
        echo(f"seeding network {db} from recipe {recipe.name}")
        net_store = seed_network(recipe, db, overwrite=True).store
    with net_store as store:
        info = store.info()
    summary = {
        "recipe": recipe.name,
        "potential_V_vs_Li": recipe.potential,
        "temperature_K": recipe.temperature,
        "network": {"file": str(db), **info},
        "stages_done": ["recipe", "seed_network"],
        "stages_pending": STAGES_PENDING,
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
