"""Isotonic recalibration of predicted variances (Busk et al., MLST 2022).

On a held-out calibration set, fit a non-decreasing map f from the predicted variance to the
observed squared error, so that f(sigma^2) estimates E[error^2 | sigma^2]: the recalibrated
variance. The fit is the pool-adjacent-violators solution of least squares under the order
constraint, with at least sqrt(n) points in every block; between fitted points f is interpolated
linearly in log variance, and beyond the
calibrated range it keeps the ratio f(v)/v of the nearest end, so a larger predicted variance never
gets a smaller recalibrated one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def isotonic_fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None,
                 min_block: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Pool adjacent violators: the non-decreasing step fit of ``y`` over sorted ``x`` that
    minimises the weighted squared error, with every block holding at least ``min_block`` points
    (an undersized block joins its smaller neighbour; the merged value lies between the two, so
    the fit stays non-decreasing). Returns (x of each block's centre, block values)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y, w = x[order], y[order], w[order]
    blocks: list[list[float]] = []                      # [value, weight, weighted x, points]
    for xi, yi, wi in zip(x, y, w):
        blocks.append([yi, wi, xi * wi, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            _merge(blocks, len(blocks) - 2)
    while len(blocks) > 1 and min(b[3] for b in blocks) < min_block:
        i = min(range(len(blocks)), key=lambda j: blocks[j][3])
        if i == len(blocks) - 1 or (i > 0 and blocks[i - 1][3] <= blocks[i + 1][3]):
            i -= 1
        _merge(blocks, i)
    centres = np.array([b[2] / b[1] for b in blocks])
    return centres, np.array([b[0] for b in blocks])


def _merge(blocks: list[list[float]], i: int) -> None:
    """Pool block ``i + 1`` into block ``i``."""
    (v1, w1, x1, n1), (v2, w2, x2, n2) = blocks[i], blocks.pop(i + 1)
    blocks[i] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, x1 + x2, n1 + n2]


@dataclass
class IsotonicVarianceMap:
    """Recalibrates variances (eV^2): ``map(v)``. ``knots_v`` predicted variances (increasing) and
    ``knots_f`` the recalibrated variances there; ``n`` calibration points."""

    knots_v: np.ndarray
    knots_f: np.ndarray
    n: int

    @classmethod
    def fit(cls, variance: np.ndarray, errors: np.ndarray, floor: float = 1e-8,
            min_block: int | None = None) -> "IsotonicVarianceMap":
        """Fit on predicted variances and the errors observed with them (same unit, squared).

        Each block of the fit pools at least ``min_block`` calibration points (default
        ceil(sqrt(n))). Plain PAV lets the lowest block rest on a few small squared errors; its
        too-small ratio then carries to every variance below the calibrated range, which is where
        labels-kept reactions with one predicted species fall (coverage 0.90 instead of 0.95 on
        synthetic Gaussian errors; tests/test_learn.py)."""
        variance = np.asarray(variance, dtype=float)
        errors = np.asarray(errors, dtype=float)
        ok = np.isfinite(variance) & np.isfinite(errors) & (variance > 0)
        n = int(ok.sum())
        if n < 10:
            raise ValueError(f"isotonic recalibration needs at least 10 calibration points, got {n}")
        k = math.ceil(math.sqrt(n)) if min_block is None else int(min_block)
        centres, values = isotonic_fit(np.log(variance[ok]), errors[ok] ** 2, min_block=k)
        return cls(np.exp(centres), np.maximum(values, floor), n)

    def __call__(self, variance: np.ndarray) -> np.ndarray:
        v = np.asarray(variance, dtype=float)
        logv = np.log(np.maximum(v, 1e-300))
        f = np.interp(logv, np.log(self.knots_v), self.knots_f)
        low, high = v < self.knots_v[0], v > self.knots_v[-1]
        f = np.where(low, v * self.knots_f[0] / self.knots_v[0], f)
        f = np.where(high, v * self.knots_f[-1] / self.knots_v[-1], f)
        return np.where(np.isfinite(v), f, np.nan)

    def to_dict(self) -> dict:
        return {"knots_v": self.knots_v.tolist(), "knots_f": self.knots_f.tolist(), "n": self.n}

    @classmethod
    def from_dict(cls, d: dict) -> "IsotonicVarianceMap":
        return cls(np.asarray(d["knots_v"], dtype=float), np.asarray(d["knots_f"], dtype=float), int(d["n"]))
