"""XGBoost adapter: Polars frames with `pl.Enum` columns and `enable_categorical` to train,
the same categories as codes (`Matrix.codes`) to predict in place; UBJSON model files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from models.boosters.early_stopping import EveryKScore
from models.boosters.protocol import FitSettings, Matrix

FIXED_PARAMS = {
    "objective": "binary:logistic",
    "tree_method": "hist",
    "verbosity": 0,
}

# What `tune` draws from (see models/boosters/lgbm.py), around the public recipe's values.
SEARCH_SPACE = {
    "learning_rate": {"low": 0.01, "high": 0.2, "log": True},
    "max_depth": {"low": 3, "high": 8},
    "min_child_weight": {"low": 1.0, "high": 20.0, "log": True},
    "subsample": {"low": 0.4, "high": 1.0},
    "colsample_bytree": {"low": 0.4, "high": 1.0},
    "colsample_bylevel": {"low": 0.3, "high": 1.0},
    "colsample_bynode": {"low": 0.3, "high": 1.0},
    "reg_lambda": {"low": 0.01, "high": 20.0, "log": True},
    "reg_alpha": {"low": 0.001, "high": 10.0, "log": True},
    "scale_pos_weight": {"low": 1.0, "high": 5.0},
}


def train_params(params: dict[str, Any], seed: int, settings: FitSettings) -> dict[str, Any]:
    full = {**params, **FIXED_PARAMS, "seed": seed, "nthread": settings.threads}
    if settings.device == "cuda":
        full["device"] = "cuda"
    return full


@dataclass
class XgbModel:
    booster: xgb.Booster
    rounds: int

    def predict(self, x: Matrix) -> np.ndarray:
        return self.predict_prepared(x.codes)

    def predict_prepared(self, data: np.ndarray) -> np.ndarray:
        # In place, without a DMatrix: the model knows which features are categorical, and
        # the codes are the Enum's fixed levels it was trained on.
        trees = min(self.rounds, self.booster.num_boosted_rounds())
        return self.booster.inplace_predict(data, iteration_range=(0, trees))

    def to_bytes(self) -> bytes:
        # In memory: the same bytes as `save_model` to a .ubj file, with no temporary file.
        kept = self.booster[: min(self.rounds, self.booster.num_boosted_rounds())]
        return bytes(kept.save_raw(raw_format="ubj"))

    def save(self, path: Path) -> Path:
        path.write_bytes(self.to_bytes())
        return path


class Xgb:
    name = "xgb"
    suffix = ".ubj"

    def fit(
        self,
        train: Matrix,
        valid: Matrix | None,
        params: dict[str, Any],
        seed: int,
        settings: FitSettings,
    ) -> XgbModel:
        full = train_params(params, seed, settings)
        dtrain = _dmatrix(train, max_bin=int(full.get("max_bin", 256)))
        if valid is None:
            booster = xgb.train(full, dtrain, num_boost_round=settings.max_rounds)
            return XgbModel(booster, settings.max_rounds)
        score = EveryKScore(valid.y, settings.eval_every)
        inner = xgb.DMatrix(valid.frame.select(valid.names), enable_categorical=True)
        booster = xgb.train(
            full,
            dtrain,
            num_boost_round=settings.max_rounds,
            callbacks=[_InnerScore(inner, score, settings.early_stopping_rounds)],
        )
        return XgbModel(booster, score.best_rounds(settings))

    def load(self, path: Path) -> XgbModel:
        booster = xgb.Booster(model_file=str(path))
        return XgbModel(booster, booster.num_boosted_rounds())

    def prepare(self, x: Matrix) -> np.ndarray:
        return x.codes


def _dmatrix(x: Matrix, max_bin: int) -> xgb.QuantileDMatrix:
    # The quantile sketch must use the booster's own bin count.
    return xgb.QuantileDMatrix(
        x.frame.select(x.names), label=x.y, enable_categorical=True, max_bin=max_bin
    )


class _InnerScore(xgb.callback.TrainingCallback):
    """Early stopping on the inner split's ISIC score, as XGBoost's own would do it with a
    custom metric (patience in rounds; a round without a new score never improves), but
    cheaper: XGBoost evaluates by predicting the inner rows every round, this predicts each
    tree once, in chunks of the k rounds since the last score, and adds the margins up (each
    chunk carries the base score once: the same shift for every row, which no rank sees)."""

    def __init__(self, inner: xgb.DMatrix, score: EveryKScore, patience: int):
        self.inner, self.score, self.patience = inner, score, patience
        self.margin = np.zeros(inner.num_row())
        self.scored_trees = 0
        self.best, self.best_epoch = -np.inf, 0

    def after_iteration(self, model: xgb.Booster, epoch: int, evals_log: Any) -> bool:
        if epoch % self.score.k == 0:
            self.margin += model.predict(
                self.inner, output_margin=True, iteration_range=(self.scored_trees, epoch + 1)
            )
            self.scored_trees = epoch + 1
        value = self.score(self.margin)  # computed every k rounds, repeated in between
        if value > self.best:
            self.best, self.best_epoch = value, epoch
        return epoch - self.best_epoch >= self.patience
