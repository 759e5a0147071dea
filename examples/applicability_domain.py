"""The energy model's applicability domain, measured: how many species fall outside it, how wrong
the model is on them, and what sending them to the oracle does to a network's reaction energies.

A species is outside the domain when one of its atoms has an environment (atom features and bond
features, ``sei_net.learn.domain``) that no training species holds. For an energy model whose card
keeps its domain, this measures
1. on its own test part (species of more than ``ORACLE_MAX_HEAVY`` heavy atoms, its card's maps):
   the share outside, and the figures with every test species predicted against those with the
   outside ones at their oracle labels, as the main job does (``sei-net run --oracle-outside``);
2. on the species of a network it has not seen (those of the given label files in none of its
   seen parts, more than ``ORACLE_MAX_HEAVY`` heavy atoms, of elements it knows), the same rows, and two controls that
   send as many species to the oracle: the ones the members disagree on most (epistemic
   variance), and random ones (median of 20 draws);
3. the environments outside, with how many unseen species hold each and the model's MAE on them.

    python examples/applicability_domain.py sei_net/data/models/energy_gfn2.pt \
        data/labels/gfn2_ec_vc_lipf6.jsonl.gz data/labels/gfn2_ec_vc_lipf6_gen4.jsonl.gz \
        --network out/labelling/ec_vc_lipf6_gen4.db --out docs/results/applicability_domain

Reaction rows use the labelled reactions of the model's own networks (part 1) and of ``--network``
(part 2), and keep the oracle labels of every species not predicted ('labels kept'); 'as scored'
takes the spread of the species-calibrated members, which is what paths and kinetics read. Errors
are surrogate minus oracle (GFN2-xTB, eV).
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import numpy as np

from sei_net.constants import ORACLE_MAX_HEAVY
from sei_net.io.results import publish
from sei_net.learn.dataset import load_labels
from sei_net.learn.domain import Domain
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.evaluate import evaluate, labelled_reactions
from sei_net.learn.fit import require_networks, seen_keys, split_of_card

ROWS = ("species", "reactions_labels_kept", "reactions_as_scored")
FIGURES = ("n", "mae", "coverage_95", "miscalibration_area", "spearman")
RANDOM_DRAWS = 20


def rows_of(report: dict) -> dict:
    """The figures of ``ROWS`` in an ``evaluate`` report."""
    return {what: {f: report[what][f] for f in FIGURES} for what in ROWS if what in report}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="energy model file (.pt) whose card keeps its domain")
    parser.add_argument("unseen", nargs="+", help="label files of a network the model has not seen")
    parser.add_argument("--network", required=True, help="that network (.db), for its labelled reactions")
    parser.add_argument("--out", help="write OUT.md and OUT.json")
    args = parser.parse_args(argv)

    model = EnergyEnsemble.load(args.model, device="cpu")
    domain = Domain.of_card(model.card)
    if domain is None:
        raise SystemExit(f"{args.model}: its card keeps no domain; add it with scripts/add_domain.py")
    data, parts = split_of_card(model.card)
    own_stoich = labelled_reactions(require_networks(model.card), data.keys)
    test = parts["test"][data.n_heavy[parts["test"]] > ORACLE_MAX_HEAVY]
    own_out = domain.outside([data.species[i] for i in test])
    own_pred = model.predict(data.species)
    own = {"n": len(test), "outside": int(own_out.sum()),
           "every test species predicted": rows_of(evaluate(model, data, test, own_stoich, own_pred)),
           "outside at oracle labels": rows_of(evaluate(model, data, test[~own_out], own_stoich, own_pred))}

    seen = seen_keys(data, parts, model.card)
    everything = load_labels([*model.card["labels"], *args.unseen], coordination=model.card.get("coordination", "keep"))
    wanted = set(load_labels(args.unseen, coordination=model.card.get("coordination", "keep")).keys)
    pred = model.predict(everything.species)
    index = np.array([i for i, (k, s) in enumerate(zip(everything.keys, everything.species))   # elements it knows
                      if k in wanted and k not in seen and s.n_heavy > ORACLE_MAX_HEAVY and np.isfinite(pred.mean[i])],
                     dtype=np.int64)
    stoich = labelled_reactions([args.network], everything.keys)
    novel = [domain.novel(everything.species[i]) for i in index]
    outside = np.array([bool(n) for n in novel])
    n_out = int(outside.sum())
    by_epistemic = np.argsort(-pred.epistemic[index])[:n_out]
    keep_epistemic = np.setdiff1d(np.arange(len(index)), by_epistemic)
    rng = np.random.default_rng(0)
    random_rows = [rows_of(evaluate(model, everything, index[np.sort(rng.permutation(len(index))[n_out:])], stoich,
                                    pred)) for _ in range(RANDOM_DRAWS)]
    unseen = {"n": len(index), "outside": n_out,
              "every species predicted": rows_of(evaluate(model, everything, index, stoich, pred)),
              "outside at oracle labels": rows_of(evaluate(model, everything, index[~outside], stoich, pred)),
              "as many, most disagreed on, at oracle labels": rows_of(evaluate(model, everything,
                                                                               index[keep_epistemic], stoich, pred)),
              "as many, random, at oracle labels (median of draws)": {
                  what: {f: float(np.median([r[what][f] for r in random_rows])) for f in FIGURES}
                  for what in random_rows[0]},
              "outside only": rows_of(evaluate(model, everything, index[outside], stoich, pred))}
    errors = np.abs(pred.mean[index] - everything.G[index])
    holders = defaultdict(list)
    for j, envs in enumerate(novel):
        for env in envs:
            holders[env].append(j)
    environments = sorted(([env, len(js), float(errors[js].mean())] for env, js in holders.items()),
                          key=lambda row: -row[1])
    caught = np.argsort(-errors)[:50]
    result = {"model": args.model, "unseen": args.unseen, "network": args.network,
              "environments_in_domain": len(domain.environments), "own": own, "unseen_network": unseen,
              "outside_environments": environments,
              "worst_50_outside": float(outside[caught].mean()),
              "worst_50_most_disagreed_on": float(np.isin(caught, by_epistemic).mean())}
    publish(render(result), result, args.out)
    return result


def _table(rows: dict) -> list[str]:
    lines = ["| species sent to the oracle | row | n | MAE | 95 % coverage | miscal. area | Spearman |",
             "|---|---|---|---|---|---|---|"]
    for name, report in rows.items():
        for what, m in report.items():
            lines.append(f"| {name} | {what} | {m['n']:,.0f} | {m['mae']:.3f} | {m['coverage_95']:.3f} "
                         f"| {m['miscalibration_area']:.3f} | {m['spearman']:.2f} |")
    return lines


def render(result: dict) -> list[str]:
    own, unseen = result["own"], result["unseen_network"]
    lines = [f"`{result['model']}`: {result['environments_in_domain']} atom environments in its domain. "
             "eV against the oracle.", "",
             f"Own test part, more than {ORACLE_MAX_HEAVY} heavy atoms: {own['outside']} of {own['n']} species "
             "outside the domain (the card's maps, one draw).", ""]
    lines += _table({"none": own["every test species predicted"],
                     "those outside the domain": own["outside at oracle labels"]})
    lines += ["", f"Unseen network ({', '.join(result['unseen'])}; reactions of `{result['network']}`): "
              f"{unseen['outside']} of {unseen['n']} species outside the domain; of the 50 worst predicted, "
              f"{result['worst_50_outside']:.0%} are outside and {result['worst_50_most_disagreed_on']:.0%} among "
              f"the {unseen['outside']} the members disagree on most.", ""]
    lines += _table({"none": unseen["every species predicted"],
                     "those outside the domain": unseen["outside at oracle labels"],
                     "as many, where the members disagree most": unseen["as many, most disagreed on, at oracle labels"],
                     f"as many, at random (median of {RANDOM_DRAWS})":
                         unseen["as many, random, at oracle labels (median of draws)"]})
    lines += ["", "The species outside alone, every one predicted:", ""]
    lines += _table({"(none; outside only)": unseen["outside only"]})
    lines += ["", "Environments outside the domain (unseen species holding each, the model's species MAE on them):",
              "", "| environment | species | MAE eV |", "|---|---|---|"]
    lines += [f"| `{env}` | {n} | {mae:.2f} |" for env, n, mae in result["outside_environments"]]
    return lines


if __name__ == "__main__":
    main()
