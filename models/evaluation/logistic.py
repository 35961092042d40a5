"""Calibration slope and calibration-in-the-large: logistic fits of the outcome on logit(p), for
the lesions themselves and for every patient-bootstrap resample at once.

The slope is the coefficient of an unpenalised logistic regression of y on logit(p) (1 for a
calibrated p); the intercept is that of a regression with logit(p) as an offset and the slope
fixed at 1 (0 for a calibrated p). logit(p) uses p clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP].

A resample's fit is the fit to every lesion weighted by its patient's draw count. Newton row by
row for a thousand resamples of a million lesions would take minutes, so the lesions are pooled
without loss: logit(p) is cut into bins of width `BIN_WIDTH`, and within a bin the sigmoid is
its Taylor series about the bin's centre, whose terms need only the sums of the powers of each
lesion's distance from that centre. Those sums, per patient and bin, make one matrix; a batch
of patient weights times it gives every resample's sums, and Newton (with a line search on the
log-likelihood, so that it converges from any start) runs on the bins.

The series is cut after `ORDER` terms; with slope b and bin width h the first term left out is
below (b * h / 2 / pi) ** (ORDER + 1) of the sigmoid (its radius of convergence is pi): at most
1e-11 with h = `BIN_WIDTH` for slopes up to `MAX_SERIES_SLOPE`. Bins narrow in proportion for a
cohort whose own slope is steeper than half that, and a resample whose slope still exceeds the
range (twice the cohort's own, at least `MAX_SERIES_SLOPE`) is refit row by row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import sparse
from scipy.special import expit

LOGIT_CLIP = 1e-6
BIN_WIDTH = 0.2
ORDER = 9
MAX_SERIES_SLOPE = 2.5
# A per-patient moment matrix up to this many cells is dense (a BLAS product); a larger one is
# sparse, so that memory stays bounded whatever the number of patients.
_DENSE_CELLS = 16_000_000
_MAX_NEWTON = 100
_MAX_HALVINGS = 40
_TOLERANCE = 1e-12

# evaluate(theta) -> (log-likelihood (batch,), gradient (batch, m), information (batch, m, m)).
Evaluate = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def logit(p: np.ndarray) -> np.ndarray:
    """logit(p) with p clipped to [LOGIT_CLIP, 1 - LOGIT_CLIP]."""
    p = np.clip(np.asarray(p, dtype=np.float64), LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def slope_fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None):
    """(intercept, slope) of the logistic regression of `y` on `x` (rows weighted by
    `weight`), or None when it has no finite maximum (x separates the classes)."""
    theta = _row_fit(x, y, weight, slope=True)
    return None if theta is None else (float(theta[0]), float(theta[1]))


def offset_fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None) -> float | None:
    """Intercept of the logistic regression of `y` with offset `x` and no other term (rows
    weighted by `weight`), or None when the weighted rows hold one class only."""
    theta = _row_fit(x, y, weight, slope=False)
    return None if theta is None else float(theta[0])


class BootstrapFits:
    """The slope and the offset intercept of every resample in a batch of patient weights;
    NaN where a resample's fit has no finite maximum. `slope` ((intercept, slope)) and `offset`
    are the fits to the lesions themselves, as `slope_fit` and `offset_fit` give them."""

    def __init__(self, x: np.ndarray, y: np.ndarray, codes: np.ndarray, n_patients: int):
        self.x, self.y, self.codes = x, np.asarray(y, dtype=np.float64), codes
        # The fits to the lesions themselves, where every resample's Newton starts.
        self.slope = slope_fit(x, self.y)
        self.offset = offset_fit(x, self.y)
        self._start = self.slope or (0.0, 1.0), self.offset or 0.0
        # Bins narrow enough for resample slopes up to twice the lesions' own.
        self.max_slope = max(MAX_SERIES_SLOPE, 2 * abs(self._start[0][1]))
        width = BIN_WIDTH * MAX_SERIES_SLOPE / self.max_slope
        edges = np.floor((x - x.min()) / width).astype(np.int64)
        occupied, bins = np.unique(edges, return_inverse=True)
        self.centres = x.min() + (occupied + 0.5) * width
        distance = x - self.centres[bins]
        n_bins, n_moments = occupied.size, ORDER + 2
        # Column j * n_bins + k: the sum over a patient's lesions in bin k of distance ** j.
        pairs, pair = np.unique(codes * n_bins + bins, return_inverse=True)
        sums = np.column_stack(
            [np.bincount(pair, weights=distance**j, minlength=pairs.size) for j in range(n_moments)]
        )
        rows = np.repeat(pairs // n_bins, n_moments)
        columns = (np.arange(n_moments) * n_bins + (pairs % n_bins)[:, np.newaxis]).ravel()
        shape = (n_patients, n_moments * n_bins)
        if shape[0] * shape[1] <= _DENSE_CELLS:
            self._moments = np.zeros(shape)
            self._moments[rows, columns] = sums.ravel()
        else:
            self._moments = sparse.csr_array((sums.ravel(), (rows, columns)), shape=shape)
        # The outcome enters the score equations linearly: its per-patient sums are exact.
        self._outcome = np.column_stack(
            [np.bincount(codes, weights=v, minlength=n_patients) for v in (self.y, self.y * x)]
        )

    def __call__(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(slopes, intercepts), one per row of `weights` (batch, n_patients)."""
        if sparse.issparse(self._moments):
            pooled = (self._moments.T @ weights.T).T
        else:
            pooled = weights @ self._moments
        moments = pooled.reshape(weights.shape[0], ORDER + 2, self.centres.size)
        outcome = weights @ self._outcome
        batch = weights.shape[0]
        slope = _maximise(
            np.tile(self._start[0], (batch, 1)),
            lambda theta: self._pooled(moments, outcome, theta[:, :1], theta[:, 1:]),
        )
        offset = _maximise(
            np.full((batch, 1), self._start[1]),
            lambda theta: self._pooled(moments, outcome[:, :1], theta, None),
        )
        # Beyond this slope the series would need more terms: those resamples go row by row.
        for r in np.flatnonzero(np.abs(slope[:, 1]) > self.max_slope):
            fit = slope_fit(self.x, self.y, weights[r, self.codes])
            slope[r] = np.nan if fit is None else fit
        return slope[:, 1], offset[:, 0]

    def _pooled(self, moments, outcome, intercept, slope):
        """Log-likelihood, gradient and information of each resample from its pooled sums:
        with slope None, of the offset model (slope fixed at 1, x an offset)."""
        c = self.centres
        b = np.ones_like(intercept) if slope is None else slope
        series = _sigmoid_series(intercept + b * c, ORDER)
        # sigma(eta_k + b d) = sum_j series_j (b d)^j; its derivative's terms; softplus's.
        powers = b[:, :, np.newaxis] ** np.arange(ORDER + 2)[:, np.newaxis]
        value = series * powers[:, : ORDER + 1]
        derivative = series[:, 1:] * np.arange(1, ORDER + 1)[:, np.newaxis] * powers[:, :ORDER]
        softplus = series / np.arange(1, ORDER + 2)[:, np.newaxis] * powers[:, 1:]
        m = (moments, moments[:, 1:], moments[:, 2:])  # sums of d^j, d^(j+1), d^(j+2)
        eta = intercept + b * c
        log_normaliser = np.logaddexp(0, eta) * moments[:, 0] + _sum(softplus, m[1], ORDER + 1)
        f0 = _sum(value, m[0], ORDER + 1)
        h00 = _sum(derivative, m[0], ORDER)
        if slope is None:
            # The offset's own term, sum of w y x, does not move with the intercept: left out.
            loglik = intercept[:, 0] * outcome[:, 0] - log_normaliser.sum(1)
            gradient = (outcome[:, 0] - f0.sum(1))[:, np.newaxis]
            return loglik, gradient, h00.sum(1)[:, np.newaxis, np.newaxis]
        loglik = intercept[:, 0] * outcome[:, 0] + b[:, 0] * outcome[:, 1] - log_normaliser.sum(1)
        f1 = c * f0 + _sum(value, m[1], ORDER + 1)
        h01 = c * h00 + _sum(derivative, m[1], ORDER)
        h11 = c**2 * h00 + 2 * c * _sum(derivative, m[1], ORDER) + _sum(derivative, m[2], ORDER)
        gradient = outcome - np.column_stack((f0.sum(1), f1.sum(1)))
        return loglik, gradient, _information(h00.sum(1), h01.sum(1), h11.sum(1))


