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
from sei_net.learn.ensemble import EnergyEnsemble, EnsemblePrediction, reaction_uncertainty


def labelled_reactions(network_paths: Sequence[str | Path], keys: Sequence[str]) -> sp.csr_matrix:
    """Stoichiometry (n_reactions, len(keys)) of the distinct reactions of the networks whose species
    all appear in ``keys`` (a reaction and its reverse count once; electrons dropped)."""
    from sei_net.kinetics.hypergraph import HyperGraph
    from sei_net.store.db import NetworkStore

    column = {k: i for i, k in enumerate(keys)}
    rows: dict[tuple, None] = {}
    for path in network_paths:
        with NetworkStore.open(path, readonly=True) as store:
            N = HyperGraph.from_store(store).stoichiometry()  # columns: store species ids
            to_col = np.full(N.shape[1], -1, dtype=np.int64)
            for key, sid in store.species_ids.items():
                to_col[sid] = column.get(key, -1)
        for r in range(N.shape[0]):
            cols = N.indices[N.indptr[r]:N.indptr[r + 1]]
            vals = N.data[N.indptr[r]:N.indptr[r + 1]]
            mapped = to_col[cols]
            if len(cols) == 0 or (mapped < 0).any():
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
             prediction: EnsemblePrediction | None = None) -> dict:
    """Species metrics on ``data`` rows ``part``; reaction metrics on the reactions of
    ``stoichiometry`` (columns = rows of ``data``) that involve at least one of them, with every
    species predicted ('reactions') and with only ``part`` predicted, the others at their oracle
    labels ('reactions_labels_kept')."""
    pred = prediction if prediction is not None else ensemble.predict(data.species)
    part = np.asarray(part, dtype=np.int64)
    out = {"species": metrics.regression_report(pred.mean[part] - data.G[part], pred.sigma[part])}
    if stoichiometry is not None:
        rxn = reactions_touching(stoichiometry, part)
        if len(rxn):
            target = np.asarray(stoichiometry[rxn] @ data.G)
            for name, species_pred, cal in (
                    ("reactions", pred, "reaction"),
                    ("reactions_labels_kept", labels_kept(pred, data.G, part), "reaction_labels_kept")):
                r = reaction_uncertainty(stoichiometry[rxn], species_pred, ensemble.calibration.get(cal))
                out[name] = metrics.regression_report(r.mean - target, r.sigma)
    return out
