"""What a cross-validation trains on: the train frame's features as a `Matrix`, its patients,
and imposed folds (a `--folds-file`) put in the built frame's row order. `train_gbdt`'s chain
and `tune`'s trials both start here, so a study tunes on exactly what a run trains on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features.build import Built, FeatureSpec, build_features, fit_spec
from models.boosters import Matrix
from models.config import Config
from models.cv.folds import read_folds_file, repeated_patient_folds
from models.cv.tasks import split_seeds


@dataclass
class TrainingData:
    spec: FeatureSpec
    built: Built
    x: Matrix
    patient_ids: np.ndarray
    imposed: np.ndarray | None  # (repeats, rows) folds from a file, in the built frame's order

    @property
    def y(self) -> np.ndarray:
        return np.asarray(self.x.y)

    def folds(self, config: Config) -> np.ndarray:
        """The imposed folds, else the config's seeded patient-grouped split (repeats, rows)."""
        if self.imposed is not None:
            return self.imposed
        seeds = split_seeds(config)
        return repeated_patient_folds(self.patient_ids, self.y, config.cv.folds, seeds)


def training_data(
    train: pl.DataFrame, config: Config, folds_file: Path | None = None
) -> TrainingData:
    """Features of `train` by `config.features`, with the folds of `folds_file` when given (a
    bad file is a user error raised before the features are built)."""
    imposed = None
    if folds_file is not None:
        imposed = read_folds_file(folds_file, train["patient_id"], config.cv.repeats)
    spec = fit_spec(train, config.features.families, config.features.categoricals)
    built = build_features(train, spec)
    y = built.frame["target"].to_numpy().astype(np.int8)
    if imposed is not None:
        imposed = imposed[:, row_order(train, built.frame)]
    x = Matrix(built.frame, built.names, built.categorical, y)
    return TrainingData(spec, built, x, built.frame["patient_id"].to_numpy(), imposed)


def row_order(raw: pl.DataFrame, built: pl.DataFrame) -> np.ndarray:
    """Positions in `raw` of `built`'s rows, by isic_id (the builders may reorder rows)."""
    index = raw.select("isic_id").with_row_index("position")
    joined = built.select("isic_id").join(index, on="isic_id", how="left", maintain_order="left")
    return joined["position"].to_numpy()
