"""Off the training distribution: which signal flags the species an energy model gets wrong, and
what brings its 95 % intervals back.

For an energy model (its split rebuilt from the card) and a label file of a network it has not
seen (species in none of its seen parts, more than ``ORACLE_MAX_HEAVY`` heavy atoms), this
measures
1. two signals of novelty against the model's own calibration species: the members'
   disagreement (epistemic variance) and the distance in the members' embedding space (mean
   Euclidean distance to the k nearest training species of the pooled states the variance head
   reads, each dimension standardised on the training species, averaged over members): the
   fraction of the unseen species above the calibration 90th percentile, and of the 50 worst
   predicted ones;
2. that distance as a third input of the species map (v = exp(w0) (epistemic + aleatoric)^w1
   d^w2, the weights by Gaussian maximum likelihood on the calibration species, then the isotonic
   map), against the map on the sum (the shipped rule), over random re-splits of the own held-out species;
3. recalibration on the new network itself, with n of its species labelled by the oracle: one
   scale on the model's own species map (the mean squared z of the n), or an isotonic map fitted on the n
   alone; measured on the network's other species over random draws of the n.

    python examples/off_distribution_signals.py sei_net/data/models/energy_gfn2.pt \
        data/labels/gfn2_ec_vc_lipf6_gen4.jsonl.gz --out docs/results/off_distribution_signals

Errors are surrogate minus oracle (GFN2-xTB, eV); tables give medians over the draws.
"""

from __future__ import annotations

import argparse
import re

import numpy as np
import torch

from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.io.results import publish
from sei_net.learn import metrics
from sei_net.learn.batching import collate
from sei_net.learn.calibration import IsotonicVarianceMap, LogLinearVariance
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.features import featurise
from sei_net.learn.fit import unseen_species

FIGURES = ("coverage_95", "miscalibration_area", "spearman", "nll", "mean_sigma")
WORST = 50


def pooled_states(model: EnergyEnsemble, species, batch_size: int = 2048) -> np.ndarray:
    """(members, species, 3 hidden) pooled states [sum h, mean h, u] each member's variance head reads."""
    graphs = [featurise(s) for s in species]
    out = []
    with torch.inference_mode():
        for net in model.members:
            out.append(torch.cat([net.mean_and_pooled(collate(graphs[i:i + batch_size]))[1]
                                  for i in range(0, len(graphs), batch_size)]).double().numpy())
    return np.stack(out)


def knn_distance(reference: np.ndarray, query: np.ndarray, k: int, chunk: int = 1024) -> np.ndarray:
    """Mean Euclidean distance of each query row to its ``k`` nearest reference rows, every
    dimension standardised by the reference rows' mean and standard deviation."""
    centre, scale = reference.mean(axis=0), reference.std(axis=0) + 1e-9
    ref = torch.from_numpy((reference - centre) / scale)
    q = torch.from_numpy((query - centre) / scale)
    return torch.cat([torch.cdist(q[i:i + chunk], ref).topk(k, largest=False).values.mean(dim=1)
                      for i in range(0, len(q), chunk)]).numpy()


def embedding_distance(train_states: np.ndarray, query_states: np.ndarray, k: int) -> np.ndarray:
    """``knn_distance`` in each member's space (states as from ``pooled_states``), averaged over members."""
    return np.mean([knn_distance(t, q, k) for t, q in zip(train_states, query_states)], axis=0)


def target_scale(variance: np.ndarray, errors: np.ndarray) -> float:
    """The factor that makes recalibrated variances (eV^2) match the mean squared error of the
    labelled target species: mean(error^2 / variance)."""
    return float(np.mean(np.asarray(errors) ** 2 / np.asarray(variance)))


