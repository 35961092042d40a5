"""XGBoost adapter: Polars frames with `pl.Enum` columns and `enable_categorical`, UBJSON model
files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from models.gbdt import EveryKScore, FitSettings, Matrix

FIXED_PARAMS = {
    "objective": "binary:logistic",
    "tree_method": "hist",
    "disable_default_eval_metric": 1,
    "verbosity": 0,
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
        matrix = xgb.DMatrix(x.frame.select(x.names), enable_categorical=True)
        trees = min(self.rounds, self.booster.num_boosted_rounds())
        return self.booster.predict(matrix, iteration_range=(0, trees))

    def save(self, path: Path) -> Path:
        self.booster[: min(self.rounds, self.booster.num_boosted_rounds())].save_model(str(path))
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

        def isic(preds: np.ndarray, _data: xgb.DMatrix) -> tuple[str, float]:
            return "isic_pauc", score(preds)

        booster = xgb.train(
            full,
            dtrain,
            num_boost_round=settings.max_rounds,
            # A plain DMatrix keeps XGBoost's prediction cache: a QuantileDMatrix here
            # re-predicts every tree each round (three times slower).
            evals=[
                (
                    xgb.DMatrix(
                        valid.frame.select(valid.names), label=valid.y, enable_categorical=True
                    ),
                    "inner",
                )
            ],
            custom_metric=isic,
            maximize=True,
            early_stopping_rounds=settings.early_stopping_rounds,
            verbose_eval=False,
        )
        return XgbModel(booster, score.best_rounds(settings))

    def load(self, path: Path) -> XgbModel:
        booster = xgb.Booster(model_file=str(path))
        return XgbModel(booster, booster.num_boosted_rounds())


def _dmatrix(x: Matrix, max_bin: int) -> xgb.QuantileDMatrix:
    # The quantile sketch must use the booster's own bin count.
    return xgb.QuantileDMatrix(
        x.frame.select(x.names), label=x.y, enable_categorical=True, max_bin=max_bin
    )
