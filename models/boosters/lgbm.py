"""LightGBM adapter: integer category codes with `categorical_feature` (LightGBM aborts the
process on Arrow dictionary columns, so it reads `Matrix.codes`), native text model files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from models.boosters.device import lgbm_device
from models.boosters.early_stopping import EveryKScore
from models.boosters.protocol import FitSettings, Matrix

FIXED_PARAMS = {
    "objective": "binary",
    "metric": "None",
    "verbosity": -1,
    "deterministic": True,
    "force_row_wise": True,
}

# What `tune` draws from (models.tuning reads it; `tune --space FILE.toml` overrides entries):
# TOML-shaped ranges, ints where both ends are ints, around the public recipe's values.
SEARCH_SPACE = {
    "learning_rate": {"low": 0.01, "high": 0.1, "log": True},
    "num_leaves": {"low": 16, "high": 256, "log": True},
    "max_depth": {"low": 3, "high": 8},
    "min_data_in_leaf": {"low": 20, "high": 200, "log": True},
    "bagging_fraction": {"low": 0.5, "high": 1.0},
    "feature_fraction": {"low": 0.4, "high": 1.0},
    "feature_fraction_bynode": {"low": 0.3, "high": 1.0},
    "lambda_l1": {"low": 0.001, "high": 10.0, "log": True},
    "lambda_l2": {"low": 0.001, "high": 10.0, "log": True},
    "scale_pos_weight": {"low": 1.0, "high": 5.0},
}


def train_params(params: dict[str, Any], seed: int, settings: FitSettings) -> dict[str, Any]:
    full = {**params, **FIXED_PARAMS, "seed": seed, "num_threads": settings.threads}
    if lgbm_device(settings.device) == "cuda":
        full["device_type"] = "cuda"
    return full


@dataclass
class LgbmModel:
    booster: lgb.Booster
    rounds: int

    def predict(self, x: Matrix) -> np.ndarray:
        return self.predict_prepared(x.codes)

    def predict_prepared(self, data: np.ndarray) -> np.ndarray:
        return self.booster.predict(data, num_iteration=self.rounds)

    def log_odds(self, data: np.ndarray) -> np.ndarray:
        """The raw score (log-odds, before the logistic) of `data`'s rows: what an additive
        run's curves add up to."""
        return self.booster.predict(data, num_iteration=self.rounds, raw_score=True)

    def to_bytes(self) -> bytes:
        # In memory: the same bytes as `save_model`, with no temporary file to fail on.
        return self.booster.model_to_string(num_iteration=self.rounds).encode()

    def save(self, path: Path) -> Path:
        path.write_bytes(self.to_bytes())
        return path


class Lgbm:
    name = "lgbm"
    suffix = ".txt"

    def fit(
        self,
        train: Matrix,
        valid: Matrix | None,
        params: dict[str, Any],
        seed: int,
        settings: FitSettings,
    ) -> LgbmModel:
        full = train_params(params, seed, settings)
        dataset = self._dataset(train)
        if valid is None:
            booster = lgb.train(full, dataset, num_boost_round=settings.max_rounds)
            return LgbmModel(booster, settings.max_rounds)
        score = EveryKScore(valid.y, settings.eval_every)

        def isic(preds: np.ndarray, _data: lgb.Dataset) -> tuple[str, float, bool]:
            return "isic_pauc", score(preds), True

        booster = lgb.train(
            full,
            dataset,
            num_boost_round=settings.max_rounds,
            valid_sets=[self._dataset(valid, reference=dataset)],
            feval=isic,
            callbacks=[lgb.early_stopping(settings.early_stopping_rounds, verbose=False)],
            # Keep every tree: the kept round comes from the smoothed curve, not LightGBM's pick.
            keep_training_booster=True,
        )
        return LgbmModel(booster, score.best_rounds(settings))

    def load(self, path: Path) -> LgbmModel:
        booster = lgb.Booster(model_file=str(path))
        return LgbmModel(booster, booster.current_iteration())

    def prepare(self, x: Matrix) -> np.ndarray:
        return x.codes

    @staticmethod
    def _dataset(x: Matrix, reference: lgb.Dataset | None = None) -> lgb.Dataset:
        return lgb.Dataset(
            x.codes,
            label=x.y,
            feature_name=x.names,
            categorical_feature=x.categorical,
            reference=reference,
            free_raw_data=True,
        )