def flags(signal_own: np.ndarray, signal_unseen: np.ndarray, n_cal: int, unseen_errors: np.ndarray) -> dict:
    """Fractions above the 90th percentile of the first ``n_cal`` own species (the calibration part)."""
    p90 = np.quantile(signal_own[:n_cal], 0.9)
    worst = np.argsort(-np.abs(unseen_errors))[:WORST]
    return {"own_test": float(np.mean(signal_own[n_cal:] > p90)), "unseen": float(np.mean(signal_unseen > p90)),
            "unseen_worst": float(np.mean(signal_unseen[worst] > p90))}


def z_shape(errors: np.ndarray, variance: np.ndarray) -> dict:
    """Shape of z = error / sigma: its root mean square, and after scaling it to unit root mean
    square the fraction inside 1 and 1.96 (Gaussian: 0.683, 0.950) and the kurtosis (Gaussian: 3)."""
    z = np.asarray(errors) / np.sqrt(np.asarray(variance))
    rms = float(np.sqrt(np.mean(z ** 2)))
    unit = z / rms
    return {"rms": rms, "inside_1": float(np.mean(np.abs(unit) < 1.0)), "inside_1.96": float(np.mean(np.abs(unit) < 1.96)),
            "kurtosis": float(np.mean(unit ** 4))}


def motif_split(pattern: str, train_keys, unseen_keys, unseen_errors: np.ndarray) -> dict:
    """Species whose skeleton key (before the first '|') matches the regular expression ``pattern``:
    how many train and unseen species hold it, the unseen MAE (eV) with and without it, and how many
    of the ``WORST`` worst unseen species hold it."""
    regex = re.compile(pattern)
    holds = np.array([bool(regex.search(k.split("|")[0])) for k in unseen_keys])
    errors = np.abs(unseen_errors)
    worst = np.argsort(-errors)[:WORST]
    return {"pattern": pattern, "train": sum(bool(regex.search(k.split("|")[0])) for k in train_keys),
            "n_train": len(train_keys), "unseen": int(holds.sum()),
            "mae_with": float(errors[holds].mean()) if holds.any() else float("nan"),
            "mae_without": float(errors[~holds].mean()), "worst_with": int(holds[worst].sum())}


def report_row(errors: np.ndarray, variance: np.ndarray) -> list[float]:
    report = metrics.regression_report(errors, np.sqrt(variance))
    return [report[f] for f in FIGURES]


def distance_as_input(own: dict, unseen: dict, n_cal: int, draws: int, rng) -> dict:
    """Re-split the own held-out species ``draws`` times; species map on the sum, and on the
    sum and the distance. Rows of ``FIGURES`` medians for the own test part and the unseen network."""
    runs: dict[str, list] = {}
    for _ in range(draws):
        order = rng.permutation(len(own["err"]))
        cal, test = order[:n_cal], order[n_cal:]
        summed = IsotonicVarianceMap.fit(own["sum"][cal], own["err"][cal])
        # a log-linear blend of two positive inputs: here the summed variance and the distance
        mix = LogLinearVariance.fit(own["sum"][cal], own["dist"][cal], own["err"][cal])
        mixed = IsotonicVarianceMap.fit(mix(own["sum"][cal], own["dist"][cal]), own["err"][cal])
        for name, rule in (("sum (the shipped rule)", lambda d: summed(d["sum"])),
                           ("sum and distance", lambda d: mixed(mix(d["sum"], d["dist"])))):
            runs.setdefault(f"{name} | own test", []).append(report_row(own["err"][test], rule(own)[test]))
            runs.setdefault(f"{name} | unseen network", []).append(report_row(unseen["err"], rule(unseen)))
            if name != "sum (the shipped rule)":
                runs.setdefault(f"{name} | weights", []).append(list(mix.weights))
    return {k: np.median(v, axis=0).tolist() for k, v in runs.items()}


