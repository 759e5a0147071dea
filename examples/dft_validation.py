"""How much of GFN2-xTB's reaction-energy error is the electronic method? DFT//GFN2 against RNMC's DFT.

For the species of the RNMC SEI network (../shared/data/rnmc_sei) that have a usable GFN2 record in
data/labels/gfn2_reference_species.jsonl.gz, smallest first, a B3LYP/def2-SVP/IEF-PCM(eps 18.5)
single point on the GFN2 structure (``PySCFOracle.refine``), cached in out/dft_validation/labels.db:
the run is resumable (run it again to go on) and stops starting new species after ``--minutes``.
Then, over the electron-free RNMC reactions whose species all have a DFT label, the reaction free
energies of GFN2 and of DFT//GFN2 (both with GFN2's thermal correction) are compared with RNMC's
(wB97X-V/def2-TZVPPD/SMD): n, MAE, RMSE, mean signed error, eV. Writes
docs/results/dft_validation.{md,json}.

    python examples/dft_validation.py run --minutes 40     # one core
    python examples/dft_validation.py table
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sei_net.chem.species import Species
from sei_net.energy.compare import reaction_energy_errors
from sei_net.energy.dft import PySCFOracle
from sei_net.energy.labels import LabelStore
from sei_net.io.rnmc import import_rnmc

RNMC = Path(os.environ.get("SEI_NET_SHARED_DATA", "../shared/data")) / "rnmc_sei"
GFN2_LABELS = Path("data/labels/gfn2_reference_species.jsonl.gz")
OUT = Path("out/dft_validation")


def _gfn2_records(tmp: Path) -> dict:
    store = LabelStore(tmp / "gfn2.db")
    store.import_jsonl(GFN2_LABELS)
    records = {r.key: r for r in store.records() if r.status != "failed"}
    store.close()
    return records


def _network(tmp: Path):
    return import_rnmc(RNMC / "rn.sqlite", tmp / "rnmc.db", RNMC / "initial_state.sqlite",
                       RNMC / "20211130_mol_entries.json")


def run(minutes: float) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    oracle = PySCFOracle()
    with tempfile.TemporaryDirectory() as tmp:
        gfn2 = _gfn2_records(Path(tmp))
        with _network(Path(tmp)) as net:
            keys = [k for k in net.species_ids if k in gfn2]
    cache = LabelStore(OUT / "labels.db")
    todo = cache.todo(sorted(keys, key=lambda k: (Species.from_key(k).n_atoms, k)), oracle.level_of_theory)
    stop = time.time() + 60 * minutes
    for n, key in enumerate(todo):
        if time.time() > stop:
            break
        rec = oracle.refine(Species.from_key(key), gfn2[key])
        cache.put([rec])
        print(f"[{n + 1}/{len(todo)}] {rec.status:20s} {rec.seconds:7.1f} s {key}", flush=True)
    cache.close()


def table() -> None:
    oracle = PySCFOracle()
    with tempfile.TemporaryDirectory() as tmp:
        gfn2 = _gfn2_records(Path(tmp))
        cache = LabelStore(OUT / "labels.db")
        dft = {r.key: r for r in cache.records(oracle.level_of_theory) if r.status != "failed"}
        failed = cache.counts(oracle.level_of_theory).get("failed", 0)
        cache.close()
        with _network(Path(tmp)) as net:
            rows = []
            for source, records in (("gfn2", gfn2), ("pyscf", dft)):
                rows += [{"species_id": net.species_ids[k], "source": source, "level_of_theory": rec.level_of_theory,
                          "G": rec.G, "E": rec.E} for k, rec in records.items() if k in dft and k in net.species_ids]
            net.set_energies(rows)
            result = {"species_with_dft": len(dft), "dft_failed": failed,
                      "dft_level_of_theory": oracle.level_of_theory, "reference": "rnmc (wB97X-V/def2-TZVPPD/SMD)",
                      "gfn2": reaction_energy_errors(net, "gfn2", "rnmc"),
                      "dft_on_gfn2": reaction_energy_errors(net, "pyscf", "rnmc")}
    lines = ["| energies | reactions | MAE eV | RMSE eV | median abs eV | mean signed eV |", "|---|---|---|---|---|---|"]
    for name in ("gfn2", "dft_on_gfn2"):
        m = result[name]
        lines.append(f"| {name} | {m['n']} | {m.get('mae', float('nan')):.3f} | {m.get('rmse', float('nan')):.3f} | "
                     f"{m.get('median_abs', float('nan')):.3f} | {m.get('mean_signed', float('nan')):+.3f} |")
    text = ("# DFT//GFN2 against the RNMC DFT reaction free energies\n\nMade by `python examples/dft_validation.py` "
            f"(see its docstring). {result['species_with_dft']} species with a DFT single point "
            f"({result['dft_failed']} failed); the same electron-free RNMC reactions for both rows.\n\n"
            + "\n".join(lines) + "\n")
    Path("docs/results/dft_validation.md").write_text(text)
    Path("docs/results/dft_validation.json").write_text(json.dumps(result, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["run", "table"])
    parser.add_argument("--minutes", type=float, default=40.0)
    args = parser.parse_args()
    run(args.minutes) if args.what == "run" else table()
