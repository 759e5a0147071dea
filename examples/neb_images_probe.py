"""Do concerted-shift NEBs whose band did not converge converge with more images? Both arms side by side.

Takes the concerted reactions of NETWORK whose record in the barrier store BARRIERS failed with
'climbing-image NEB did not converge', and reruns the first N of them (in the store's key order)
twice: with the shipped settings (7 images, 600 FIRE steps per phase) and with more images and
steps. The store is only read; each arm's records go to OUT_<images>x<steps>.jsonl (rerunning
skips the reactions an arm already holds) and the side-by-side table to OUT.md.

    python examples/neb_images_probe.py out/labelling/ec_vc_lipf6_gen4.db out/labelling/barriers_vc4.db \
        --labels out/labelling/labels.db --n 20 --out docs/results/neb_images_probe

Level of theory: CI-NEB on GFN2-xTB/GBE(eps=18.5), free-energy barriers in eV (``energy.neb``).
About 30 s per reaction and arm on one core.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sei_net.energy.barrier_labels import BarrierStore, eligible_reactions
from sei_net.energy.gfn2 import GFN2Oracle
from sei_net.energy.labels import LabelStore
from sei_net.energy.neb import neb_barrier
from sei_net.store.db import NetworkStore

NOT_CONVERGED = "did not converge"


def stuck_concerted(barriers: str) -> set[str]:
    """Keys of the concerted reactions whose stored NEB failed because the band did not converge."""
    with BarrierStore(barriers) as store:
        return {r["reaction_key"] for kind, r in store.records()
                if kind == "concerted" and r["status"] == "failed" and NOT_CONVERGED in (r.get("reason") or "")}


def run_arm(chosen: list, labels: LabelStore, level: str, n_images: int, steps: int, path: Path) -> dict[str, dict]:
    """NEB of every chosen reaction with these settings, appended to ``path`` (resumable)."""
    done = {}
    if path.exists():
        done = {row["key"]: row for row in map(json.loads, path.read_text().splitlines())}
    with path.open("a") as fh:
        for reaction in chosen:
            if reaction.key in done:
                continue
            r = labels.get(reaction.reactants[0].key, level)
            products = [labels.get(p.key, level) for p in reaction.products]
            rec = neb_barrier(reaction, np.asarray(r.coords), [np.asarray(p.coords) for p in products], r.G, r.E,
                              temperature=r.temperature, n_images=n_images, max_steps=steps)
            row = {"key": reaction.key, "status": rec.status, "reason": rec.reason, "dG_act": rec.dG_act,
                   "n_images": n_images, "steps": steps, "seconds": round(rec.seconds, 1)}
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            done[reaction.key] = row
            print(json.dumps(row), flush=True)
    return done


def table(arms: dict[str, dict[str, dict]], keys: list[str]) -> str:
    """Markdown: one row per reaction, status and barrier (eV) of each arm, then the counts."""
    names = list(arms)
    lines = ["| reaction | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key in keys:
        cells = []
        for name in names:
            row = arms[name][key]
            cells.append(f"ok {row['dG_act']:.2f}" if row["status"] == "ok" else
                         row["status"] if row["status"] != "failed" else
                         "failed: " + (row["reason"] or "").split(": ", 1)[-1][:40])
        lines.append(f"| {key[:10]} | " + " | ".join(cells) + " |")
    lines.append("")
    for name in names:
        statuses = [arms[name][k]["status"] for k in keys]
        lines.append(f"- {name}: " + ", ".join(f"{s} {statuses.count(s)}" for s in ("ok", "barrierless", "failed")))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", help="network (.db) holding the reactions")
    parser.add_argument("barriers", help="barrier store (.db) with the failed records (read only)")
    parser.add_argument("--labels", default="out/labelling/labels.db", help="label cache with the species geometries")
    parser.add_argument("--n", type=int, default=20, help="reactions to rerun")
    parser.add_argument("--images", type=int, default=11)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--out", required=True, help="prefix of the outputs")
    args = parser.parse_args()

    level = GFN2Oracle(n_conformers=1).level_of_theory
    stuck = stuck_concerted(args.barriers)
    with NetworkStore.open(args.network, readonly=True) as net, LabelStore(args.labels) as labels:
        chosen = [r for r, kind, _ in eligible_reactions(net, labels, level) if kind == "concerted" and r.key in stuck]
        chosen = sorted(chosen, key=lambda r: r.key)[:args.n]
        print(f"{len(stuck)} non-converged concerted records; {len(chosen)} of this network rerun", flush=True)
        arms = {f"{n} images, {s} steps": run_arm(chosen, labels, level, n, s, Path(f"{args.out}_{n}x{s}.jsonl"))
                for n, s in ((7, 600), (args.images, args.steps))}
    text = (f"Concerted shifts of {args.network} whose 7-image CI-NEB band did not converge, rerun with two "
            f"settings (GFN2-xTB free-energy barriers, eV):\n\n" + table(arms, [r.key for r in chosen]))
    Path(args.out + ".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