def target_recalibration(unseen: dict, model_variance: np.ndarray, sizes: list[int], draws: int, rng) -> dict:
    """n labelled species of the unseen network recalibrate; the rest measure. Per n and rule:
    medians of ``FIGURES`` and the 5th-95th percentile of the coverage."""
    out = {}
    err = unseen["err"]
    for n in sizes:
        runs: dict[str, list] = {}
        for _ in range(draws):
            order = rng.permutation(len(err))
            fit, test = order[:n], order[n:]
            scale = target_scale(model_variance[fit], err[fit])
            runs.setdefault("one scale on the model's map", []).append(report_row(err[test], scale * model_variance[test]))
            if n >= 100:
                own_map = IsotonicVarianceMap.fit(unseen["sum"][fit], err[fit])
                runs.setdefault("isotonic map on the n alone", []).append(report_row(err[test], own_map(unseen["sum"][test])))
        for rule, rows in runs.items():
            rows = np.array(rows)
            out[f"{n} | {rule}"] = {"median": np.median(rows, axis=0).tolist(),
                                    "coverage_5_95": np.quantile(rows[:, 0], [0.05, 0.95]).tolist()}
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt)")
    parser.add_argument("unseen", help="label file of a network the model has not seen")
    parser.add_argument("--k", type=int, default=5, help="nearest training species per distance")
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--sizes", default="25,50,100,200,400", help="labelled species of the unseen network")
    parser.add_argument("--motif", default=r"\[C\]1?\[C\]", help="regular expression on skeleton keys "
                        "(default: two bonded carbons without hydrogen)")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)

    model = EnergyEnsemble.load(args.model, device="cpu")
    data, split, other, index = unseen_species(model, [args.unseen])
    if len(index) < 2 * WORST:
        raise SystemExit(f"{args.unseen}: {len(index)} unseen species of more than {ORACLE_MAX_HEAVY} heavy atoms; "
                         "give a label file of a network the model has not seen")
    held = np.concatenate([split["cal"], split["test"]])
    n_cal = len(split["cal"])
    train_states = pooled_states(model, [data.species[i] for i in split["train"]])
    sets = {}
    for name, species, G in (("own", [data.species[i] for i in held], data.G[held]),
                             ("unseen", [other.species[i] for i in index], other.G[index])):
        prediction = model.predict(species)
        sets[name] = {"epistemic": prediction.epistemic, "aleatoric": prediction.aleatoric,
                      "sum": prediction.epistemic + prediction.aleatoric, "err": prediction.mean - G,
                      "dist": embedding_distance(train_states, pooled_states(model, species), args.k)}
    own, unseen = sets["own"], sets["unseen"]
    shipped = model.calibration.get("species") or IsotonicVarianceMap.fit(own["sum"][:n_cal], own["err"][:n_cal])
    shipped_unseen = shipped.recalibrate(unseen["epistemic"], unseen["aleatoric"])
    rng = np.random.default_rng(0)
    result = {"model": args.model, "unseen": args.unseen, "k": args.k, "draws": args.draws,
              "n_own_test": len(held) - n_cal, "n_unseen": len(index),
              "flags": {"epistemic variance": flags(own["epistemic"], unseen["epistemic"], n_cal, unseen["err"]),
                        "embedding distance": flags(own["dist"], unseen["dist"], n_cal, unseen["err"])},
              "spearman_signal": {s: {w: metrics.spearman_error_sigma(sets[w]["err"], sets[w][s]) for w in sets}
                                  for s in ("epistemic", "sum", "dist")},
              "unseen_with_shipped_map": dict(zip(FIGURES, report_row(unseen["err"], shipped_unseen))),
              "z_shape": {"own test": z_shape(own["err"][n_cal:], shipped.recalibrate(own["epistemic"][n_cal:],
                                                                                   own["aleatoric"][n_cal:])),
                          "unseen": z_shape(unseen["err"], shipped_unseen)},
              "motif": motif_split(args.motif, [data.keys[i] for i in split["train"]],
                                   [other.keys[i] for i in index], unseen["err"]),
              "distance_as_input": distance_as_input(own, unseen, n_cal, args.draws, rng),
              "target_recalibration": target_recalibration(unseen, shipped_unseen,
                                                           [int(n) for n in args.sizes.split(",")], args.draws, rng)}
    publish(render(result), result, args.out)
    return result


