"""Active learning: send the oracle the species whose uncertainty most affects the network's answers.

The answers are the likely products and the cheapest paths to them (``sei_net.kinetics``). A round:
train an ensemble on the labels so far, score the network, find the species on the best paths to
the top likely products (and to the known SEI products), and label the most uncertain of those
that have no label yet; when they run out, the most uncertain of the remaining reachable species.
Repeat. Each round's model card (held-out metrics) is kept, which gives the learning curve.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from sei_net.learn.adapt import AdaptConfig
from sei_net.learn.train import TrainConfig


def path_relevance(query, sources: Sequence[int], top: int = 15) -> np.ndarray:
    """Boolean mask over species ids: the species on the best path to each of the ``top`` likely
    products and to each reachable known SEI product (reactants and products of every step)."""
    from sei_net.kinetics.paths import UnreachableError
    from sei_net.kinetics.products import likely_products

    targets = [p["species_id"] for p in likely_products(query, list(sources), top)]
    targets += [sid for sid, sp in query.species.items() if sp.key in query.known and sid not in sources]
    relevant = np.zeros(query.graph.n_species, dtype=bool)
    for t in dict.fromkeys(targets):
        try:
            path = query.paths(list(sources), t, 1)[0]
        except UnreachableError:
            continue
        for r, _ in path.steps:
            for s, _ in query.graph.reactants(r) + query.graph.products(r):
                relevant[s] = True
    return relevant


def select_for_labelling(sigma: np.ndarray, relevant: np.ndarray, candidate: np.ndarray, batch: int) -> np.ndarray:
    """Species indices to label: relevant candidates by decreasing sigma, then the other candidates
    by decreasing sigma, ``batch`` in all. ``candidate`` masks species that may be picked (no label
    yet); a species without a finite sigma is never picked."""
    candidate = candidate & np.isfinite(sigma)
    first = np.flatnonzero(candidate & relevant)
    rest = np.flatnonzero(candidate & ~relevant)
    ordered = np.concatenate([first[np.argsort(-sigma[first], kind="stable")],
                              rest[np.argsort(-sigma[rest], kind="stable")]])
    return ordered[:batch]


@dataclass
class RoundResult:
    """One active-learning round: labels used, the model's held-out report, what was picked."""

    round: int
    n_labels: int
    report: dict
    picked: list[str]
    picked_relevant: int
    labelled: dict


