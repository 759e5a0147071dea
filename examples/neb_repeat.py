"""How repeatable are NEB barrier labels? The same reactions labelled under two NEB settings.

Joins a repeat barrier dataset (for instance 11 moving images and 1,500 FIRE steps) with the
reference datasets the labels came from (7 images, 600 steps; later files win a reaction, as in
training) on the reaction key, and reports: how the two runs' statuses (ok, barrierless, failed)
cross, and for the reactions usable in both, how far apart their training targets are (eV; the
free-energy barrier max(dG_act, dG, 0), or max(dG, 0) when barrierless; ``barrier_data``). That
disagreement is a floor under any model's error measured against either label set: a surrogate
cannot be shown to be better than the labels repeat.

    python examples/neb_repeat.py out/ring11/ring11.jsonl.gz data/barriers/gfn2_neb_ec_lipf6.jsonl.gz \
        --out docs/results/neb_repeat_ring

Level of theory: CI-NEB on GFN2-xTB/GBE(eps=18.5), TS qRRHO without the imaginary mode
(``energy.neb``); energies in eV.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from sei_net.io.results import publish
from sei_net.learn.barrier_data import USABLE, barrier_target, dataset_lines
from sei_net.learn.reaction_graph import reaction_class

STATUSES = ("ok", "barrierless", "failed")
#: a reaction whose dG differs by more than this (eV) between the runs had an endpoint relabelled
#: (another conformer's minimum): the group where a conformer repeat measures something
DG_MOVED = 0.01


def records(paths: list[str]) -> dict[str, dict]:
    """Reaction key -> record of the dataset files (later files win a key)."""
    return {d["reaction_key"]: d for path in paths for d in dataset_lines(path)}


def procedure(record: dict) -> str:
    """How the band's ends were set up (``energy.neb``): 'reactive' when it started from a reactive
    conformer or a pulled product guess (the procedure since 2026-11-22), else 'direct'."""
    data = record.get("data") or {}
    return "reactive" if data.get("product_endpoint") == "pulled" or "reactive_conformer_dE" in data else "direct"


def target(record: dict) -> float | None:
    """The training target (eV) of a usable record, None for a failed one."""
    if record["status"] not in USABLE:
        return None
    return barrier_target(record["status"], float(record["dG"]), record.get("dG_act"))


def disagreement(pairs: list[tuple[float, float]]) -> dict:
    """Summary (eV) of repeat minus reference targets."""
    diff = np.array([b - a for a, b in pairs])
    return {"n": len(diff), "mae": float(np.abs(diff).mean()), "median_abs": float(np.median(np.abs(diff))),
            "mean_signed": float(diff.mean()), "within_0.1": float((np.abs(diff) <= 0.1).mean()),
            "rmse": float(np.sqrt((diff ** 2).mean()))}


def compare(repeat: dict[str, dict], reference: dict[str, dict]) -> dict:
    """Status cross-table and target disagreement, overall and per reaction class, for the shared keys."""
    shared = sorted(set(repeat) & set(reference))
    if not shared:
        raise SystemExit("the repeat and reference datasets share no reaction; give the files the repeat was run "
                         "against (same network, reaction keys)")
    cross = Counter((reference[k]["status"], repeat[k]["status"]) for k in shared)
    pairs: dict[str, list[tuple[float, float]]] = {}
    for k in shared:
        a, b = target(reference[k]), target(repeat[k])
        if a is None or b is None:
            continue
        moved = abs(float(repeat[k]["dG"]) - float(reference[k]["dG"])) > DG_MOVED
        for group in ("all", f"class {reaction_class(repeat[k]['reaction']['kind'])}",
                      "both ok" if reference[k]["status"] == repeat[k]["status"] == "ok" else None,
                      f"dG moved by more than {DG_MOVED} eV" if moved else None,
                      f"ends {procedure(reference[k])} -> {procedure(repeat[k])}"):
            if group:
                pairs.setdefault(group, []).append((a, b))
    return {"shared": len(shared),
            "status_cross": {f"{a} -> {b}": cross[(a, b)] for a in STATUSES for b in STATUSES if cross[(a, b)]},
            "disagreement": {g: disagreement(p) for g, p in pairs.items()}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repeat", help="barrier dataset of the repeat run (.jsonl.gz)")
    parser.add_argument("reference", nargs="+", help="the datasets the reference labels are in, in data-card order")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)
    repeat, reference = records([args.repeat]), records(args.reference)
    result = {"repeat": args.repeat, "reference": args.reference, **compare(repeat, reference)}
    levels = sorted({(r.get("n_images"), (r.get("data") or {}).get("max_steps")) for r in repeat.values()}, key=str)
    lines = [f"NEB labels repeated: `{args.repeat}` (images, steps: {levels}) against "
             f"{', '.join(f'`{p}`' for p in args.reference)}; {result['shared']} shared reactions. "
             "GFN2-xTB CI-NEB free-energy barrier targets in eV (repeat minus reference).", "",
             "Status, reference -> repeat: " + ", ".join(f"{k} {v}" for k, v in result["status_cross"].items()) + ".",
             "", "| group | n | MAE | median abs | mean signed | RMSE | within 0.1 eV |", "|---|---|---|---|---|---|---|"]
    for group, d in result["disagreement"].items():
        lines.append(f"| {group} | {d['n']} | {d['mae']:.3f} | {d['median_abs']:.3f} | {d['mean_signed']:+.3f} | "
                     f"{d['rmse']:.3f} | {d['within_0.1']:.0%} |")
    publish(lines, result, args.out)
    return result


if __name__ == "__main__":
    main()
