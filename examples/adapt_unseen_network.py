"""Adapting an energy model to a network it has not seen: a retrospective active-learning curve.

The species of a network the model never saw (labels in UNSEEN, none in the model's split, more
than ``ORACLE_MAX_HEAVY`` heavy atoms) are cut at random into a test half and a pool. From the
pool, n species are "labelled" (their oracle labels taken from UNSEEN): the n the members disagree
on most (largest calibrated sigma, what ``sei-net learn`` picks) or n at random. The model is
fine-tuned on them (``learn.adapt.fine_tune``: every member from its trained state, a replay of its
training species) and measured on the test half: species MAE, and the MAE of the network's
labelled reactions that touch a test species, with every other species at its oracle label
('labels kept', as the main job scores). n = 0 fine-tunes on the replay alone, the control for
the extra epochs. The species map is refitted on the model's own calibration part for the 95 %
coverage of the test half. Over ``--draws`` cuts of test half and pool.

    python examples/adapt_unseen_network.py sei_net/data/models/energy_gfn2.pt \
        data/labels/gfn2_ec_vc_lipf6.jsonl.gz data/labels/gfn2_ec_vc_lipf6_gen4.jsonl.gz \
        --network out/labelling/ec_vc_lipf6_gen4.db --out docs/results/adapt_unseen_vc

About 2 min per fine-tuned model with two workers (75 s with --replay 3000 --epochs 20); results
are kept in OUT.json as they finish, and a rerun skips what is there. Errors are surrogate minus oracle (GFN2-xTB, eV).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.io.results import publish
from sei_net.learn import metrics
from sei_net.learn.adapt import AdaptConfig, fine_tune
from sei_net.learn.calibration import IsotonicVarianceMap
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import labelled_reactions
from sei_net.learn.fit import unseen_species

STRATEGIES = ("disagreement", "random")


def pick(strategy: str, pool: np.ndarray, sigma: np.ndarray, n: int, rng) -> np.ndarray:
    """n rows of ``pool``: those of largest ``sigma`` (aligned with pool), or n at random."""
    if strategy == "disagreement":
        return pool[np.argsort(-sigma, kind="stable")[:n]]
    if strategy == "random":
        return rng.choice(pool, n, replace=False)
    raise ValueError(f"strategy {strategy!r} is not known; valid: {', '.join(STRATEGIES)}")


def test_reactions(network: str, keys: list[str], test_columns: np.ndarray):
    """Labelled reactions of ``network`` (over ``keys``) that touch a test column, restricted to the
    test columns (CSR): their labels-kept error is this matrix times the test species' errors."""
    S = labelled_reactions([network], keys).tocsc()[:, test_columns].tocsr()
    return S[np.asarray((S != 0).sum(axis=1)).ravel() > 0]


