"""The figures a reviewer of a triage tool asks of a labelled cohort: discrimination, operating
points at a fixed threshold, calibration and subgroups, each figure with its 95 %
patient-bootstrap interval, and net benefit (a decision curve).

Every interval resamples patients, not lesions (lesions of one patient are not independent),
and the figures of one call share one set of resamples (`resample.PatientResamples`): each is a
matrix product of the resamples' patient weights with per-patient sums, never a Python loop
over resamples. A resample always holds a malignant and a benign lesion; a figure that is still
undefined in a resample (a PPV with nothing flagged, a bin whose patients were all left out) is
left out of that figure's interval alone. An interval is None when no resample defines it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from models.evaluation.groups import MIN_MALIGNANT_FOR_SCORE, MISSING_GROUP, enough_to_score
from models.evaluation.logistic import LOGIT_CLIP, BootstrapFits, logit
from models.evaluation.metric import (
    SortedCurve,
    checked,
    codes_for,
    isic_pauc,
    patient_bootstrap_ci,
    top15_counts,
)
from models.evaluation.resample import PatientResamples, patient_sums, percentile_interval

__all__ = [
    "LOGIT_CLIP",
    "MIN_MALIGNANT_FOR_SCORE",
    "WANTED_SENSITIVITIES",
    "calibration",
    "decision_curve",
    "discrimination",
    "group_summary",
    "operating_point",
    "quantile_bins",
    "reliability_table",
    "threshold_for_sensitivity",
]

WANTED_SENSITIVITIES = (0.80, 0.90, 0.95)
# Net benefit is per this many lesions.
PER_LESIONS = 1000
FLAGGED_PERCENTILE = 90


def discrimination(
    y, scores: dict[str, np.ndarray], patients, n_boot: int, seed: int
) -> dict[str, dict[str, Any]]:
    """The ISIC score (`pauc`), the ROC AUC (`auc`) and top-15 retrieval (`top15`) of every
    score column, each `{name: value}`, with `{name: [low, high]}` intervals under the same
    keys with `_ci`; every column and figure is scored on the same resamples."""
    if not scores:
        raise ValueError("discrimination needs at least one score column")
    y, _ = checked(y, next(iter(scores.values())))
    codes, n_patients = codes_for(patients, y.size)
    has_malignant = (np.bincount(codes[y == 1], minlength=n_patients) > 0).astype(np.float64)
    curves, shares = {}, {}
    for name, score in scores.items():
        _, s = checked(y, score)
        curves[name] = SortedCurve.build(y, s, codes, n_patients=n_patients)
        # Each patient's share of its malignant lesions found in its top 15.
        found, total = top15_counts(y, s, codes, n_patients)
        shares[name] = np.divide(found, total, out=np.zeros(n_patients), where=total > 0)
    out: dict[str, dict[str, Any]] = {
        "pauc": {name: isic_pauc(y, scores[name]) for name in scores},
        "auc": {
            name: float(c.areas(np.ones((1, n_patients)), (1.0,))[0, 0])
            for name, c in curves.items()
        },
        "top15": {name: float(shares[name].sum() / has_malignant.sum()) for name in scores},
    }
    draws: dict[str, dict[str, list]] = {k: {n: [] for n in scores} for k in out}
    for weights in PatientResamples.of(y, codes, n_patients, n_boot, seed).batches():
        patients_with_malignant = weights @ has_malignant
        for name, curve in curves.items():
            pauc, auc = curve.areas(weights, (curve.max_fpr, 1.0))
            draws["pauc"][name].append(pauc)
            draws["auc"][name].append(auc)
            draws["top15"][name].append(weights @ shares[name] / patients_with_malignant)
    for key in list(out):
        out[f"{key}_ci"] = {
            n: percentile_interval(np.concatenate(v)) for n, v in draws[key].items()
        }
    return {key: out[key] for key in ("pauc", "pauc_ci", "auc", "auc_ci", "top15", "top15_ci")}


def threshold_for_sensitivity(y, score, wanted: float) -> float:
    """The highest threshold t such that mean(score[y == 1] >= t) >= wanted: flagging every
    lesion scored t or above finds at least `wanted` of the malignant ones.

    The k-th highest malignant score, for the smallest k with k / n_malignant >= wanted (the
    comparison `roc_curve`'s true-positive rate makes)."""
    if not 0 < wanted <= 1:
        raise ValueError(f"wanted sensitivity must be in (0, 1], got {wanted}")
    y, s = checked(y, score, need_both=False)
    malignant = np.sort(s[y == 1])[::-1]
    if malignant.size == 0:
        raise ValueError("threshold_for_sensitivity needs at least one malignant lesion")
    share = np.arange(1, malignant.size + 1) / malignant.size
    return float(malignant[int(np.argmax(share >= wanted))])


def operating_point(y, score, patients, threshold: float, n_boot: int, seed: int) -> dict:
    """Sensitivity, specificity, PPV and NPV of flagging every lesion scored at or above
    `threshold`, each with its interval, and the median and 90th percentile of flagged lesions
    per patient (all patients, the unflagged included).

    PPV has no value where nothing is flagged, NPV where everything is: the figure is then None
    and a resample without a flagged (or unflagged) lesion is left out of its interval."""
    y, s = checked(y, score)
    codes, n_patients = codes_for(patients, y.size)
    flagged = s >= threshold
    malignant = y == 1
    cells = (flagged & malignant, flagged & ~malignant, ~flagged & malignant, ~flagged & ~malignant)
    sums = patient_sums(codes, n_patients, *(c.astype(np.float64) for c in cells))
    point = _rates(sums.sum(0)[np.newaxis, :])
    draws = [
        _rates(w @ sums) for w in PatientResamples.of(y, codes, n_patients, n_boot, seed).batches()
    ]
    per_patient = np.bincount(codes, weights=flagged, minlength=n_patients)
    out: dict[str, Any] = {"threshold": float(threshold)}
    for name, values in point.items():
        out[name] = None if np.isnan(values[0]) else float(values[0])
        out[f"{name}_ci"] = percentile_interval(np.concatenate([d[name] for d in draws]))
    out["flagged_per_patient_median"] = float(np.median(per_patient))
    out["flagged_per_patient_p90"] = float(np.percentile(per_patient, FLAGGED_PERCENTILE))
    return out


def calibration(y, p, patients, n_boot: int, seed: int, bins: int = 10) -> dict[str, Any]:
    """How far probabilities `p` are from the observed rates, each figure with its interval:
    `observed_expected` (sum of y over sum of p), `slope` and `intercept` (`logistic`), `brier`
    (mean squared error) and `scaled_brier` (1 - brier over that of the prevalence alone), and
    `bins`: the reliability table over `bins` quantile bins of p, each bin's observed rate with
    its interval. logit(p) clips p to [LOGIT_CLIP, 1 - LOGIT_CLIP] (`logit_clip`)."""
    y, p = checked(y, p)
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"calibration needs probabilities in [0, 1]; p spans {p.min()}..{p.max()}")
    codes, n_patients = codes_for(patients, y.size)
    x = logit(p)
    outcome = y.astype(np.float64)
    bin_of_row = quantile_bins(p, bins)
    n_bins = int(bin_of_row.max()) + 1
    in_bin = patient_sums(
        codes * n_bins + bin_of_row, n_patients * n_bins, outcome, np.ones(y.size)
    )
    # Per patient: lesions, malignant, sum of p, sum of squared errors.
    sums = patient_sums(codes, n_patients, np.ones(y.size), outcome, p, (p - outcome) ** 2)
    fits = BootstrapFits(x, outcome, codes, n_patients)
    point = {
        **_calibration_rates(sums.sum(0)[np.newaxis, :]),
        "slope": np.array([np.nan if fits.slope is None else fits.slope[1]]),
        "intercept": np.array([np.nan if fits.offset is None else fits.offset]),
    }
    draws: dict[str, list] = {key: [] for key in point}
    observed = []
    bin_sums = in_bin.reshape(n_patients, n_bins, 2)
    for weights in PatientResamples.of(y, codes, n_patients, n_boot, seed).batches():
        for key, values in _calibration_rates(weights @ sums).items():
            draws[key].append(values)
        slopes, intercepts = fits(weights)
        draws["slope"].append(slopes)
        draws["intercept"].append(intercepts)
        malignant, lesions = weights @ bin_sums[:, :, 0], weights @ bin_sums[:, :, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            observed.append(malignant / lesions)
    out: dict[str, Any] = {}
    for key in ("observed_expected", "slope", "intercept", "brier", "scaled_brier"):
        value = point[key][0]
        out[key] = None if not np.isfinite(value) else float(value)
        out[f"{key}_ci"] = percentile_interval(np.concatenate(draws[key]))
    observed_draws = np.concatenate(observed)
    table = reliability_table(p, outcome, bins)
    out["bins"] = [
        {**row, "observed_ci": percentile_interval(observed_draws[:, k])}
        for k, row in enumerate(table)
    ]
    out["logit_clip"] = LOGIT_CLIP
    return out


def quantile_bins(p: np.ndarray, bins: int) -> np.ndarray:
    """Each value's quantile bin, as scikit-learn's `calibration_curve(strategy="quantile")`
    cuts them (edges at the 0, 1/bins, ..., 1 percentiles; a value on an inner edge goes to the
    lower bin), the bins left empty by tied edges dropped and the rest numbered 0, 1, ..."""
    edges = np.percentile(p, np.linspace(0, 1, bins + 1) * 100)
    _, dense = np.unique(np.searchsorted(edges[1:-1], p), return_inverse=True)
    return dense


def reliability_table(p, y, bins: int = 10) -> list[dict[str, float]]:
    """The reliability table over quantile bins of `p`: each bin's lesion count, mean predicted
    probability and observed malignant share."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    bin_of_row = quantile_bins(p, bins)
    count = np.bincount(bin_of_row)
    predicted = np.bincount(bin_of_row, weights=p) / count
    observed = np.bincount(bin_of_row, weights=y) / count
    return [
        {"count": int(c), "mean_predicted": float(m), "observed": float(o)}
        for c, m, o in zip(count, predicted, observed, strict=True)
    ]


def decision_curve(y, p, thresholds=None) -> list[dict[str, float]]:
    """Net benefit per 1,000 lesions at each risk threshold t: of the model (flag p >= t),
    TP/n - FP/n * t/(1 - t); of flagging every lesion, prevalence - (1 - prevalence) * t/(1 - t);
    of flagging none, 0. Default thresholds: 25, log-spaced from 0.0005 to 0.10."""
    y, p = checked(y, p, need_both=False)
    thresholds = np.geomspace(0.0005, 0.10, 25) if thresholds is None else thresholds
    malignant = y == 1
    prevalence = malignant.mean()
    rows = []
    for t in np.asarray(thresholds, dtype=np.float64):
        odds = t / (1 - t)
        flagged = p >= t
        true_positive = np.count_nonzero(flagged & malignant) / y.size
        false_positive = np.count_nonzero(flagged & ~malignant) / y.size
        rows.append(
            {
                "threshold": float(t),
                "model": float(PER_LESIONS * (true_positive - false_positive * odds)),
                "all": float(PER_LESIONS * (prevalence - (1 - prevalence) * odds)),
                "none": 0.0,
            }
        )
    return rows


def group_summary(
    y, score, p_or_none, patients, labels, n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """One object per level of `labels` (sorted; a null is the level `MISSING_GROUP`): its
    lesions, malignant lesions, ISIC score with interval, and observed over expected (sum of y
    over sum of `p_or_none`; None without probabilities). A level with fewer than
    `MIN_MALIGNANT_FOR_SCORE` malignant lesions, or no benign one, has a null score and interval;
    so does the interval alone where its malignant lesions are too concentrated in few patients
    for a patient bootstrap."""
    y, s = checked(y, score, need_both=False)
    codes, _ = codes_for(patients, y.size)
    p = None if p_or_none is None else checked(y, p_or_none, need_both=False)[1]
    series = labels if isinstance(labels, pl.Series) else pl.Series(values=labels, strict=False)
    levels = series.cast(pl.String).fill_null(MISSING_GROUP).to_numpy()
    if levels.size != y.size:
        raise ValueError(f"labels has {levels.size} values but y has {y.size}")
    rows = []
    for level in sorted(set(levels.tolist())):
        mine = levels == level
        pauc = interval = None
        if enough_to_score(y[mine]):
            pauc = isic_pauc(y[mine], s[mine])
            try:
                interval = list(patient_bootstrap_ci(y[mine], s[mine], codes[mine], n_boot, seed))
            except ValueError:  # too few patients with a malignant lesion to resample
                interval = None
        expected = None if p is None else float(p[mine].sum())
        rows.append(
            {
                "group": level,
                "lesions": int(mine.sum()),
                "malignant": int(y[mine].sum()),
                "pauc": pauc,
                "pauc_ci": interval,
                "observed_expected": (float(y[mine].sum() / expected) if expected else None),
            }
        )
    return rows


def _rates(counts: np.ndarray) -> dict[str, np.ndarray]:
    """Sensitivity, specificity, PPV, NPV per row of (TP, FP, FN, TN) counts; NaN where a
    denominator is zero."""
    tp, fp, fn, tn = counts.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "sensitivity": tp / (tp + fn),
            "specificity": tn / (tn + fp),
            "ppv": tp / (tp + fp),
            "npv": tn / (tn + fn),
        }


def _calibration_rates(sums: np.ndarray) -> dict[str, np.ndarray]:
    """O/E, Brier and scaled Brier per row of (lesions, malignant, sum of p, sum of squared
    errors)."""
    lesions, malignant, expected, squared = sums.T
    prevalence = malignant / lesions
    with np.errstate(invalid="ignore", divide="ignore"):
        brier = squared / lesions
        return {
            "observed_expected": malignant / expected,
            "brier": brier,
            "scaled_brier": 1 - brier / (prevalence * (1 - prevalence)),
        }