def _maximise(theta: np.ndarray, evaluate: Evaluate) -> np.ndarray:
    """Newton's method for each row of `theta`, each step halved until the log-likelihood does
    not fall; a row that does not converge (no finite maximum) ends NaN."""
    # Far from a maximum (or with none) the linear predictor overflows: its NaN is "worse".
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        loglik, gradient, information = evaluate(theta)
        for _ in range(_MAX_NEWTON):
            step = _solve(information, gradient)
            scale = np.ones((theta.shape[0], 1))
            for _ in range(_MAX_HALVINGS):
                candidate = theta + scale * step
                new = evaluate(candidate)
                worse = ~(new[0] >= loglik - 1e-12 * np.abs(loglik))  # NaN is worse too
                if not worse.any():
                    break
                scale[worse] /= 2
            moved = np.abs(scale * step) > _TOLERANCE * (1 + np.abs(candidate))
            theta, (loglik, gradient, information) = candidate, new
            going = moved.any(axis=1) & np.isfinite(theta).all(axis=1)
            if not going.any():
                return theta
    theta[going] = np.nan
    return theta


def _row_fit(x, y, weight, slope: bool) -> np.ndarray | None:
    """One fit on the rows; None when the weighted rows hold one class or it does not
    converge."""
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(x) if weight is None else np.asarray(weight, dtype=np.float64)
    positive = (w * y).sum()
    if positive == 0 or positive == w.sum():
        return None

    def evaluate(theta):
        a, b = theta[0, 0], (theta[0, 1] if slope else 1.0)
        eta = a + b * x
        p = expit(eta)
        loglik = (w * (y * eta - np.logaddexp(0, eta))).sum()
        residual, curvature = w * (y - p), w * p * (1 - p)
        if not slope:
            return (
                np.array([loglik]),
                residual.sum().reshape(1, 1),
                curvature.sum().reshape(1, 1, 1),
            )
        gradient = np.array([[residual.sum(), residual @ x]])
        return (
            np.array([loglik]),
            gradient,
            _information(curvature.sum(), curvature @ x, curvature @ x**2).reshape(1, 2, 2),
        )

    theta = _maximise(np.array([[0.0, 1.0]]) if slope else np.zeros((1, 1)), evaluate)[0]
    return theta if np.isfinite(theta).all() else None