def measure(model: EnergyEnsemble, unseen, test: np.ndarray, S, own, own_cal: np.ndarray) -> dict:
    """Test-half figures of ``model``; coverage with a species map refitted on the own calibration part."""
    prediction = model.predict([unseen.species[i] for i in test])
    errors = prediction.mean - unseen.G[test]
    cal = model.predict([own.species[i] for i in own_cal])
    species_map = IsotonicVarianceMap.fit_parts(cal.epistemic, cal.aleatoric, cal.mean - own.G[own_cal])
    sigma = np.sqrt(species_map.recalibrate(prediction.epistemic, prediction.aleatoric))
    return {"species_mae": metrics.mae(errors), "reactions_labels_kept_mae": metrics.mae(S @ errors),
            "species_coverage_95": metrics.interval_coverage(errors, sigma), "n_test": int(len(test)),
            "n_reactions": int(S.shape[0])}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("unseen", nargs="+", help="label files of a network the model has not seen")
    parser.add_argument("--network", required=True, help="that network (.db), for its labelled reactions")
    parser.add_argument("--sizes", default="100,200,400", help="labelled pool species per point")
    parser.add_argument("--draws", type=int, default=3, help="cuts of the species into test half and pool")
    parser.add_argument("--epochs", type=int, default=AdaptConfig.epochs)
    parser.add_argument("--replay", type=int, default=AdaptConfig.replay, help="default: every training species")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", help="write OUT.md and OUT.json (and resume from OUT.json)")
    args = parser.parse_args(argv)

    model = EnergyEnsemble.load(args.model, device="cpu")
    data, parts, unseen, candidates = unseen_species(model, args.unseen, exclude_test=True)
    if len(candidates) < 2 * max(int(n) for n in args.sizes.split(",")):
        raise SystemExit(f"{len(candidates)} unseen species of more than {ORACLE_MAX_HEAVY} heavy atoms in "
                         f"{', '.join(args.unseen)}: too few for --sizes {args.sizes}")
    labels = dict(zip(data.keys, data.G))
    for key, G in zip(unseen.keys, unseen.G):
        labels.setdefault(key, G)
    keys = list(labels)
    column = {k: i for i, k in enumerate(keys)}
    config = AdaptConfig(epochs=args.epochs, replay=args.replay)
    replay_pool = data.subset(parts["train"])
    out_json = Path(f"{args.out}.json") if args.out else None
    runs = json.loads(out_json.read_text())["runs"] if out_json and out_json.exists() else {}
    for draw in range(args.draws):
        order = np.random.default_rng(draw).permutation(candidates)
        test, pool = np.sort(order[:len(order) // 2]), np.sort(order[len(order) // 2:])
        S = test_reactions(args.network, keys, np.array([column[unseen.keys[i]] for i in test]))
        sigma = model.predict([unseen.species[i] for i in pool]).sigma
        points = [("model", 0), ("none", 0)] + [(s, int(n)) for n in args.sizes.split(",") for s in STRATEGIES]
        for strategy, n in points:
            name = f"{strategy} {n} draw {draw}"
            if name in runs:
                continue
            chosen = pick(strategy, pool, sigma, n, np.random.default_rng(1000 + draw)) if n else pool[:0]
            tuned = model if strategy == "model" else \
                fine_tune(model, unseen.subset(chosen), replay_pool, config, seed=draw, workers=args.workers)
            runs[name] = measure(tuned, unseen, test, S, data, parts["cal"])
            print(name, {k: round(v, 3) for k, v in runs[name].items()}, flush=True)
            if out_json:
                out_json.write_text(json.dumps({"runs": runs}, indent=1))
    result = {"model": args.model, "unseen": args.unseen, "network": args.network, "config": vars(config),
              "draws": args.draws, "n_candidates": int(len(candidates)), "runs": runs}
    publish(render(result), result, args.out)
    return result


def render(result: dict) -> list[str]:
    runs = result["runs"]
    rows: dict[str, list[dict]] = {}
    for name, figures in runs.items():
        rows.setdefault(name.rsplit(" draw ", 1)[0], []).append(figures)
    lines = [f"`{result['model']}` adapted to labels of `{', '.join(result['unseen'])}` "
             f"({result['n_candidates']} unseen species of more than {ORACLE_MAX_HEAVY} heavy atoms, cut into a "
             f"test half and a pool; {result['draws']} cuts); fine-tuning {result['config']}. Medians [min, max] "
             "over the cuts, eV against the oracle.", "",
             "| labelled pool species | picked by | species MAE | reactions MAE, labels kept | species 95 % coverage |",
             "|---|---|---|---|---|"]

    def cell(values: list[float]) -> str:
        return f"{np.median(values):.3f} [{min(values):.3f}, {max(values):.3f}]"

    names = {"model": "the model as it is", "none": "replay only (control)"}
    for name in sorted(rows, key=lambda k: (int(k.split()[1]), k.split()[0] != "model", k)):
        figures = rows[name]
        who, n = name.split()
        who = names.get(who, who)
        lines.append(f"| {n} | {who} | {cell([f['species_mae'] for f in figures])} | "
                     f"{cell([f['reactions_labels_kept_mae'] for f in figures])} | "
                     f"{cell([f['species_coverage_95'] for f in figures])} |")
    return lines


if __name__ == "__main__":
    main()
