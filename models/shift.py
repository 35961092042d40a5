"""Train versus test shift: can a classifier tell a training lesion from a test (or cohort)
lesion? A small LightGBM, cross-validated over patient-grouped folds (a patient's lesions share
its patient features, so a row-wise split would let it recognise patients instead of a shift),
gives an AUC near 0.5 when the two sides look alike, and its gain importance names the features
that tell them apart. Each feature's two-sample Kolmogorov-Smirnov statistic says the same one
column at a time.

Each side is a seeded sample (`shift_sample`): whole patients first (a lesion's patient features
need all its patient's lesions), then lesions drawn from them. The feature report's data section
and `evaluate`'s cohort shift both run it."""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import polars as pl
from scipy.stats import ks_2samp
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedGroupKFold

from features.build import FeatureSpec, build_features
from models.boosters import Matrix

# Fewer test rows or patients than this make no shift test (the real public test file has 3
# rows). With a handful of patients a side, patient-grouped folds score patients the classifier
# never saw, and chance alone moves the AUC far from 0.5 either way.
MIN_ROWS = 200
MIN_PATIENTS = 50
# Per side: lesions drawn from this many whole patients (the classifier is scored on patients it
# never saw, so it needs many of them).
SHIFT_PATIENTS = 300
SHIFT_ROWS = 10_000
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


def too_small(n_rows: int, n_patients: int, what: str = "the test file") -> str | None:
    """Why `what` (a test file, a cohort) is too small for a shift test, or None."""
    if n_rows < MIN_ROWS or n_patients < MIN_PATIENTS:
        return (
            f"{what} has {n_rows:,} rows of {n_patients:,} patients; a train-versus-test "
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


def shift_sample(frame: pl.DataFrame, seed: int, spec: FeatureSpec | None = None) -> pl.DataFrame:
    """One side of the shift test: the rows of up to SHIFT_PATIENTS whole patients of `frame`
    drawn at random, their features built under `spec` when given (`frame` is then raw
    metadata; without it, already built), and up to SHIFT_ROWS of their lesions."""
    chosen = frame[patient_sample(frame["patient_id"], SHIFT_PATIENTS, seed)]
    if spec is not None:
        chosen = build_features(chosen, spec).frame
    return chosen[row_sample(chosen.height, SHIFT_ROWS, seed)]


def patient_sample(patient_ids: pl.Series, max_patients: int, seed: int) -> np.ndarray:
    """Sorted row indices of `max_patients` whole patients drawn at random (every row when
    there are no more patients than that)."""
    # Sorted first: unique()'s own order is not deterministic.
    patients = patient_ids.unique().sort()
    if patients.len() <= max_patients:
        return np.arange(patient_ids.len())
    chosen = patients.gather(
        np.random.default_rng(seed).choice(patients.len(), max_patients, replace=False)
    )
    return np.flatnonzero(patient_ids.is_in(chosen.implode()).to_numpy())


def row_sample(n_rows: int, max_rows: int, seed: int) -> np.ndarray:
    """Sorted indices of `max_rows` rows drawn without replacement; every row when fewer."""
    if n_rows <= max_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, max_rows, replace=False))


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
