"""Train versus test shift: can a classifier tell a training lesion from a test lesion? A small
LightGBM, cross-validated over patient-grouped folds (a patient's lesions share its patient
features, so a row-wise split would let it recognise patients instead of a shift), gives an
AUC near 0.5 when the two sides look alike, and its gain importance names the features that
tell them apart. Each feature's two-sample Kolmogorov-Smirnov statistic says the same one
column at a time."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from models.boosters import Matrix

# Fewer test rows or patients than this make no shift test (the real public test file has 3
# rows). With a handful of patients a side, patient-grouped folds score patients the classifier
# never saw, and chance alone moves the AUC far from 0.5 either way.
MIN_ROWS = 200
MIN_PATIENTS = 50
FOLDS = 3
_CLASSIFIER = {
    "n_estimators": 60,
    "max_bin": 63,
    "learning_rate": 0.1,
    "num_leaves": 15,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.5,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
    # One thread: a small fit gains little from more, and OpenMP threads that wait for a busy
    # core (other jobs on a 2-core machine) made it 50 times slower.
    "n_jobs": 1,
}


@dataclass(frozen=True)
class ShiftResult:
    auc: float  # patient-grouped cross-validated AUC of train-versus-test
    n_train: int
    n_test: int
    importance: list[tuple[str, float]]  # feature, share of the classifier's gain, largest first
    ks: list[tuple[str, float, float, float]]  # feature, KS statistic, train and test median


def too_small(n_rows: int, n_patients: int) -> str | None:
    """Why a test file is too small for a shift test, or None."""
    if n_rows < MIN_ROWS or n_patients < MIN_PATIENTS:
        return (
            f"the test file has {n_rows:,} rows of {n_patients:,} patients; a train-versus-test "
            f"shift test needs at least {MIN_ROWS} rows of {MIN_PATIENTS} patients"
        )
    return None


def shift_test(
    train: Matrix, train_patients: np.ndarray, test: Matrix, test_patients: np.ndarray, seed: int
) -> ShiftResult:
    """Train rows against test rows (the same feature columns); patients never span both."""
    x = np.vstack([train.codes, test.codes])
    side = np.concatenate([np.zeros(train.frame.height), np.ones(test.frame.height)])
    groups = np.concatenate([train_patients, test_patients])
    fit_params = {
        "categorical_feature": [train.names.index(n) for n in train.categorical],
        "feature_name": train.names,
    }
    predicted = np.empty(side.size)
    gain = np.zeros(len(train.names))
    # Folds keep the two sides' proportions: with plain group folds, a fold rich in test
    # patients is scored by a model that saw few, which drags the AUC below 0.5.
    folds = StratifiedGroupKFold(FOLDS, shuffle=True, random_state=seed)
    # The fold models give both the out-of-fold AUC and the importance (their mean gain).
    for fit_rows, scored in folds.split(x, side, groups):
        model = lgb.LGBMClassifier(**_CLASSIFIER, random_state=seed)
        model.fit(x[fit_rows], side[fit_rows], **fit_params)
        predicted[scored] = model.booster_.predict(x[scored])
        gain += model.booster_.feature_importance("gain")
    shares = gain / gain.sum() if gain.sum() > 0 else gain
    order = np.argsort(-shares, kind="stable")
    return ShiftResult(
        auc=float(roc_auc_score(side, predicted)),
        n_train=train.frame.height,
        n_test=test.frame.height,
        importance=[(train.names[i], float(shares[i])) for i in order if shares[i] > 0],
        ks=_ks(train, test),
    )


def _ks(train: Matrix, test: Matrix) -> list[tuple[str, float, float, float]]:
    """Each numeric feature's KS statistic between the two sides (nulls left out), largest
    first."""
    out = []
    for name in train.numeric:
        a = train.frame[name].drop_nulls().to_numpy()
        b = test.frame[name].drop_nulls().to_numpy()
        if a.size and b.size:
            out.append(
                (
                    name,
                    float(ks_2samp(a, b, method="asymp").statistic),
                    float(np.median(a)),
                    float(np.median(b)),
                )
            )
    return sorted(out, key=lambda row: -row[1])
