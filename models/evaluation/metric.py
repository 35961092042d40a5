"""The ISIC 2024 score (partial AUC above 80 % TPR), patient-bootstrap intervals, top-15 retrieval.

The score flips labels and scores (benign becomes the positive class, low scores rank first) and
integrates the ROC curve from FPR 0 to 1 - min_tpr with linear interpolation at the cut: a
perfect ranking scores 0.2, the worst 0.0. scikit-learn's ``roc_auc_score(max_fpr=...)`` is a
standardised (McClish) version of the same area, a different number that is never reported here.

The bootstrap resamples patients, not rows: lesions of one patient are correlated, so a
row bootstrap would give intervals that are too narrow. Each score column is sorted once and
reduced per patient (`SortedCurve`); a batch of resamples (`resample.PatientResamples`) then
gives a batch of curves by two sparse matrix products, not one pass over the rows each.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.metrics import auc, roc_curve

from models.evaluation.patients import patient_codes
from models.evaluation.resample import PatientResamples


def isic_pauc(y_true, y_score, min_tpr: float = 0.80, sample_weight=None) -> float:
    """ISIC 2024 partial AUC above `min_tpr` true-positive rate, in [0, 1 - min_tpr].

    Runs every boosting round during early stopping, so it does nothing beyond validation,
    `roc_curve` and the cut. `sample_weight` counts a row that many times (the feature report
    scores a lossless summary of a column: one weighted row per run of benign values).
    """
    y, s = checked(y_true, y_score)
    fpr, tpr, _ = roc_curve(y == 0, -s, sample_weight=sample_weight)
    return _area_up_to(fpr, tpr, 1.0 - min_tpr)


def patient_bootstrap_ci(
    y_true, y_score, patient_ids, n_boot: int = 500, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the ISIC pAUC over patient-bootstrap resamples.

    Each resample draws as many patients as there are, with replacement; a patient drawn k
    times weighs its rows by k. Resamples without a malignant or without a benign row are
    drawn again, so exactly `n_boot` resamples are scored; too many such draws are a
    ValueError.
    """
    y, s = checked(y_true, y_score)
    codes, n_patients = codes_for(patient_ids, y.size)
    curve = SortedCurve.build(y, s, codes, n_patients=n_patients)
    resamples = PatientResamples.of(y, codes, n_patients, n_boot, seed)
    values = np.concatenate([curve.pauc(weights) for weights in resamples.batches()])
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def paired_bootstrap_diff(
    y_true,
    score_a,
    score_b,
    patient_ids,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """(pauc(a) - pauc(b), low, high): the observed difference and its percentile interval.

    Both scores are evaluated on the same resampled patients, so the interval reflects only
    how the two rankings differ, not how hard the drawn patients are. Resamples are drawn as
    in `patient_bootstrap_ci`.

    `score_a` and `score_b` may also be lists of score arrays, one per training run (other
    model seeds, say): the difference is then between the mean pAUC of each side's runs, and
    the interval also reflects how the runs differ from one another.
    """
    checked_a = [checked(y_true, s) for s in _runs(score_a)]
    checked_b = [checked(y_true, s) for s in _runs(score_b)]
    y = checked_a[0][0]
    runs_a, runs_b = [s for _, s in checked_a], [s for _, s in checked_b]
    codes, n_patients = codes_for(patient_ids, y.size)
    curves_a = [SortedCurve.build(y, s, codes, n_patients=n_patients) for s in runs_a]
    curves_b = [SortedCurve.build(y, s, codes, n_patients=n_patients) for s in runs_b]
    resamples = PatientResamples.of(y, codes, n_patients, n_boot, seed)
    diffs = np.concatenate(
        [
            np.mean([c.pauc(w) for c in curves_a], axis=0)
            - np.mean([c.pauc(w) for c in curves_b], axis=0)
            for w in resamples.batches()
        ]
    )
    low, high = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    observed = np.mean([isic_pauc(y, s) for s in runs_a]) - np.mean(
        [isic_pauc(y, s) for s in runs_b]
    )
    return float(observed), float(low), float(high)


def _runs(scores) -> list:
    """One score array, or a list of them (one per run), as a list."""
    return list(scores) if isinstance(scores, list | tuple) else [scores]


def top15_retrieval(y_true, y_score, patient_ids, k: int = 15) -> float:
    """Mean, over patients with a malignant lesion, of the share of their malignant lesions
    that are among their own `k` highest-scored lesions.

    Ties in score are broken by row order (the earlier row ranks higher), so the number is
    deterministic for a given input order.
    """
    y, s = checked(y_true, y_score, need_both=False)
    codes, n_patients = codes_for(patient_ids, y.size)
    found, total = top15_counts(y, s, codes, n_patients, k)
    has_malignant = total > 0
    if not has_malignant.any():
        raise ValueError("top15_retrieval needs at least one malignant lesion; y_true has none")
    return float(np.mean(found[has_malignant] / total[has_malignant]))


def top15_counts(
    y: np.ndarray, s: np.ndarray, codes: np.ndarray, n_patients: int, k: int = 15
) -> tuple[np.ndarray, np.ndarray]:
    """Per patient: malignant lesions among its own `k` highest-scored lesions, and malignant
    lesions in all (ties broken by row order, as in `top15_retrieval`)."""
    order = np.lexsort((np.arange(y.size), -s, codes))
    sorted_codes = codes[order]
    first_row = np.searchsorted(sorted_codes, np.arange(n_patients))
    in_top = (np.arange(y.size) - first_row[sorted_codes]) < k
    malignant = y[order] == 1
    found = np.bincount(sorted_codes[malignant & in_top], minlength=n_patients)
    total = np.bincount(sorted_codes[malignant], minlength=n_patients)
    return found, total


def checked(y_true, y_score, need_both: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores as arrays, after checking shapes, finite scores, 0/1 labels and (with
    `need_both`) both classes; a ValueError otherwise."""
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if y.shape != s.shape or y.ndim != 1:
        raise ValueError(f"y_true has shape {y.shape} but y_score has shape {s.shape}")
    if not np.isfinite(s).all():
        raise ValueError(f"y_score has {np.count_nonzero(~np.isfinite(s))} NaN or infinite values")
    n_malignant = np.count_nonzero(y == 1)
    n_benign = np.count_nonzero(y == 0)
    if n_malignant + n_benign != y.size:
        raise ValueError("y_true must hold only 0 (benign) and 1 (malignant)")
    if need_both and (n_malignant == 0 or n_benign == 0):
        only = 1 if n_benign == 0 else 0
        raise ValueError(f"isic_pauc needs both classes; y_true has only {only} (n={y.size})")
    return y, s


def codes_for(patient_ids, n_rows: int) -> tuple[np.ndarray, int]:
    """`patient_codes` of `patient_ids`, checked to number `n_rows` rows."""
    codes, n_patients = patient_codes(patient_ids)
    if codes.size != n_rows:
        raise ValueError(f"patient_ids has {codes.size} values but y_true has {n_rows}")
    return codes, n_patients


class SortedCurve(NamedTuple):
    """One score column sorted once, reduced per patient to what a weighted flipped ROC curve
    needs, so that a batch of patient weights gives a batch of curves by two matrix products.

    In the flipped problem the curve walks the scores upwards; FPR moves only at tie groups
    holding malignant rows, so the area is a sum over those groups, and the benign side enters
    only through cumulative benign weight before and at the end of each such group. Rows with
    equal scores form one threshold, as in `roc_curve`: one diagonal segment. Benign rows fall
    into 2G + 1 segments around the G groups (before group 0, inside it, between it and group
    1, ..., after the last); each patient's benign rows are counted per segment, its malignant
    rows per group.
    """

    benign: sparse.csr_array  # (2G + 1, n_patients): benign rows per segment and patient
    malignant: sparse.csr_array  # (G, n_patients): malignant rows per group and patient
    max_fpr: float

    @classmethod
    def build(
        cls,
        y: np.ndarray,
        s: np.ndarray,
        codes: np.ndarray,
        min_tpr: float = 0.80,
        n_patients: int | None = None,
    ) -> SortedCurve:
        n_patients = int(codes.max()) + 1 if n_patients is None else n_patients
        order = np.argsort(s, kind="stable")
        sorted_s = s[order]
        group = np.concatenate(([0], np.cumsum(sorted_s[1:] != sorted_s[:-1])))
        malignant = y[order] == 1
        groups_with_malignant, malignant_group = np.unique(group[malignant], return_inverse=True)
        benign_group = group[~malignant]
        # Malignant groups strictly below each benign row's group; a tie with one of them puts
        # the row inside that group's segment.
        below = np.searchsorted(groups_with_malignant, benign_group, "left")
        tied = groups_with_malignant[np.minimum(below, groups_with_malignant.size - 1)]
        segment = 2 * below + (tied == benign_group)
        n_groups = groups_with_malignant.size
        return cls(
            benign=_counts(segment, codes[order][~malignant], 2 * n_groups + 1, n_patients),
            malignant=_counts(malignant_group, codes[order][malignant], n_groups, n_patients),
            max_fpr=1.0 - min_tpr,
        )

    def pauc(self, patient_weight: np.ndarray) -> float | np.ndarray:
        """ISIC pAUC with every row weighted by its patient's weight: one float for a weight
        vector, one value per row for a (batch, n_patients) matrix."""
        areas = self.areas(np.atleast_2d(patient_weight), (self.max_fpr,))[0]
        return float(areas[0]) if np.ndim(patient_weight) == 1 else areas

    def areas(self, weights: np.ndarray, max_fprs: tuple[float, ...]) -> np.ndarray:
        """(len(max_fprs), batch): for each row of patient weights (batch, n_patients), the
        area under its weighted flipped curve from FPR 0 to each of `max_fprs` (1: the ROC
        AUC), all from one pass over the curve."""
        weights = np.asarray(weights, dtype=np.float64)
        benign_cum = np.cumsum((self.benign @ weights.T).T, axis=1)  # (batch, segments)
        total_benign = benign_cum[:, -1:]
        tpr_start = benign_cum[:, 0:-1:2] / total_benign  # before each group
        tpr_end = benign_cum[:, 1::2] / total_benign  # ... and through its end
        malignant_cum = np.cumsum((self.malignant @ weights.T).T, axis=1)
        fpr_end = malignant_cum / malignant_cum[:, -1:]
        fpr_start = np.concatenate((np.zeros((fpr_end.shape[0], 1)), fpr_end[:, :-1]), axis=1)
        fpr = _interleaved(fpr_start, fpr_end)
        tpr = _interleaved(tpr_start, tpr_end)
        return np.stack([_areas_up_to(fpr, tpr, cut) for cut in max_fprs])


def _interleaved(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Each row's curve points: 0, then every group's start and end in turn."""
    out = np.zeros((start.shape[0], 2 * start.shape[1] + 1))
    out[:, 1::2] = start
    out[:, 2::2] = end
    return out


def _counts(index: np.ndarray, codes: np.ndarray, n_index: int, n_patients: int):
    """Rows per (index, patient) as a sparse (n_index, n_patients) matrix."""
    ones = np.ones(index.size)
    return sparse.csr_array((ones, (index, codes)), shape=(n_index, n_patients))


def _areas_up_to(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> np.ndarray:
    """Trapezoid area under each row's (fpr, tpr) polyline from 0 to max_fpr, interpolating
    linearly at the cut (`_area_up_to` for a batch of curves)."""
    x0, x1, y0, y1 = fpr[:, :-1], fpr[:, 1:], tpr[:, :-1], tpr[:, 1:]
    left, right = np.minimum(x0, max_fpr), np.minimum(x1, max_fpr)
    width = x1 - x0
    slope = np.divide(y1 - y0, width, out=np.zeros_like(width), where=width > 0)
    return np.sum((right - left) * (y0 + slope * (left - x0) + y0 + slope * (right - x0)) / 2, 1)


def _area_up_to(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """Trapezoid area under (fpr, tpr) from 0 to max_fpr, interpolating linearly at the cut."""
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    tpr_at_cut = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    return float(auc(np.append(fpr[:stop], max_fpr), np.append(tpr[:stop], tpr_at_cut)))
