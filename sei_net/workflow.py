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

STAGES_PENDING = ["energies", "paths", "kinetics", "growth", "report"]


def run_main_job(recipe_ref: str, out: str | Path, force: bool = False,
                 echo: Callable[[str], None] = print) -> dict:
    """Run the main job for a recipe into folder ``out``; returns the summary dict."""
    from sei_net.chem.known import known_species_keys
    from sei_net.generate import build_network

    t0 = time.perf_counter()
    recipe = load_recipe(recipe_ref)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / f"{recipe.name}.db"
    echo(("building" if force or not db.exists() else "resuming") + f" network {db} from recipe {recipe.name}")
    with build_network(recipe, db, overwrite=force, progress=echo) as net:
        info = net.info()
        build_state = json.loads(net.store.get_meta("build_state"))
        known = known_species_keys()
        found = sorted(known[s.key] for s in net.species().values() if s.key in known)
    summary = {
        "recipe": recipe.name,
        "potential_V_vs_Li": recipe.potential,
        "temperature_K": recipe.temperature,
        "network": {"file": str(db), **info},
        "generation": {"stop_reason": build_state.get("stop_reason"),
                       "generations": build_state.get("generations", []),
                       "known_sei_species_found": found},
        "stages_done": ["recipe", "seed_network", "generation"],
        "stages_pending": STAGES_PENDING,
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