def render(result: dict) -> list[str]:
    flags_, signal = result["flags"], result["spearman_signal"]
    lines = [f"`{result['model']}` on {result['n_own_test']} own test and {result['n_unseen']} unseen species of "
             f"`{result['unseen']}` (more than {ORACLE_MAX_HEAVY} heavy atoms); eV against the oracle; "
             f"distance: k = {result['k']}.", "",
             "| signal | own test above the calibration 90th percentile | unseen above | "
             f"the {WORST} worst unseen above | Spearman(abs. error, signal) own / unseen |", "|---|---|---|---|---|"]
    for name, key in (("epistemic variance", "epistemic"), ("embedding distance", "dist")):
        f = flags_[name]
        lines.append(f"| {name} | {f['own_test']:.2f} | {f['unseen']:.2f} | {f['unseen_worst']:.2f} | "
                     f"{signal[key]['own']:.3f} / {signal[key]['unseen']:.3f} |")
    lines += ["", f"Species map inputs, medians of {result['draws']} re-splits of the own held-out species:", "",
              "| map reads | tested on | 95 % coverage | miscal. area | Spearman | NLL | mean sigma eV |",
              "|---|---|---|---|---|---|---|"]
    for key, row in result["distance_as_input"].items():
        name, where = key.split(" | ")
        if where == "weights":
            lines.append(f"| {name} | weights w0, w1, w2 | {row[0]:.2f}, {row[1]:.2f}, {row[2]:.2f} | | | | |")
        else:
            lines.append(f"| {name} | {where} | " + " | ".join(f"{x:.3f}" for x in row) + " |")
    lines += ["", f"Recalibrated on n labelled species of the unseen network, measured on the rest ({result['draws']} "
              "draws of the n):", "",
              "| n | rule | 95 % coverage [5th, 95th pct.] | miscal. area | Spearman | NLL | mean sigma eV |",
              "|---|---|---|---|---|---|---|"]
    ship = result["unseen_with_shipped_map"]
    lines.append(f"| 0 | the model's own species map | {ship['coverage_95']:.3f} | {ship['miscalibration_area']:.3f} | "
                 f"{ship['spearman']:.3f} | {ship['nll']:.3f} | {ship['mean_sigma']:.3f} |")
    for key, row in result["target_recalibration"].items():
        n, rule = key.split(" | ")
        m, (lo, hi) = row["median"], row["coverage_5_95"]
        lines.append(f"| {n} | {rule} | {m[0]:.3f} [{lo:.3f}, {hi:.3f}] | {m[1]:.3f} | {m[2]:.3f} | {m[3]:.3f} | "
                     f"{m[4]:.3f} |")
    motif = result["motif"]
    lines += ["", f"Motif `{motif['pattern']}` in the skeleton key: {motif['train']} of {motif['n_train']} training "
              f"species, {motif['unseen']} of {result['n_unseen']} unseen ones (MAE {motif['mae_with']:.3f} eV; "
              f"without it {motif['mae_without']:.3f}), {motif['worst_with']} of the {WORST} worst unseen."]
    lines += ["", "z = error / sigma with the model's own species map; after scaling z to unit root mean square, "
              "the fraction inside 1 and 1.96 and the kurtosis (Gaussian: 0.683, 0.950, 3):", "",
              "| species | rms z | inside 1 | inside 1.96 | kurtosis |", "|---|---|---|---|---|"]
    for where, shape in result["z_shape"].items():
        lines.append(f"| {where} | {shape['rms']:.2f} | {shape['inside_1']:.3f} | {shape['inside_1.96']:.3f} | "
                     f"{shape['kurtosis']:.1f} |")
    return lines


if __name__ == "__main__":
    main()