def _sum(terms: np.ndarray, moments: np.ndarray, n_terms: int) -> np.ndarray:
    """(batch, bins): sum over j < n_terms of terms[:, j] * moments[:, j]."""
    return np.einsum("bjk,bjk->bk", terms[:, :n_terms], moments[:, :n_terms])


def _sigmoid_series(eta: np.ndarray, order: int) -> np.ndarray:
    """(batch, order + 1, bins): the Taylor coefficients sigma^(j)(eta) / j! for j <= order.

    From sigma' = sigma (1 - sigma): (j + 1) s_(j+1) = s_j - sum_i s_i s_(j-i)."""
    s = np.empty((eta.shape[0], order + 1, eta.shape[1]))
    s[:, 0] = expit(eta)
    for j in range(order):
        s[:, j + 1] = (s[:, j] - np.einsum("bik,bik->bk", s[:, : j + 1], s[:, j::-1])) / (j + 1)
    return s


def _information(h00, h01, h11) -> np.ndarray:
    """(batch, 2, 2) symmetric matrices from their three distinct entries."""
    h00, h01, h11 = (np.atleast_1d(v) for v in (h00, h01, h11))
    return np.stack((np.stack((h00, h01), -1), np.stack((h01, h11), -1)), -2)


def _solve(information: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Newton steps (information)^-1 gradient for a batch of 1 x 1 or 2 x 2 systems; NaN where
    the information is singular."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if gradient.shape[1] == 1:
            return gradient / information[:, 0]
        a, b, d = information[:, 0, 0], information[:, 0, 1], information[:, 1, 1]
        det = a * d - b * b
        return np.column_stack(
            (
                (d * gradient[:, 0] - b * gradient[:, 1]) / det,
                (a * gradient[:, 1] - b * gradient[:, 0]) / det,
            )
        )
