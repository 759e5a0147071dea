"""How new a scored network's chemistry is to the energy model, by its members' disagreement.

The model card keeps the 90th percentile of the epistemic variance (eV^2) over the calibration
species (``calibrate_and_test``): a tenth of species drawn like those lie above it. A scored
network reports the fraction of its predicted species above it. Reference points for the shipped
model, every species of a network predicted (docs/surrogates.md, "A blend of the two variance
parts"): 21 % on ec_lipf6, a network it trained on (37 % of the species the oracle found no
minimum for, 13 % of the labelled ones), and 31 % on ec_vc_lipf6, which no model has seen (45 % and
23 %); on the unseen VC species the 95 % intervals cover 0.86, not 0.95. It is a description of
the network, not a correction of any sigma, and no threshold for a warning has been validated.
"""

from __future__ import annotations

import numpy as np

#: the calibration quantile of epistemic variance the card keeps
QUANTILE = 0.9


def calibration_threshold(epistemic: np.ndarray) -> dict:
    """What the card keeps: the ``QUANTILE`` of the calibration species' epistemic variances (eV^2)."""
    epistemic = np.asarray(epistemic, dtype=float)
    epistemic = epistemic[np.isfinite(epistemic)]
    return {"quantile": QUANTILE, "epistemic_var_eV2": float(np.quantile(epistemic, QUANTILE)),
            "n_calibration": int(len(epistemic))}


def network_novelty(epistemic: np.ndarray, threshold: dict | None) -> dict | None:
    """The number and fraction of predicted species (epistemic variances in eV^2) above the card's
    threshold, and the fraction calibration-like species give. None when the card has no threshold
    (models calibrated before 2026-11-24) or nothing was predicted."""
    epistemic = np.asarray(epistemic, dtype=float)
    epistemic = epistemic[np.isfinite(epistemic)]
    if threshold is None or not len(epistemic):
        return None
    above = int((epistemic > threshold["epistemic_var_eV2"]).sum())
    return {"predicted": int(len(epistemic)), "above": above, "fraction_above": above / len(epistemic),
            "calibration_fraction": round(1.0 - threshold["quantile"], 12)}


def describe(novelty: dict | None) -> str | None:
    """One line for ``sei-net score``; None without a figure."""
    if not novelty:
        return None
    return (f"members disagree more than on {1 - novelty['calibration_fraction']:.0%} of the model's calibration "
            f"species for {novelty['fraction_above']:.0%} of the {novelty['predicted']} predicted species "
            f"({novelty['calibration_fraction']:.0%} on species like those; a high share means chemistry new to "
            "the model, where its sigma tend to be too small: docs/surrogates.md)")
