"""Isotonic recalibration of predicted variances (Busk et al., MLST 2022).

On a held-out calibration set, fit a non-decreasing map f from the predicted variance to the
observed squared error, so that f(sigma^2) estimates E[error^2 | sigma^2]: the recalibrated
variance. The fit is the pool-adjacent-violators solution of least squares under the order
constraint; between fitted points f is interpolated linearly in log variance, and beyond the
calibrated range it keeps the ratio f(v)/v of the nearest end, so a larger predicted variance never
gets a smaller recalibrated one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def isotonic_fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pool adjacent violators: the non-decreasing step fit of ``y`` over sorted ``x`` that
    minimises the weighted squared error. Returns (x of each block's centre, block values)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(x, kind="stable")
    x, y, w = x[order], y[order], w[order]
    values: list[float] = []
    wsum: list[float] = []
    xsum: list[float] = []
    for xi, yi, wi in zip(x, y, w):
        values.append(yi)
        wsum.append(wi)
        xsum.append(xi * wi)
        while len(values) > 1 and values[-2] > values[-1]:
            v, ww, xx = values.pop(), wsum.pop(), xsum.pop()
            total = wsum[-1] + ww
            values[-1] = (values[-1] * wsum[-1] + v * ww) / total
            wsum[-1] = total
            xsum[-1] += xx
    centres = np.array(xsum) / np.array(wsum)
    return centres, np.array(values)


@dataclass
class IsotonicVarianceMap:
    """Recalibrates variances (eV^2): ``map(v)``. ``knots_v`` predicted variances (increasing) and
    ``knots_f`` the recalibrated variances there; ``n`` calibration points."""

    knots_v: np.ndarray
    knots_f: np.ndarray
    n: int

    @classmethod
    def fit(cls, variance: np.ndarray, errors: np.ndarray, floor: float = 1e-8) -> "IsotonicVarianceMap":
        """Fit on predicted variances and the errors observed with them (same unit, squared)."""
        variance = np.asarray(variance, dtype=float)
        errors = np.asarray(errors, dtype=float)
        ok = np.isfinite(variance) & np.isfinite(errors) & (variance > 0)
        if ok.sum() < 10:
            raise ValueError(f"isotonic recalibration needs at least 10 calibration points, got {int(ok.sum())}")
        centres, values = isotonic_fit(np.log(variance[ok]), errors[ok] ** 2)
        return cls(np.exp(centres), np.maximum(values, floor), int(ok.sum()))

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
