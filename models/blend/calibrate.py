"""Calibrated probabilities of malignancy from the ensemble score.

Under-sampling negatives and rank averaging leave the ensemble score on no probability scale.
A calibrator fit on the out-of-fold ensemble maps it to one. The map is strictly increasing, so
the ranking, and with it the ISIC score, is exactly that of the ensemble: an isotonic fit is
flat in places, so it gets a vanishing slope (`TIE_BREAK`) that keeps different scores apart.

A calibrator is plain JSON (method and numbers), never a pickle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from models.evaluation import reliability_table

# Weight of the score itself in the isotonic map: far below any calibration error, far above
# float64 resolution at the probabilities it is added to.
TIE_BREAK = 1e-6
# Platt works on the logit of a score in [0, 1]; the ends are pulled in by this much.
_LOGIT_EDGE = 1e-12
RELIABILITY_BINS = 10


@dataclass(frozen=True)
class Calibrator:
    method: str  # "isotonic" or "platt"
    x: list[float]  # isotonic: knots of the fit; platt: [slope, intercept] on logit(score)
    y: list[float]  # isotonic: the fit at the knots; platt: unused

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        s = np.asarray(scores, dtype=np.float64)
        if self.method == "isotonic":
            # Every ensemble score lies in [0, 1], so the slope term stays in [0, TIE_BREAK].
            return (1 - TIE_BREAK) * np.interp(s, self.x, self.y) + TIE_BREAK * s
        slope, intercept = self.x
        return 1.0 / (1.0 + np.exp(-(slope * _logit(s) + intercept)))

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "x": self.x, "y": self.y}

    @classmethod
    def from_dict(cls, table: dict[str, Any]) -> Calibrator:
        return cls(table["method"], list(table["x"]), list(table["y"]))


def fit_calibrator(scores: np.ndarray, y: np.ndarray, method: str = "isotonic") -> Calibrator:
    """A strictly increasing map from ensemble score (in [0, 1]) to probability of
    malignancy, fit on (`scores`, `y`)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(s, y)
        return Calibrator("isotonic", iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist())
    if method == "platt":
        # A nearly unpenalised fit: the slope must stay positive, which it is for any score
        # that ranks better than chance; it is floored at a tiny positive value regardless.
        logistic = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(s)[:, None], y)
        slope = max(float(logistic.coef_[0, 0]), 1e-9)
        return Calibrator("platt", [slope, float(logistic.intercept_[0])], [])
    raise ValueError(f"unknown calibration method {method!r}")


def cross_fitted(
    scores: np.ndarray, y: np.ndarray, fold_of_row: np.ndarray, method: str
) -> np.ndarray:
    """Each fold's rows calibrated by a calibrator fit on the other folds: honest
    probabilities for the Brier score and the reliability curve."""
    out = np.empty(scores.size)
    for fold in np.unique(fold_of_row):
        scored = fold_of_row == fold
        out[scored] = fit_calibrator(scores[~scored], y[~scored], method)(scores[scored])
    return out


def calibration_report(probabilities: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Brier score (with the base-rate forecast's, for scale) and reliability-curve points on
    quantile bins (uniform bins would put almost every lesion into the first one), from
    `models.evaluation.reliability_table`, the table `evaluate` reports."""
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    table = reliability_table(p, y, RELIABILITY_BINS)
    return {
        "brier": float(np.mean((p - y) ** 2)),
        "brier_base_rate": float(np.mean((y.mean() - y) ** 2)),
        "reliability": {
            "strategy": "quantile",
            "bins": RELIABILITY_BINS,
            "mean_predicted": [row["mean_predicted"] for row in table],
            "fraction_positive": [row["observed"] for row in table],
        },
    }


def _logit(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, _LOGIT_EDGE, 1 - _LOGIT_EDGE)
    return np.log(s) - np.log1p(-s)
