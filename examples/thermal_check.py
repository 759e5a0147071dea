"""How well does G(T) = G(298.15 K) + free_energy_shift(S, Cp, T) carry oracle free energies to T?

For the first N `ok` labels of a label file, ASE's ideal-gas thermochemistry is rebuilt from the
label's stored frequencies and geometry (the oracle's quasi-RRHO treatment, 1 mol/L) and G is
recomputed at each temperature: the reference. Compared (errors in meV per species):
- constant S: G(T0) - S (T - T0) + standard-state term (first order);
- constant Cp: ``energy.thermal.free_energy_shift`` with the label's S and Cp (what the thermal
  model approximates);
- the shipped model: ``free_energy_shift`` with S and Cp predicted from the graph.

    python examples/thermal_check.py --n 400 --out docs/results/thermal_check.md
"""

from __future__ import annotations

import argparse
import gzip
import json
import warnings

import numpy as np

from sei_net.chem.species import Species
from sei_net.energy.thermal import REFERENCE_TEMPERATURE as T0
from sei_net.energy.thermal import ThermalModel, free_energy_shift, heat_capacity
from sei_net.energy.thermo import CM_TO_EV, QUASI_HARMONIC_CUTOFF_CM, standard_state_correction

TEMPERATURES = (253.15, 333.15, 373.15)


def oracle_g(record: dict, temperature: float) -> float:
    """The label's free energy (eV, 1 mol/L) recomputed at ``temperature`` from its frequencies."""
    from ase import Atoms
    from ase.thermochemistry import IdealGasThermo

    species = Species.from_key(record["key"])
    data = record["data"]
    f = np.asarray(data["frequencies_cm"], float)
    vib = np.maximum(np.where(f < 0, 0.0, f), QUASI_HARMONIC_CUTOFF_CM) * CM_TO_EV
    thermo = IdealGasThermo(vib_energies=vib, geometry=data["geometry"], potentialenergy=record["E"],
                            atoms=Atoms(species.elements, positions=record["coords"]), symmetrynumber=1,
                            spin=(species.multiplicity - 1) / 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = thermo.get_gibbs_energy(temperature, 101325.0, verbose=False)
    return g + standard_state_correction(temperature)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", default="data/labels/gfn2_ec_lipf6.jsonl.gz")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    with gzip.open(args.labels, "rt") as fh:
        records = [d for d in map(json.loads, fh)
                   if d["status"] == "ok" and d["data"].get("frequencies_cm") and d["data"].get("geometry")]
    records = records[: args.n]
    model = ThermalModel.load()
    S_model, Cp_model = model.predict([Species.from_key(d["key"]) for d in records])
    rows = []
    worst_check = 0.0
    for i, d in enumerate(records):
        g0 = oracle_g(d, T0)
        worst_check = max(worst_check, abs(g0 - d["G"]))  # the rebuilt thermochemistry is the label's
        S = d["data"]["entropy"]
        cp = heat_capacity(d["data"]["frequencies_cm"], d["data"]["geometry"])
        for T in TEMPERATURES:
            exact = oracle_g(d, T) - g0
            constant_s = free_energy_shift(S, 0.0, T)
            rows.append((T, exact, constant_s - exact, free_energy_shift(S, cp, T) - exact,
                         free_energy_shift(S_model[i], Cp_model[i], T) - exact))
    r = np.array(rows)
    lines = [f"G(T) - G(298.15 K) of {len(records)} GFN2 labels ({args.labels}), recomputed from their frequencies "
             f"(ASE ideal gas, quasi-RRHO, 1 mol/L; rebuilt G at 298.15 K within {1e3 * worst_check:.2f} meV of "
             "the labels'), against three approximations. meV per species: median shift, then median | max "
             "absolute error.", "",
             "| T (K) | median shift | constant S | constant S and Cp (label's) | thermal model (graph) |",
             "|---|---|---|---|---|"]
    for T in TEMPERATURES:
        m = r[:, 0] == T
        cells = [f"{1e3 * np.median(np.abs(r[m, k])):.1f} \\| {1e3 * np.abs(r[m, k]).max():.1f}" for k in (2, 3, 4)]
        lines.append(f"| {T:g} | {1e3 * np.median(r[m, 1]):.0f} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
