"""Scoring a network with an energy ensemble: free energies, uncertainties and members for every
species, written to the network store as one energy source."""

from __future__ import annotations

import time
from collections import Counter
from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np

from sei_net.constants import BARRIER_SOURCE, ORACLE_MAX_HEAVY, SURROGATE_SUFFIX
from sei_net.learn.domain import Domain
from sei_net.learn.ensemble import EnergyEnsemble
from sei_net.learn.features import featurise
from sei_net.learn.novelty import network_novelty

#: the most common environments outside a model's domain that a scoring's record lists
SHOWN_ENVIRONMENTS = 20
#: the shipped default model (trained on GFN2 labels; see its model card)
DEFAULT_MODEL = "default"


def default_model_path() -> Path:
    from importlib.resources import files

    return Path(str(files("sei_net") / "data" / "models" / "energy_gfn2.pt"))


def model_path(model: str | Path = DEFAULT_MODEL) -> Path:
    """The file of an energy model given by path, or of the shipped one for 'default'."""
    return default_model_path() if str(model) == DEFAULT_MODEL else Path(model)


def load_model(model: str | Path = DEFAULT_MODEL, device: str = "auto") -> EnergyEnsemble:
    """An energy ensemble by path, or the shipped one for 'default'."""
    return EnergyEnsemble.load(model_path(model), device)


def surrogate_source(ensemble: EnergyEnsemble) -> str:
    """Energy source name: '<oracle>-surrogate' (its electron offset is the oracle's)."""
    return ensemble.card.get("oracle", "oracle") + SURROGATE_SUFFIX


def oracle_labels(paths, ensemble: EnergyEnsemble) -> dict[str, float]:
    """species key -> oracle G (eV) from label files, at the model's level of theory."""
    from sei_net.learn.dataset import label_energies

    return {key: G for key, (_, G) in label_energies(paths, ensemble.level_of_theory)[0].items()}


def score_file(network: str | Path, model: str | Path = DEFAULT_MODEL, labels=(), device: str = "auto",
               shipped_labels: bool = False, small_species_cache: str | Path | None = None,
               progress=None, outside_domain_cache: str | Path | None = None) -> tuple[dict, EnergyEnsemble]:
    """Load a model (``load_model``), score the network file in place (``score_network``, labelled
    species from the label files kept) and return the result and the model. With ``shipped_labels``
    and the default model, the shipped GFN2 label files (``resources.shipped_label_files``, its
    level of theory) are kept too, after ``labels``; another model never takes them. Torch first gets the
    cores idle now (``sei_net.threads.use_idle_cores``; the result's ``torch_threads``), so this and
    any scoring after it in the process do not fight another job for a core. The network then holds
    exactly the concerted electron transfers through the species left without a minimum
    (``generate.dissociative``; none without labels): the result's ``dissociative_transfers``.

    ``small_species_cache`` (a label cache, .db): species of at most ``ORACLE_MAX_HEAVY`` heavy
    atoms that no label file settles are first labelled there by the model's own oracle
    (``energy.small_species``; ``progress(what, done, total, record)`` after each) and keep those
    labels: the surrogate is not asked for them. The result's ``small_species`` says what was done.
    ``outside_domain_cache``: the same for the species outside the model's applicability domain
    (``learn.domain``; the result's ``outside_domain``). Neither asks the oracle again for a
    species the label files record RDKit could not embed at its level (``oracle_verdicts``); other
    failures (an SCF that did not converge) are tried again."""
    from sei_net.energy.small_species import label_small_species
    from sei_net.generate.dissociative import add_dissociative_transfers
    from sei_net.store import NetworkStore
    from sei_net.threads import use_idle_cores

    threads = use_idle_cores()
    if shipped_labels and str(model) == DEFAULT_MODEL:
        from sei_net.resources import shipped_label_files

        labels = [*labels, *shipped_label_files()]
    ensemble = load_model(model, device)
    if labels:
        from sei_net.learn.dataset import oracle_verdicts

        known, no_minimum, not_embeddable = oracle_verdicts(labels, ensemble.level_of_theory)
    else:
        known = no_minimum = None
        not_embeddable = set()
    with NetworkStore.open(network) as store:
        small = outside = None
        if small_species_cache is not None:
            untried = [s for s in store.all_species(ORACLE_MAX_HEAVY).values() if s.key not in not_embeddable]
            known, no_minimum, small = _oracle_labels(partial(label_small_species, untried), "small species",
                                                      ensemble.level_of_theory, known, no_minimum,
                                                      small_species_cache, progress)
        if outside_domain_cache is not None:
            known, no_minimum, outside = _oracle_outside_domain(store, ensemble, known, no_minimum, not_embeddable,
                                                                outside_domain_cache, progress)
        result = score_network(store, ensemble, known, no_minimum)
        result["small_species"], result["outside_domain"] = small, outside
        result["dissociative_transfers"] = add_dissociative_transfers(store, no_minimum or set())  # no usable label
    result["torch_threads"] = threads
    return result, ensemble


