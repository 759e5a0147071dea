"""Fit the shipped entropy/heat-capacity additivity model (energy.thermal) on the committed GFN2 labels.

Reads every `ok` record with frequencies of data/labels/gfn2_*.jsonl.gz (the label's stored
entropy at 298.15 K and 1 atm; Cp from its frequencies with the oracle's quasi-RRHO treatment),
measures the model on two held-out sets before fitting the shipped coefficients on all of them:
a random fifth of the species (seed 0), and the species of the ec_vc_lipf6 label files, fitted
without them (chemistry the others lack). Writes the model JSON (with those figures in
``measured``) and a Markdown table.

    python scripts/fit_thermal_model.py sei_net/data/models/thermal_gfn2.json docs/results/thermal_model.md
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json

import numpy as np

from sei_net.chem.species import Species
from sei_net.energy.thermal import ThermalModel, fit_thermal_model, free_energy_shift, heat_capacity


def load_labels(pattern: str = "data/labels/gfn2_*.jsonl.gz") -> list[tuple[Species, float, float, str, str]]:
    """(species, S eV/K, Cp eV/K, level of theory, file) of every ok label with frequencies; a later
    file wins a species both hold."""
    out: dict[str, tuple] = {}
    for path in sorted(glob.glob(pattern)):
        with gzip.open(path, "rt") as fh:
            for line in fh:
                d = json.loads(line)
                data = d.get("data") or {}
                if d["status"] != "ok" or data.get("entropy") is None or "geometry" not in data:
                    continue
                cp = heat_capacity(data.get("frequencies_cm") or [], data["geometry"], d["temperature"])
                out[d["key"]] = (Species.from_key(d["key"]), float(data["entropy"]), cp, d["level_of_theory"], path)
    return list(out.values())


def errors(model: ThermalModel, rows: list) -> dict:
    """Held-out errors of S and Cp (meV/K) and of the G shift they give at 333.15 and 373.15 K (meV)."""
    S_pred, Cp_pred = model.predict([r[0] for r in rows])
    S, Cp = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    out = {"n": len(rows), "S_MAE_meV_per_K": 1e3 * float(np.mean(np.abs(S_pred - S))),
           "S_p90_meV_per_K": 1e3 * float(np.quantile(np.abs(S_pred - S), 0.9)),
           "S_relative_MAE": float(np.mean(np.abs(S_pred - S) / S)),
           "Cp_MAE_meV_per_K": 1e3 * float(np.mean(np.abs(Cp_pred - Cp)))}
    for T in (333.15, 373.15):
        shift_err = free_energy_shift(S_pred, Cp_pred, T) - free_energy_shift(S, Cp, T)
        out[f"G_shift_MAE_meV_{T:g}K"] = 1e3 * float(np.mean(np.abs(shift_err)))
        out[f"G_shift_max_meV_{T:g}K"] = 1e3 * float(np.max(np.abs(shift_err)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_out")
    ap.add_argument("table_out")
    args = ap.parse_args()
    rows = load_labels()
    levels = sorted({r[3] for r in rows})
    if len(levels) != 1:
        raise SystemExit(f"labels at several levels of theory: {levels}")
    def fit(part):
        return fit_thermal_model([r[0] for r in part], [r[1] for r in part], [r[2] for r in part], levels[0])
    order = np.random.default_rng(0).permutation(len(rows))
    test = set(order[: len(rows) // 5].tolist())
    random_split = errors(fit([r for i, r in enumerate(rows) if i not in test]),
                          [r for i, r in enumerate(rows) if i in test])
    vc = [r for r in rows if "ec_vc_lipf6" in r[4]]
    unseen_vc = errors(fit([r for r in rows if "ec_vc_lipf6" not in r[4]]), vc)
    model = fit(rows)
    model.measured = {"trained_on": len(rows), "random_fifth_held_out": random_split, "ec_vc_lipf6_held_out": unseen_vc}
    model.save(args.model_out)
    keys = list(random_split)
    lines = [f"Entropy/heat-capacity additivity model (`sei_net/energy/thermal.py`) against {levels[0]} labels "
             f"(S: the label's ideal-gas entropy at 298.15 K, 1 atm; Cp from its frequencies, same quasi-RRHO). "
             f"Shipped model fitted on all {len(rows):,} ok labels; the rows below were fitted without their "
             "held-out species. G shift error: the error the model's S and Cp put into G(T) - G(298.15 K).", "",
             "| held out | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, res in (("random fifth", random_split), ("ec_vc_lipf6 species", unseen_vc)):
        lines.append(f"| {name} | " + " | ".join(f"{res[k]:.4g}" for k in keys) + " |")
    with open(args.table_out, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
