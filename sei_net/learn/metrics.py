"""Accuracy and uncertainty-quality metrics for regression with Gaussian predictive distributions.

All take errors or targets in the same unit (eV here) and standard deviations ``sigma`` (> 0).
Definitions: miscalibration area (Tran et al. 2020, uncertainty-toolbox): mean absolute gap between
the expected and observed fractions of errors inside central Gaussian intervals, over 99 levels;
ENCE (Levi et al. 2022): mean over equal-count bins of sigma of |RMV - RMSE| / RMV; coverage:
fraction of errors within the central 95% interval, |error| <= 1.96 sigma.

Spearman(|error|, sigma) has no fixed scale: even errors drawn exactly from N(0, sigma^2) rank
against sigma only as well as the spread of sigma allows (near 0 when every sigma is alike, near 1
when they span decades; a point made for computational chemistry by Pernot, J. Chem. Phys. 2022).
``spearman_reference`` is that value for the sigma at hand, the yardstick for the measured one.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _check(errors, sigma=None):
    errors = np.asarray(errors, dtype=float)
    if errors.size == 0:
        raise ValueError("metrics need at least one error")
    if sigma is None:
        return errors, None
    sigma = np.asarray(sigma, dtype=float)
    if sigma.shape != errors.shape or not np.all(sigma > 0):
        raise ValueError("sigma must have the errors' shape and be positive")
    return errors, sigma


def mae(errors) -> float:
    errors, _ = _check(errors)
    return float(np.mean(np.abs(errors)))


def rmse(errors) -> float:
    errors, _ = _check(errors)
    return float(np.sqrt(np.mean(errors ** 2)))


def gaussian_nll(errors, sigma) -> float:
    """Mean negative log likelihood of the errors under N(0, sigma^2) (nats)."""
    errors, sigma = _check(errors, sigma)
    return float(np.mean(0.5 * np.log(2 * np.pi * sigma ** 2) + 0.5 * (errors / sigma) ** 2))


def interval_coverage(errors, sigma, level: float = 0.95) -> float:
    """Fraction of errors inside the central ``level`` Gaussian interval."""
    errors, sigma = _check(errors, sigma)
    z = stats.norm.ppf(0.5 + level / 2)
    return float(np.mean(np.abs(errors) <= z * sigma))


def miscalibration_area(errors, sigma, n_levels: int = 99) -> float:
    """Mean |observed - expected| fraction inside central intervals at levels 1/(n+1) .. n/(n+1);
    0 for a perfectly calibrated Gaussian, 0.5 at worst."""
    errors, sigma = _check(errors, sigma)
    levels = np.arange(1, n_levels + 1) / (n_levels + 1)
    z = np.abs(errors / sigma)
    observed = np.mean(z[None, :] <= stats.norm.ppf(0.5 + levels / 2)[:, None], axis=1)
    return float(np.mean(np.abs(observed - levels)))


def ence(errors, sigma, n_bins: int = 10) -> float:
    """Expected normalised calibration error over ``n_bins`` equal-count bins of sigma."""
    errors, sigma = _check(errors, sigma)
    order = np.argsort(sigma, kind="stable")
    bins = [b for b in np.array_split(order, min(n_bins, len(order))) if len(b)]
    gaps = []
    for b in bins:
        rmv = np.sqrt(np.mean(sigma[b] ** 2))
        gaps.append(abs(rmv - np.sqrt(np.mean(errors[b] ** 2))) / rmv)
    return float(np.mean(gaps))


def spearman_error_sigma(errors, sigma) -> float:
    """Spearman rank correlation between |error| and sigma (does sigma rank the errors?)."""
    errors, sigma = _check(errors, sigma)
    if len(errors) < 3:
        return float("nan")
    return float(stats.spearmanr(np.abs(errors), sigma).statistic)


#: simulated error sets behind ``spearman_reference`` in ``regression_report``
SPEARMAN_REFERENCE_DRAWS = 20


def spearman_reference(sigma, draws: int = SPEARMAN_REFERENCE_DRAWS, seed: int = 0) -> np.ndarray:
    """Spearman(|error|, sigma) of ``draws`` error sets drawn exactly from N(0, sigma^2): what
    perfectly calibrated Gaussian uncertainties with these sigma would score (a seeded Monte Carlo,
    so the same sigma give the same values). Returns the ``draws`` values."""
    _, sigma = _check(np.zeros(np.shape(sigma)), sigma)
    sigma_rank = stats.rankdata(sigma) - (sigma.size + 1) / 2.0       # centred; ranked once, not per draw
    if sigma.size < 3 or not sigma_rank.any():
        return np.full(draws, np.nan)                                 # as spearmanr: undefined
    rng = np.random.default_rng(seed)
    out = np.empty(draws)
    for d in range(draws):
        error_rank = stats.rankdata(np.abs(rng.normal(0.0, sigma))) - (sigma.size + 1) / 2.0
        out[d] = error_rank @ sigma_rank / np.sqrt((error_rank @ error_rank) * (sigma_rank @ sigma_rank))
    return out


def regression_report(errors, sigma=None) -> dict[str, float]:
    """All metrics in one dict (the uncertainty ones only with sigma, ``spearman_reference`` the
    median of ``spearman_reference``); n is the number of errors."""
    errors, sigma = _check(errors, sigma)
    out = {"n": int(errors.size), "mae": mae(errors), "rmse": rmse(errors),
           "median_ae": float(np.median(np.abs(errors))), "mean_signed": float(np.mean(errors))}
    if sigma is not None:
        out.update(nll=gaussian_nll(errors, sigma), miscalibration_area=miscalibration_area(errors, sigma),
                   ence=ence(errors, sigma), coverage_95=interval_coverage(errors, sigma),
                   spearman=spearman_error_sigma(errors, sigma),
                   spearman_reference=float(np.median(spearman_reference(sigma))), mean_sigma=float(np.mean(sigma)))
    return out