def _oracle_outside_domain(store, ensemble: EnergyEnsemble, known: dict | None, no_minimum: set | None,
                           not_embeddable: set[str], cache, progress) -> tuple[dict, set, dict]:
    """``_oracle_labels`` (``label_species``) on the species of an open network that no label file
    settles and that hold an atom environment outside the model's applicability domain
    (``learn.domain``); the result also counts those environments. Species that RDKit could not embed in the label files
    (``not_embeddable``) are not tried again: the surrogate predicts them, flagged. A model whose
    card keeps no domain labels none."""
    from sei_net.energy.small_species import label_species

    domain = Domain.of_card(ensemble.card)
    if domain is None:
        return known, no_minimum, {"skipped": "the model's card keeps no applicability domain (trained before "
                                              "2026-11-25; sei-net recalibrate or scripts/add_domain.py adds it)"}
    settled = set(known or ()) | set(no_minimum or ()) | not_embeddable
    novel, outside = {}, []
    for sp in store.all_species().values():
        if sp.key not in settled and (envs := domain.novel(sp)):
            novel[sp.key] = envs
            outside.append(sp)
    outside.sort(key=lambda sp: (sp.n_atoms, sp.key))
    known, no_minimum, done = _oracle_labels(partial(label_species, outside), "species outside the model's domain",
                                             ensemble.level_of_theory, known, no_minimum, cache, progress)
    done["environments"] = Counter(e for s in outside for e in novel[s.key]).most_common(SHOWN_ENVIRONMENTS)
    return known, no_minimum, done


def _oracle_labels(label: Callable, what: str, level: str, known: dict | None, no_minimum: set | None, cache,
                   progress) -> tuple[dict, set, dict]:
    """Label with the oracle of ``level`` into ``cache`` what ``label(settled, cache, oracle,
    progress=...)`` picks (``energy.small_species.label_species`` on some species, or
    ``label_small_species``; ``progress(what, done, total, record)`` after each) and add the
    results to the oracle verdicts (usable G, no minimum). Without that oracle (not GFN2, or
    tblite missing) nothing is labelled and the returned record says why."""
    from sei_net.energy.small_species import gfn2_oracle_for
    from sei_net.learn.dataset import USABLE_STATUSES

    known, no_minimum = dict(known or {}), set(no_minimum or ())
    oracle = gfn2_oracle_for(level)
    if oracle is None:
        return known, no_minimum, {"skipped": f"no oracle at {level!r} here (GFN2-xTB needs tblite: "
                                              "pip install 'sei_net[oracle]'); the surrogate predicts them"}
    step = None if progress is None else (lambda done, total, record: progress(what, done, total, record))
    done = label(set(known) | no_minimum, cache, oracle, progress=step)
    rearranged = done.pop("no_minimum")
    usable = 0
    for key, (status, G) in done.pop("records").items():
        if status in USABLE_STATUSES and G is not None:
            known[key], usable = G, usable + 1
        elif key in rearranged:
            no_minimum.add(key)
    done.update(usable=usable, cache=str(cache), level_of_theory=level)
    return known, no_minimum, done


