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
            ids = store.species_ids  # key -> id
            to_col = np.full(max(ids.values(), default=0) + 1, -1, dtype=np.int64)
            for key, sid in ids.items():
                to_col[sid] = column.get(key, -1)
            N = HyperGraph.from_store(store).stoichiometry().tocoo()
            N = sp.csr_matrix((N.data, (N.row, N.col)), shape=(N.shape[0], len(to_col)))
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


def evaluate(ensemble: EnergyEnsemble, data: LabelledSpecies, part: np.ndarray,
             stoichiometry: sp.csr_matrix | None = None,
             prediction: EnsemblePrediction | None = None) -> dict:
    """Species metrics on ``data`` rows ``part``; reaction metrics on the reactions of
    ``stoichiometry`` (columns = rows of ``data``) that involve at least one of them."""
    pred = prediction if prediction is not None else ensemble.predict(data.species)
    part = np.asarray(part, dtype=np.int64)
    out = {"species": metrics.regression_report(pred.mean[part] - data.G[part], pred.sigma[part])}
    if stoichiometry is not None:
        rxn, rpred = held_out_reactions(ensemble, data, part, stoichiometry, pred)
        if len(rxn):
            target = np.asarray(stoichiometry[rxn] @ data.G)
            out["reactions"] = metrics.regression_report(rpred.mean - target, rpred.sigma)
    return out


def held_out_reactions(ensemble: EnergyEnsemble, data: LabelledSpecies, part: np.ndarray,
                       stoichiometry: sp.csr_matrix, prediction: EnsemblePrediction):
    """(row indices of the reactions touching ``part``, their member-wise surrogate dG)."""
    touches = np.zeros(stoichiometry.shape[1])
    touches[part] = 1.0
    rxn = np.flatnonzero(abs(stoichiometry) @ touches > 0)
    pred = reaction_uncertainty(stoichiometry[rxn], prediction, ensemble.calibration.get("reaction"))
    return rxn, pred
