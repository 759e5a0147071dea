"""Held-out evaluation of an energy ensemble against its oracle: species and reaction metrics.

Reaction errors are what pathfinding feels: for every network reaction whose species all carry
oracle labels and that involves at least one species of the evaluated part, the error of the
member-wise surrogate dG against the oracle dG (electrons cancel). Metric definitions are in
``sei_net.learn.metrics``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from sei_net.learn import metrics
from sei_net.learn.dataset import LabelledSpecies
from sei_net.learn.calibration import IsotonicVarianceMap
from sei_net.learn.ensemble import EnergyEnsemble, EnsemblePrediction, reaction_uncertainty

#: fewer held-out points than this and a recalibration map is not fitted (the card says so)
MIN_CALIBRATION = 10

#: the rows ``evaluate`` reports, in the order tables give them
EVALUATION_ROWS = ("species", "reactions", "reactions_labels_kept", "reactions_as_scored")


def labelled_reactions(network_paths: Sequence[str | Path], keys: Sequence[str]) -> sp.csr_matrix:
    """Stoichiometry (n_reactions, len(keys)) of the distinct reactions of the networks whose species
    all appear in ``keys`` (a reaction and its reverse count once; electrons dropped). The concerted
    electron transfers that scoring adds (``generate.dissociative``) are left out, so the figures
    do not depend on whether, or with which labels, a network was scored."""
    from sei_net.generate.dissociative import composite_ids
    from sei_net.kinetics.hypergraph import HyperGraph
    from sei_net.store.db import NetworkStore

    column = {k: i for i, k in enumerate(keys)}
    rows: dict[tuple, None] = {}
    for path in network_paths:
        with NetworkStore.open(path, readonly=True) as store:
            graph = HyperGraph.from_store(store)
            N = graph.stoichiometry()  # columns: store species ids
            derived = np.isin(graph.reaction_id, list(composite_ids(store)))
            to_col = np.full(N.shape[1], -1, dtype=np.int64)
            for key, sid in store.species_ids.items():
                to_col[sid] = column.get(key, -1)
        for r in range(N.shape[0]):
            cols = N.indices[N.indptr[r]:N.indptr[r + 1]]
            vals = N.data[N.indptr[r]:N.indptr[r + 1]]
            mapped = to_col[cols]
            if len(cols) == 0 or (mapped < 0).any() or derived[r]:
                continue
            entry = tuple(sorted(zip(mapped.tolist(), vals.tolist())))
            reverse = tuple(sorted((c, -v) for c, v in entry))
            if reverse not in rows:
                rows[entry] = None
    data, ri, ci = [], [], []
    for r, entry in enumerate(rows):
        for c, v in entry:
            ri.append(r)
            ci.append(c)
            data.append(v)
    return sp.csr_matrix((data, (ri, ci)), shape=(len(rows), len(keys)))


def reactions_touching(stoichiometry: sp.csr_matrix, part: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """Row indices of the reactions with at least one species of ``part`` (and none of ``exclude``)."""
    def mask(idx):
        m = np.zeros(stoichiometry.shape[1])
        m[np.asarray(idx, dtype=np.int64)] = 1.0
        return abs(stoichiometry) @ m > 0
    hit = mask(part)
    if exclude is not None:
        hit &= ~mask(exclude)
    return np.flatnonzero(hit)


def labels_kept(prediction: EnsemblePrediction, G: np.ndarray, predicted: np.ndarray) -> EnsemblePrediction:
    """The species prediction as a labelled network sees it: rows not in ``predicted`` take their
    oracle value ``G`` (eV) in every member with zero variance."""
    members = np.repeat(np.asarray(G, dtype=float)[:, None], prediction.members.shape[1], axis=1)
    variance = np.zeros_like(prediction.member_variance)
    members[predicted] = prediction.members[predicted]
    variance[predicted] = prediction.member_variance[predicted]
    return EnsemblePrediction(members, variance, prediction.calibration)


def evaluate(ensemble: EnergyEnsemble, data: LabelledSpecies, part: np.ndarray,
             stoichiometry: sp.csr_matrix | None = None,
             prediction: EnsemblePrediction | None = None,
             calibration: dict[str, IsotonicVarianceMap] | None = None) -> dict:
    """Species metrics on ``data`` rows ``part``; reaction metrics on the reactions of
    ``stoichiometry`` (columns = rows of ``data``) that involve at least one of them, with every
    species predicted ('reactions') and with only ``part`` predicted, the others at their oracle
    labels ('reactions_labels_kept'), each with its reaction recalibration map; and labels kept
    with the uncertainty a scored network carries ('reactions_as_scored': the spread of
    member-wise dG over the species-calibrated members, ``EnsemblePrediction.calibrated_members``,
    which is what path and product probabilities read). ``calibration``: recalibration maps by
    kind (default: the ensemble's)."""
    maps = ensemble.calibration if calibration is None else calibration
    pred = prediction if prediction is not None else ensemble.predict(data.species)
    pred = EnsemblePrediction(pred.members, pred.member_variance, maps.get("species"))
    part = np.asarray(part, dtype=np.int64)
    out = {"species": metrics.regression_report(pred.mean[part] - data.G[part], pred.sigma[part])}
    if stoichiometry is not None:
        rxn = reactions_touching(stoichiometry, part)
        if len(rxn):
            target = np.asarray(stoichiometry[rxn] @ data.G)
            for name, species_pred, cal in (
                    ("reactions", pred, "reaction"),
                    ("reactions_labels_kept", labels_kept(pred, data.G, part), "reaction_labels_kept")):
                r = reaction_uncertainty(stoichiometry[rxn], species_pred, maps.get(cal))
                out[name] = metrics.regression_report(r.mean - target, r.sigma)
            spread = EnsemblePrediction(pred.calibrated_members, np.zeros_like(pred.member_variance))
            r = reaction_uncertainty(stoichiometry[rxn], labels_kept(spread, data.G, part))
            out["reactions_as_scored"] = metrics.regression_report(r.mean - target, r.sigma)
    return out


def calibration_maps(prediction: EnsemblePrediction, G: np.ndarray, cal: np.ndarray, test: np.ndarray,
                     stoichiometry: sp.csr_matrix | None = None,
                     blend: bool = False) -> tuple[dict[str, IsotonicVarianceMap], list[str]]:
    """Recalibration maps fitted on the calibration species ``cal`` (oracle values ``G``, eV):
    'species'; and, with a stoichiometry, 'reaction' and 'reaction_labels_kept' on the reactions
    that touch a calibration species and no ``test`` species. Each map reads the sum of the two
    variance parts; with ``blend`` the species map reads their likelihood-fitted blend instead
    (``IsotonicVarianceMap.fit_parts``; not the reaction maps, since the blend's likelihood counts
    its points as independent and reactions that share a species share its error).
    Returns the maps and why any was skipped (fewer than MIN_CALIBRATION points)."""
    raw = EnsemblePrediction(prediction.members, prediction.member_variance)
    maps, skipped = {}, []
    if len(cal) >= MIN_CALIBRATION:
        maps["species"] = IsotonicVarianceMap.fit_parts(raw.epistemic[cal], raw.aleatoric[cal],
                                                        raw.mean[cal] - G[cal], blend)
    else:
        skipped.append(f"species: {len(cal)} calibration species < {MIN_CALIBRATION}")
    if stoichiometry is not None:
        rows = reactions_touching(stoichiometry, cal, exclude=test)
        if len(rows) >= MIN_CALIBRATION:
            target = np.asarray(stoichiometry[rows] @ G)
            for kind, species_pred in (("reaction", raw), ("reaction_labels_kept", labels_kept(raw, G, predicted=cal))):
                r = reaction_uncertainty(stoichiometry[rows], species_pred)
                maps[kind] = IsotonicVarianceMap.fit(r.variance, r.mean - target)
        else:
            skipped.append(f"reaction: {len(rows)} calibration reactions < {MIN_CALIBRATION}")
    return maps, skipped


def resampled_held_out(ensemble: EnergyEnsemble, data: LabelledSpecies, parts: dict[str, np.ndarray],
                       stoichiometry: sp.csr_matrix | None = None, draws: int = 100, seed: int = 0,
                       prediction: EnsemblePrediction | None = None, blend: bool = False) -> dict:
    """How much the held-out figures depend on which species landed in calibration and which in
    test. ``draws`` times: split the held-out species (cal + test, which no training step saw) at
    random into two parts of the original sizes, fit the maps on one and measure on the other.
    Returns, per test set and metric, the median and the 5th and 95th percentiles over the draws.
    Reaction figures vary most: one badly predicted species sits in many reactions. ``prediction``:
    the ensemble's prediction for ``data.species``, when the caller has it. ``blend``: as in
    ``calibration_maps``."""
    prediction = prediction if prediction is not None else ensemble.predict(data.species)
    pool = np.concatenate([parts["cal"], parts["test"]])
    n_cal = len(parts["cal"])
    rng = np.random.default_rng(seed)
    runs: dict[str, list[dict]] = {}
    for _ in range(draws):
        order = rng.permutation(pool)
        cal, test = order[:n_cal], order[n_cal:]
        maps, _ = calibration_maps(prediction, data.G, cal, test, stoichiometry, blend)
        for what, m in evaluate(ensemble, data, test, stoichiometry, prediction, maps).items():
            runs.setdefault(what, []).append(m)
    summary = {}
    for what, ms in runs.items():
        keys = [k for k in ms[0] if all(np.isfinite(m.get(k, np.nan)) for m in ms)]
        summary[what] = {k: {"median": float(np.median([m[k] for m in ms])),
                             "p05": float(np.percentile([m[k] for m in ms], 5)),
                             "p95": float(np.percentile([m[k] for m in ms], 95))} for k in keys}
    return {"draws": draws, "seed": seed, "blend": blend, "n_cal": n_cal, "n_test": len(pool) - n_cal, "metrics": summary}
