"""Isotonic recalibration of predicted variances (Busk et al., MLST 2022).

On a held-out calibration set, fit a non-decreasing map f from the predicted variance to the
observed squared error, so that f(sigma^2) estimates E[error^2 | sigma^2]: the recalibrated
variance. The fit is the pool-adjacent-violators solution of least squares under the order
constraint, with at least sqrt(n) points in every block; between fitted points f is interpolated
linearly in log variance, and beyond the
calibrated range it keeps the ratio f(v)/v of the nearest end, so a larger predicted variance never
gets a smaller recalibrated one.

What the map reads can be the sum of an ensemble's two variance parts (epistemic + aleatoric) or
their log-linear blend ``LogLinearVariance``, v = exp(w0) epistemic^w1 aleatoric^w2, fitted by
Gaussian maximum likelihood on the same calibration errors. The isotonic step then only sees the
order the blend gives and fixes the shape; the blend decides how much each part says about the
size of an error. The sum is the default: fitted on calibration species drawn like the training
ones, the blend all but drops the epistemic part, which is the part that grows on chemistry the
model has not seen, and the blended sigma is then too small there (docs/surrogates.md, "A blend
of the two variance parts").
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


#: variance parts below this (eV^2, a sigma of 0.1 meV) count as this before the log of the blend
PART_FLOOR = 1e-8


@dataclass
class LogLinearVariance:
    """Predictive variance (eV^2) from the two parts of an ensemble's variance:
    v = exp(w0) * epistemic^w1 * aleatoric^w2, each part floored at ``PART_FLOOR``.

    The sum of the parts (the law of total variance) weights them by their size; a blend fitted on
    calibration errors weights them by how well each predicts the size of an error there, which
    need not hold where the model extrapolates (module docstring). The Gaussian negative
    log-likelihood is convex in the weights, so the fit has one optimum."""

    weights: np.ndarray

    @staticmethod
    def _design(epistemic: np.ndarray, aleatoric: np.ndarray) -> np.ndarray:
        parts = [np.asarray(epistemic, dtype=float), np.asarray(aleatoric, dtype=float)]
        return np.column_stack([np.ones(len(parts[0]))] + [np.log(np.maximum(p, PART_FLOOR)) for p in parts])

    @classmethod
    def fit(cls, epistemic: np.ndarray, aleatoric: np.ndarray, errors: np.ndarray) -> "LogLinearVariance":
        """Maximum-likelihood weights for zero-mean Gaussian ``errors`` (eV). A part that does not
        vary over the calibration points (one member: no epistemic part) gets weight 0."""
        from scipy.optimize import minimize

        X = cls._design(epistemic, aleatoric)
        e2 = np.asarray(errors, dtype=float) ** 2
        ok = np.isfinite(X).all(axis=1) & np.isfinite(e2)
        X, e2 = X[ok], e2[ok]
        if len(e2) < 10:
            raise ValueError(f"a variance blend needs at least 10 calibration points, got {len(e2)}")
        used = np.array([True] + [np.ptp(X[:, j]) > 1e-9 for j in (1, 2)])
        Z = X[:, used]

        def nll(w):
            s = Z @ w
            r = e2 * np.exp(-s)
            return 0.5 * np.mean(s + r), 0.5 * Z.T @ (1.0 - r) / len(r)

        start = np.zeros(Z.shape[1])
        start[0] = math.log(max(float(e2.mean()), PART_FLOOR))
        result = minimize(nll, start, jac=True, method="BFGS")
        weights = np.zeros(3)
        weights[used] = result.x
        return cls(weights)

    def __call__(self, epistemic: np.ndarray, aleatoric: np.ndarray) -> np.ndarray:
        return np.exp(self._design(np.atleast_1d(epistemic), np.atleast_1d(aleatoric)) @ self.weights)

    def to_dict(self) -> dict:
        return {"weights": self.weights.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "LogLinearVariance":
        return cls(np.asarray(d["weights"], dtype=float))


@dataclass
class IsotonicVarianceMap:
    """Recalibrates variances (eV^2): ``map(v)``. ``knots_v`` predicted variances (increasing) and
    ``knots_f`` the recalibrated variances there; ``n`` calibration points. ``blend``: what
    ``recalibrate`` feeds the map from an ensemble's two variance parts (None: their sum)."""

    knots_v: np.ndarray
    knots_f: np.ndarray
    n: int
    blend: LogLinearVariance | None = None

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

    @classmethod
    def fit_parts(cls, epistemic: np.ndarray, aleatoric: np.ndarray, errors: np.ndarray,
                  blend: bool = False) -> "IsotonicVarianceMap":
        """Fit on an ensemble's two variance parts (eV^2) and the errors observed with them (eV):
        on their sum, or with ``blend`` on their maximum-likelihood blend (``LogLinearVariance``).
        Use the fitted map through ``recalibrate``."""
        epistemic, aleatoric = np.asarray(epistemic, dtype=float), np.asarray(aleatoric, dtype=float)
        if not blend:
            return cls.fit(epistemic + aleatoric, errors)
        mix = LogLinearVariance.fit(epistemic, aleatoric, errors)
        fitted = cls.fit(mix(epistemic, aleatoric), errors)
        fitted.blend = mix
        return fitted

    def recalibrate(self, epistemic: np.ndarray, aleatoric: np.ndarray) -> np.ndarray:
        """Recalibrated total variance (eV^2) from the two parts: the map of their blend, or of
        their sum when the map has no blend."""
        epistemic, aleatoric = np.asarray(epistemic, dtype=float), np.asarray(aleatoric, dtype=float)
        return self(epistemic + aleatoric if self.blend is None else self.blend(epistemic, aleatoric))

    def __call__(self, variance: np.ndarray) -> np.ndarray:
        v = np.asarray(variance, dtype=float)
        logv = np.log(np.maximum(v, 1e-300))
        f = np.interp(logv, np.log(self.knots_v), self.knots_f)
        low, high = v < self.knots_v[0], v > self.knots_v[-1]
        f = np.where(low, v * self.knots_f[0] / self.knots_v[0], f)
        f = np.where(high, v * self.knots_f[-1] / self.knots_v[-1], f)
        return np.where(np.isfinite(v), f, np.nan)

    def to_dict(self) -> dict:
        out = {"knots_v": self.knots_v.tolist(), "knots_f": self.knots_f.tolist(), "n": self.n}
        if self.blend is not None:
            out["blend"] = self.blend.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "IsotonicVarianceMap":
        blend = LogLinearVariance.from_dict(d["blend"]) if "blend" in d else None
        return cls(np.asarray(d["knots_v"], dtype=float), np.asarray(d["knots_f"], dtype=float), int(d["n"]), blend)