def score_network(store, ensemble: EnergyEnsemble, labels: dict[str, float] | None = None,
                  no_minimum: set[str] | None = None, batch_size: int = 4096) -> dict:
    """Predict every species of an open, writable ``NetworkStore`` and store the energies (G mean,
    calibrated sigma, members; eV). Species with elements the model never saw are skipped. The
    stored members are the calibrated ones (``EnsemblePrediction.calibrated_members``): their
    spread is the stored sigma, so member-wise reaction dG, path and product probabilities carry
    the recalibrated uncertainty, aleatoric part included. The result's ``novelty``
    (``novelty.network_novelty``) says whether the predicted species look new to the model, and
    its ``domain`` how many of them hold an atom environment outside the model's applicability
    domain (``learn.domain``; None for a card without one); their rows' data name those
    environments (``outside_domain``).

    ``labels`` (species key -> oracle G in eV, ``oracle_labels``): those species are not predicted;
    they keep their oracle value in every member with sigma 0, so reaction energies are uncertain
    only through the species the oracle has not labelled (the model card's
    'reactions_labels_kept' figures). ``no_minimum`` (keys, ``oracle_verdicts``): species whose
    structure rearranged from every starting geometry are not minima at the oracle's level, so
    they get no energy: their reactions drop out of paths and kinetics instead of making a
    species that does not exist a sink."""
    start = time.perf_counter()
    species = store.all_species()
    ids = np.fromiter(species.keys(), dtype=np.int64, count=len(species))
    keys = [s.key for s in species.values()]
    labels, no_minimum = labels or {}, no_minimum or set()
    kept = np.array([k in labels for k in keys], dtype=bool)
    unstable = np.array([k in no_minimum and k not in labels for k in keys], dtype=bool)
    todo = [s for s, keep in zip(species.values(), kept | unstable) if not keep]
    graphs = [featurise(s) for s in todo]
    t_feat = time.perf_counter() - start
    domain = Domain.of_card(ensemble.card)
    novel = {} if domain is None else {i: envs for i, g in enumerate(graphs) if (envs := domain.novel(g))}
    pred = ensemble.predict_graphs(graphs, np.array([s.charge for s in todo]), batch_size)
    t_pred = time.perf_counter() - start - t_feat
    n_members = len(ensemble.members)
    mean, sigma = np.full(len(ids), np.nan), np.zeros(len(ids))
    epistemic, aleatoric = np.zeros(len(ids)), np.zeros(len(ids))
    members = np.full((len(ids), n_members), np.nan)
    predicted = ~(kept | unstable)
    factor = pred.calibration_factor  # each EnsemblePrediction property is a whole-array pass
    raw_epistemic = pred.epistemic
    mean[predicted], sigma[predicted], members[predicted] = pred.mean, pred.sigma, pred.calibrated_members
    epistemic[predicted], aleatoric[predicted] = raw_epistemic * factor, pred.aleatoric * factor
    oracle_G = np.array([labels[k] for k, keep in zip(keys, kept) if keep])
    mean[kept], members[kept] = oracle_G, oracle_G[:, None]
    source = surrogate_source(ensemble)
    level = (f"surrogate ensemble of {n_members} on {ensemble.level_of_theory}"
             f"{'; members spread to the calibrated sigma' if ensemble.calibration.get('species') else ''}")
    if kept.any():
        level += "; oracle labels kept where present"
    if unstable.any():
        level += "; species the oracle found no minimum for left unscored"
    row_of = np.flatnonzero(predicted)     # todo[i] is species row row_of[i]
    outside = {int(row_of[i]): envs for i, envs in novel.items()}
    rows = []
    for k in np.flatnonzero(np.isfinite(mean)):
        data = {"origin": "oracle" if kept[k] else "surrogate",
                "epistemic_var": float(epistemic[k]), "aleatoric_var": float(aleatoric[k])}
        if k in outside:
            data["outside_domain"] = outside[k]
        rows.append({"species_id": int(ids[k]), "source": source, "level_of_theory": level,
                     "G": float(mean[k]), "sigma": float(sigma[k]), "members": members[k], "data": data})
    store.set_energies(rows, replace_source=source)
    return {"source": source, "level_of_theory": level, "species": len(ids), "scored": len(rows),
            "novelty": network_novelty(raw_epistemic, ensemble.card.get("novelty_threshold")),
            "domain": None if domain is None else {
                "predicted": len(todo), "outside": len(novel),
                "environments": Counter(e for envs in novel.values() for e in envs).most_common(SHOWN_ENVIRONMENTS)},
            "oracle_labels_kept": int(kept.sum()), "no_minimum_unscored": int(unstable.sum()),
            "skipped_unknown_elements": int(len(ids) - len(rows) - unstable.sum()), "device": ensemble.device,
            "seconds": {"featurise": round(t_feat, 3), "predict": round(t_pred, 3),
                        "total": round(time.perf_counter() - start, 3)}}


