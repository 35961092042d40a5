"""Scoring new lesions with a run's fold models, in batches of whole patients.

A lesion's features depend only on its own patient's lesions and on what the run stored, so a
batch of whole patients scores exactly as the whole file would, and the batch size bounds the
memory that features and model inputs take, whatever the file's size and row order. Within a
batch each library's input (`Booster.prepare`) is built once and shared by all its models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from features.build import FeatureSpec, build_features
from features.encode import warn_unseen
from models.boosters import Fitted, Matrix, booster
from models.cv import log_odds
from models.evaluation import patient_codes
from models.progress import progress


@dataclass
class LoadedModel:
    name: str
    repeat: int
    fold: int
    fitted: Fitted
    bag: int = 0


def patient_batches(patient_ids: pl.Series, batch_rows: int) -> list[np.ndarray]:
    """Row indices of each batch, in file order within it: whole patients, a batch closing
    once it holds `batch_rows` rows or more (a patient larger than that is a batch alone)."""
    codes, n_patients = patient_codes(patient_ids)
    sizes = np.bincount(codes, minlength=n_patients)
    starts = np.cumsum(sizes) - sizes  # rows before each patient, patients in id order
    _, batch_of_patient = np.unique(starts // max(1, batch_rows), return_inverse=True)
    batch_of_row = batch_of_patient[codes]
    order = np.argsort(batch_of_row, kind="stable")
    bounds = np.cumsum(np.bincount(batch_of_row))[:-1]
    return np.split(order, bounds)


def fold_model_means(
    frame: pl.DataFrame,
    spec: FeatureSpec,
    feature_names: list[str],
    categorical: list[str],
    models: list[LoadedModel],
    batch_rows: int,
    raw: bool = False,
) -> dict[str, np.ndarray]:
    """Library -> (repeats, rows): the mean probability of each CV repeat's fold models for
    every row of `frame`, in its row order; with `raw` (an additive run) their mean log-odds
    (LightGBM's raw score)."""
    names = list(dict.fromkeys(m.name for m in models))
    repeats = {n: sorted({m.repeat for m in models if m.name == n}) for n in names}
    out: dict[str, np.ndarray] = {}
    # Once for the whole frame, not per batch: one line per unseen level, with its full count.
    warn_unseen(frame, {name: spec.levels[name] for name in spec.categoricals})
    batches = patient_batches(frame["patient_id"], batch_rows)
    with progress(len(batches), "scoring") as bar:
        for rows in batches:
            built = build_features(frame[rows], spec)
            x = Matrix(built.frame, feature_names, categorical)
            for name in names:
                data = booster(name).prepare(x)
                for index, r in enumerate(repeats[name]):
                    fold_models = [m for m in models if (m.name, m.repeat) == (name, r)]
                    predictions = [
                        log_odds(m.fitted, data) if raw else m.fitted.predict_prepared(data)
                        for m in fold_models
                    ]
                    mean = np.mean(predictions, axis=0)
                    if name not in out:  # in the library's own dtype (XGBoost's is float32)
                        out[name] = np.empty((len(repeats[name]), frame.height), mean.dtype)
                    out[name][index, rows] = mean
                del data
            bar.step(f"{rows.size} lesions")
    return out