def learn(network: str | Path, labels: str | Path, out: str | Path, rounds: int = 3, batch: int = 50,
          n_members: int = 5, config: TrainConfig = TrainConfig(), extra_labels: Sequence[str | Path] = (),
          potential: float | None = None, temperature: float | None = None, sources: Sequence[str] | None = None,
          oracle: str = "gfn2", device: str = "auto", seed: int = 0, oracle_settings: dict | None = None,
          echo: Callable[[str], None] = print, base_model: str | Path | None = None,
          adapt_config: AdaptConfig = AdaptConfig()) -> list[RoundResult]:
    """Run ``rounds`` rounds on ``network`` with the label cache ``labels`` (new labels go there).
    Writes OUT/round_<r>.pt (model) and OUT/learning_curve.json (all rounds so far); rounds already
    in the curve are not redone (resumable; labels are cached as they complete). ``sources``,
    ``potential`` (V vs Li/Li+) and ``temperature`` (K) default to the recipe the network was built
    from (store meta).

    ``base_model``: instead of training an ensemble from scratch each round (hours on a CPU), round
    0 is that model as it is and round r is it fine-tuned on every label so far
    (``adapt.adapt_energy_surrogate``, minutes); its report is then the base model's own test part
    measured again, which shows that the old chemistry holds, not how the new one improves."""
    from sei_net.energy.labelling import label_network
    from sei_net.energy.labels import LabelStore
    from sei_net.energy.record import make_oracle
    from sei_net.kinetics.query import PathQuery
    from sei_net.learn.adapt import adapt_energy_surrogate
    from sei_net.learn.checkpoint import remove_checkpoints
    from sei_net.learn.ensemble import EnergyEnsemble
    from sei_net.learn.fit import fit_energy_surrogate
    from sei_net.learn.score import score_network, surrogate_source
    from sei_net.store import NetworkStore

    oracle_level = make_oracle(oracle, **(oracle_settings or {})).level_of_theory
    check_one_level(labels, extra_labels, oracle_level)
    base = None if base_model is None else EnergyEnsemble.load(base_model, device="cpu")
    if base is not None and base.level_of_theory != oracle_level:
        raise ValueError(f"the model to fine-tune is at {base.level_of_theory!r} but the oracle labels at "
                         f"{oracle_level!r}; give oracle settings that match (the shipped model: --conformers 1)")
    known = known_species(extra_labels, None if base is None else base.card)   # never sent to the oracle
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    LabelStore(labels).close()  # creates an empty cache on the first run
    curve_path = out / "learning_curve.json"
    done = json.loads(curve_path.read_text()) if curve_path.exists() else []
    results: list[RoundResult] = [RoundResult(**d) for d in done]
    for r in range(len(results), rounds + 1):
        model_path = out / f"round_{r}.pt"
        members = out / f"round_{r}.members"   # a round killed mid-training resumes at its next member
        if base_model is None:
            ensemble, report = fit_energy_surrogate([labels, *extra_labels], [network], "random", n_members,
                                                    config, seed, device, checkpoint=members)
        elif r == 0:
            ensemble = base
            report = {"test": ensemble.card["test"], "sizes": ensemble.card["sizes"]}
        else:
            ensemble, report = adapt_energy_surrogate(base_model, [labels, *extra_labels], adapt_config, seed)
        ensemble.save(model_path)
        remove_checkpoints(members)   # once the round's model is written
        n_labels = sum(report["sizes"].values()) + len(ensemble.card.get("adapted", {}).get("keys", []))
        echo(f"round {r}: {n_labels} labels; test species MAE {report['test']['species']['mae']:.3f} eV")
        picked, n_rel, labelled = [], 0, {}
        if r < rounds:  # the last round only measures
            with NetworkStore.open(network) as store:
                score_network(store, ensemble)
                query = PathQuery.prepare(store, source=surrogate_source(ensemble), potential=potential,
                                          temperature=temperature)  # None: the recipe's (store meta)
                start = starting_species(store, query, sources)
                relevant = path_relevance(query, start)
                with LabelStore(labels) as cache:
                    have = set(cache.keys()) | known
                sigma = query.energies.sigma  # calibrated, as just scored (0 for labelled species)
                candidate = np.zeros(query.graph.n_species, dtype=bool)
                for sid, sp in query.species.items():
                    candidate[sid] = sp.key not in have
                chosen = select_for_labelling(sigma, relevant, candidate, batch)
                picked = [query.species[int(s)].key for s in chosen]
                n_rel = int(relevant[chosen].sum())
            labelled = label_network(network, oracle, labels, keys=picked, **(oracle_settings or {}))["cache"]
            echo(f"round {r}: labelled {len(picked)} species ({n_rel} on best paths)")
        results.append(RoundResult(r, n_labels, report, picked, n_rel, labelled))
        curve_path.write_text(json.dumps([res.__dict__ for res in results], indent=1, default=float))
    return results


def known_species(extra_labels: Sequence[str | Path], base_card: dict | None) -> set[str]:
    """Keys no round should label: those with a record in the extra label files and, with the card
    of a model that is fine-tuned, those in its split (trained, early-stopped, calibrated, tested on
    or adapted to)."""
    from sei_net.learn.dataset import label_energies

    known = set(label_energies(list(extra_labels))[0]) if extra_labels else set()
    if base_card is not None:
        from sei_net.learn.fit import split_keys, split_of_card

        known |= split_keys(*split_of_card(base_card), base_card)
    return known


def check_one_level(labels: str | Path, extra_labels: Sequence[str | Path], oracle_level: str) -> None:
    """Refuse, before any work, labels at another level of theory than the oracle's: the rounds
    train on the cache and the extra files together, which must hold one level."""
    from sei_net.energy.labels import LabelStore
    from sei_net.learn.dataset import label_energies

    levels = {label_energies([p])[1] for p in extra_labels}
    if Path(labels).is_file():
        with LabelStore(labels) as cache:
            levels |= cache.levels()
    other = sorted(levels - {oracle_level})
    if other:
        raise ValueError(f"the labels are at {other[0]!r} but the oracle labels at {oracle_level!r}; "
                         "give oracle settings that match (the committed GFN2 labels: --conformers 1)")


def starting_species(store, query, names: Sequence[str] | None) -> list[int]:
    """Starting species: the given names, else the recipe species the build stored."""
    if names:
        return [query.species_id(n) for n in names]
    concentrations = store.get_meta("concentrations")
    if concentrations:
        return [query.species_id(key) for key in json.loads(concentrations)]
    raise ValueError(f"{store.path.name} records no recipe species; give the starting species (sources)")

