"""Everything a run hands to the run folder, as one object: the chain (`models.run`) builds
it, `write_run` turns it into files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from features.build import FeatureSpec
from models.blend import RunEnsemble
from models.boosters import Matrix
from models.config import Config
from models.cv import CVResult
from models.image_inputs import ImageScores


@dataclass
class RunResult:
    config: Config  # as trained (imposed folds can change cv.folds)
    inputs: dict[str, Any]  # where the data came from: files and hashes, or the generator
    cluster: str | None  # the Dask scheduler the fits ran on, if any
    spec: FeatureSpec  # what predicting needs to rebuild the features
    feature_names: list[str]
    categorical: list[str]
    rows: pl.DataFrame  # isic_id, patient_id, target of the training rows, in model order
    cv: CVResult
    ensemble: RunEnsemble
    metrics: dict[str, Any]  # metrics.json, but for the run's seconds
    started: float  # time.perf_counter() when the run began: seconds cover writing too
    test: pl.DataFrame | None = None  # the test file to score, if any
    sample_ids: pl.Series | None = None  # sample_submission.csv's order, if any
    image_scores: ImageScores | None = None  # image-model scores the features were built with
    # The training rows as model inputs, in `rows`' order: an additive run's curves are
    # centred on each fold model's training rows (`models.additive`).
    x: Matrix | None = None


@dataclass
class FinishedRun:
    run_dir: Path
    metrics: dict[str, Any]