def default_barrier_model_path() -> Path:
    from importlib.resources import files

    return Path(str(files("sei_net") / "data" / "models" / "barrier_gfn2_neb.pt"))


def load_barrier_model(model: str | Path = DEFAULT_MODEL, device: str = "auto"):
    """A barrier ensemble by path, or the shipped one for 'default'."""
    from sei_net.learn.barrier_ensemble import BarrierEnsemble

    return BarrierEnsemble.load(default_barrier_model_path() if str(model) == DEFAULT_MODEL else Path(model), device)


def in_barrier_domain(reaction, trained_classes: set[str] | None) -> bool:
    """Whether a barrier model trained on unimolecular NEB labels of ``trained_classes`` speaks for
    ``reaction``: non-redox, atom-mapped, one species on at least one side (a unimolecular step or
    the reverse of one: the same saddle), and of a class it was trained on (all when None)."""
    from sei_net.learn.reaction_graph import reaction_class

    return (reaction.electrons == 0 and reaction.atom_map is not None
            and min(len(reaction.reactants), len(reaction.products)) == 1
            and (trained_classes is None or reaction_class(reaction.kind) in trained_classes))


def score_barriers(store, ensemble) -> dict:
    """Intrinsic barriers lambda/4 (eV, the barrier at dG = 0) of every reaction in the barrier
    model's domain (``in_barrier_domain`` with ``BarrierEnsemble.domain_classes``), from a barrier
    ensemble (``load_barrier_model``), written to the store as source ``BARRIER_SOURCE`` (value:
    mean lambda/4; members: each member's lambda/4). Rates then use the clipped Marcus form with these
    (``kinetics.rates.RateModel.intrinsic``); every other reaction keeps its BEP or Marcus barrier."""
    start = time.perf_counter()
    species = store.all_species()
    table = store.reaction_table()
    domain = ensemble.domain_classes
    classes = set(domain) if domain is not None else None
    ids, chosen = [], []
    for rid in table["id"][table["electrons"] == 0]:
        reaction = store.get_reaction(int(rid), species)
        if in_barrier_domain(reaction, classes):
            ids.append(int(rid))
            chosen.append(reaction)
    quarter = ensemble.lambdas(chosen) / 4.0 if chosen else np.zeros((0, len(ensemble.members)))
    level = f"barrier surrogate ensemble of {len(ensemble.members)} on {ensemble.level_of_theory}"
    store.set_barriers({"reaction_id": rid, "source": BARRIER_SOURCE, "level_of_theory": level,
                        "value": float(q.mean()), "sigma": float(q.std()), "members": q,
                        "data": {"meaning": "intrinsic barrier lambda/4 at dG = 0, eV; barrier = clipped "
                                            "Marcus(dG, lambda)"}} for rid, q in zip(ids, quarter))
    return {"source": BARRIER_SOURCE, "level_of_theory": level, "reactions": len(chosen),
            "seconds": round(time.perf_counter() - start, 3)}
