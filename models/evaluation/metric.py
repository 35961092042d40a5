"""The ISIC 2024 score (partial AUC above 80 % TPR), patient-bootstrap intervals, top-15 retrieval.

The score flips labels and scores (benign becomes the positive class, low scores rank first) and
integrates the ROC curve from FPR 0 to 1 - min_tpr with linear interpolation at the cut: a
perfect ranking scores 0.2, the worst 0.0. scikit-learn's ``roc_auc_score(max_fpr=...)`` is a
standardised (McClish) version of the same area, a different number that is never reported here.

The bootstrap resamples patients, not rows: lesions of one patient are correlated, so a
row bootstrap would give intervals that are too narrow.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from sklearn.metrics import auc, roc_curve

from models.evaluation.patients import patient_codes

# A resample without a malignant (or benign) row has no ROC curve; it is drawn again. After this
# many failed draws per requested resample the data are too thin for a patient bootstrap.
_MAX_REDRAWS_PER_BOOT = 10


def isic_pauc(y_true, y_score, min_tpr: float = 0.80, sample_weight=None) -> float:
    """ISIC 2024 partial AUC above `min_tpr` true-positive rate, in [0, 1 - min_tpr].

    Runs every boosting round during early stopping, so it does nothing beyond validation,
    `roc_curve` and the cut. `sample_weight` counts a row that many times (the feature report
    scores a lossless summary of a column: one weighted row per run of benign values).
    """
    y, s = _checked(y_true, y_score)
    fpr, tpr, _ = roc_curve(y == 0, -s, sample_weight=sample_weight)
    return _area_up_to(fpr, tpr, 1.0 - min_tpr)


def patient_bootstrap_ci(
    y_true, y_score, patient_ids, n_boot: int = 500, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile interval of the ISIC pAUC over patient-bootstrap resamples.

    Each resample draws as many patients as there are, with replacement; a patient drawn k
    times weighs its rows by k. Resamples without a malignant or without a benign row are
    drawn again, so exactly `n_boot` resamples are scored.
    """
    y, s = _checked(y_true, y_score)
    codes, n_patients = _codes_for(patient_ids, y.size)
    curve = _SortedCurve.build(y, s, codes)
    rng = np.random.default_rng(seed)
    values = np.array([curve.pauc(w) for w in _patient_weights(rng, n_patients, curve, n_boot)])
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
    checked_a = [_checked(y_true, s) for s in _runs(score_a)]
    checked_b = [_checked(y_true, s) for s in _runs(score_b)]
    y = checked_a[0][0]
    runs_a, runs_b = [s for _, s in checked_a], [s for _, s in checked_b]
    codes, n_patients = _codes_for(patient_ids, y.size)
    curves_a = [_SortedCurve.build(y, s, codes) for s in runs_a]
    curves_b = [_SortedCurve.build(y, s, codes) for s in runs_b]
    rng = np.random.default_rng(seed)
    diffs = np.array(
        [
            np.mean([c.pauc(w) for c in curves_a]) - np.mean([c.pauc(w) for c in curves_b])
            for w in _patient_weights(rng, n_patients, curves_a[0], n_boot)
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
    y, s = _checked(y_true, y_score, need_both=False)
    codes, n_patients = _codes_for(patient_ids, y.size)
    order = np.lexsort((np.arange(y.size), -s, codes))
    sorted_codes = codes[order]
    first_row = np.searchsorted(sorted_codes, np.arange(n_patients))
    in_top = (np.arange(y.size) - first_row[sorted_codes]) < k
    malignant = y[order] == 1
    found = np.bincount(sorted_codes[malignant & in_top], minlength=n_patients)
    total = np.bincount(sorted_codes[malignant], minlength=n_patients)
    has_malignant = total > 0
    if not has_malignant.any():
        raise ValueError("top15_retrieval needs at least one malignant lesion; y_true has none")
    return float(np.mean(found[has_malignant] / total[has_malignant]))


class _SortedCurve(NamedTuple):
    """One score column sorted once, reduced to what a weighted flipped ROC curve needs.

    In the flipped problem the curve walks the scores upwards; FPR moves only at tie groups
    holding malignant rows, so the area is a sum over those groups, and the benign side enters
    only through cumulative benign weight before and at the end of each such group. Rows with
    equal scores form one threshold, as in `roc_curve`: one diagonal segment.
    """

    benign_patient: np.ndarray  # patient code of each benign row, in ascending-score order
    malignant_patient: np.ndarray  # patient code of each malignant row
    malignant_group: np.ndarray  # index (into the groups below) of each malignant row
    benign_before: np.ndarray  # per tie group holding malignant rows: benign rows before it
    benign_through: np.ndarray  # ... and benign rows up to its end
    max_fpr: float

    @classmethod
    def build(
        cls, y: np.ndarray, s: np.ndarray, codes: np.ndarray, min_tpr: float = 0.80
    ) -> _SortedCurve:
        order = np.argsort(s, kind="stable")
        sorted_s = s[order]
        group = np.concatenate(([0], np.cumsum(sorted_s[1:] != sorted_s[:-1])))
        malignant = y[order] == 1
        benign_group = group[~malignant]
        groups_with_malignant, malignant_group = np.unique(group[malignant], return_inverse=True)
        return cls(
            benign_patient=codes[order][~malignant],
            malignant_patient=codes[order][malignant],
            malignant_group=malignant_group,
            benign_before=np.searchsorted(benign_group, groups_with_malignant, "left"),
            benign_through=np.searchsorted(benign_group, groups_with_malignant, "right"),
            max_fpr=1.0 - min_tpr,
        )

    def has_both_classes(self, patient_weight: np.ndarray) -> bool:
        return bool(
            patient_weight[self.malignant_patient].any()
            and patient_weight[self.benign_patient].any()
        )

    def pauc(self, patient_weight: np.ndarray) -> float:
        """ISIC pAUC with every row weighted by its patient's (integer) weight."""
        benign_cum = np.concatenate(([0], np.cumsum(patient_weight[self.benign_patient])))
        tpr_start = benign_cum[self.benign_before] / benign_cum[-1]
        tpr_end = benign_cum[self.benign_through] / benign_cum[-1]
        malignant_weight = np.bincount(
            self.malignant_group,
            weights=patient_weight[self.malignant_patient],
            minlength=self.benign_before.size,
        )
        malignant_cum = np.cumsum(malignant_weight)
        fpr_end = malignant_cum / malignant_cum[-1]
        fpr_start = np.concatenate(([0.0], fpr_end[:-1]))
        fpr = np.concatenate(([0.0], np.column_stack((fpr_start, fpr_end)).ravel()))
        tpr = np.concatenate(([0.0], np.column_stack((tpr_start, tpr_end)).ravel()))
        return _area_up_to(fpr, tpr, self.max_fpr)


def _area_up_to(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """Trapezoid area under (fpr, tpr) from 0 to max_fpr, interpolating linearly at the cut."""
    stop = int(np.searchsorted(fpr, max_fpr, "right"))
    tpr_at_cut = np.interp(max_fpr, fpr[stop - 1 : stop + 1], tpr[stop - 1 : stop + 1])
    return float(auc(np.append(fpr[:stop], max_fpr), np.append(tpr[:stop], tpr_at_cut)))


def _patient_weights(rng: np.random.Generator, n_patients: int, curve: _SortedCurve, n_boot: int):
    """Yield `n_boot` patient-weight vectors (draw counts) whose resample has both classes."""
    made = failed = 0
    while made < n_boot:
        weight = np.bincount(rng.integers(0, n_patients, n_patients), minlength=n_patients)
        if curve.has_both_classes(weight):
            made += 1
            yield weight
        else:
            failed += 1
            if failed > _MAX_REDRAWS_PER_BOOT * n_boot:
                raise ValueError(
                    f"patient bootstrap: {failed} resamples lacked a malignant or a benign row; "
                    "too few patients with malignant lesions for a patient bootstrap"
                )


def _checked(y_true, y_score, need_both: bool = True) -> tuple[np.ndarray, np.ndarray]:
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


def _codes_for(patient_ids, n_rows: int) -> tuple[np.ndarray, int]:
    codes, n_patients = patient_codes(patient_ids)
    if codes.size != n_rows:
        raise ValueError(f"patient_ids has {codes.size} values but y_true has {n_rows}")
    return codes, n_patients
