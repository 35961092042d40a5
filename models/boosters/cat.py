"""CatBoost adapter: categories as strings with `cat_features` (a null becomes its own level,
since CatBoost rejects nulls there), native `.cbm` model files.

On the GPU (`device = "cuda"`, CatBoost's `task_type = "GPU"`) CatBoost accepts no Python
evaluation metric, so early stopping cannot call the ISIC score while boosting. There the model
boosts `max_rounds` rounds, and the ISIC score of the inner validation rows is computed
afterwards on staged predictions every `eval_every` rounds; the curve is cut where CatBoost's
own patience would have stopped, and the kept round is chosen on it as on the CPU."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from catboost import CatBoost, Pool

from models.boosters.early_stopping import EveryKScore, choose_rounds, until_patience_runs_out
from models.boosters.protocol import FitSettings, Matrix
from models.evaluation import isic_pauc

MISSING_LEVEL = "<missing>"
FIXED_PARAMS = {
    "loss_function": "Logloss",
    "verbose": False,
    "allow_writing_files": False,
    "bootstrap_type": "Bernoulli",
}

# What `tune` draws from (see models/boosters/lgbm.py), around the public recipe's values.
SEARCH_SPACE = {
    "learning_rate": {"low": 0.01, "high": 0.2, "log": True},
    "depth": {"low": 4, "high": 8},
    "l2_leaf_reg": {"low": 1.0, "high": 20.0, "log": True},
    "subsample": {"low": 0.4, "high": 1.0},
    "scale_pos_weight": {"low": 1.0, "high": 5.0},
}


def to_pool(x: Matrix) -> Pool:
    frame = x.frame.select(
        pl.col(name).cast(pl.String).fill_null(MISSING_LEVEL)
        if name in x.categorical
        else pl.col(name)
        for name in x.names
    )
    return Pool(frame, label=x.y, cat_features=x.categorical)


@dataclass
class CatModel:
    model: CatBoost
    rounds: int

    def predict(self, x: Matrix) -> np.ndarray:
        return self.predict_prepared(to_pool(x))

    def predict_prepared(self, data: Pool) -> np.ndarray:
        trees = min(self.rounds, self.model.tree_count_)
        return self.model.predict(data, prediction_type="Probability", ntree_end=trees)[:, 1]

    def to_bytes(self) -> bytes:
        # CatBoost writes its model files only to disk: through a temporary folder.
        with tempfile.TemporaryDirectory(prefix="tbp-model-") as folder:
            return self.save(Path(folder) / "model.cbm").read_bytes()

    def save(self, path: Path) -> Path:
        model = self.model.copy()
        model.shrink(ntree_end=min(self.rounds, model.tree_count_))
        model.save_model(str(path), format="cbm")
        return path


def train_params(params: dict[str, Any], seed: int, settings: FitSettings) -> dict[str, Any]:
    full = {
        **params,
        **FIXED_PARAMS,
        "random_seed": seed,
        "thread_count": settings.threads,
        "iterations": settings.max_rounds,
    }
    if settings.device == "cuda":
        full["task_type"] = "GPU"
    return full


def fit_staged(
    full: dict[str, Any], train: Matrix, valid: Matrix, settings: FitSettings
) -> CatModel:
    """Early stopping without a metric hook (the GPU path, see the module docstring): boost
    every round, then score staged predictions of the inner validation rows every k rounds."""
    model = CatBoost(full).fit(to_pool(train))
    k = max(1, settings.eval_every)
    pool = to_pool(valid)
    y = np.asarray(valid.y)
    rounds, values = [], []
    staged = model.staged_predict(pool, prediction_type="RawFormulaVal", eval_period=k)
    for index, raw in enumerate(staged):
        rounds.append(min((index + 1) * k, model.tree_count_))
        values.append(isic_pauc(y, np.asarray(raw)))
    rounds, values = until_patience_runs_out(rounds, values, settings.early_stopping_rounds)
    return CatModel(model, choose_rounds(rounds, values, k, settings))


class _IsicMetric:
    """CatBoost's evaluation hook for the ISIC score (computed every `metric_period` rounds)."""

    def __init__(self, score: EveryKScore):
        self.score = score

    def is_max_optimal(self) -> bool:
        return True

    def get_final_error(self, error: float, weight: float) -> float:
        return error

    def evaluate(self, approxes, target, weight) -> tuple[float, float]:
        labels = np.asarray(target)
        if labels.size != self.score.y.size:  # CatBoost also scores the learn set; skip it
            return 0.0, 1.0
        return self.score(np.asarray(approxes[0])), 1.0


class Cat:
    name = "cat"
    suffix = ".cbm"

    def fit(
        self,
        train: Matrix,
        valid: Matrix | None,
        params: dict[str, Any],
        seed: int,
        settings: FitSettings,
    ) -> CatModel:
        full = train_params(params, seed, settings)
        if valid is None:
            model = CatBoost(full).fit(to_pool(train))
            return CatModel(model, settings.max_rounds)
        if full.get("task_type") == "GPU":
            return fit_staged(full, train, valid, settings)
        # With early stopping on, CatBoost calls the metric every round whatever metric_period
        # says (and warns when it is set), so the score itself skips rounds.
        score = EveryKScore(valid.y, settings.eval_every)
        metric = _IsicMetric(score)
        model = CatBoost(
            {
                **full,
                "eval_metric": metric,
                "early_stopping_rounds": settings.early_stopping_rounds,
                "use_best_model": False,
            }
        )
        model.fit(to_pool(train), eval_set=to_pool(valid))
        # CatBoost copies the metric object, so its curve is read back from the model.
        every_round = model.get_evals_result()["validation"][type(metric).__name__]
        rounds, values = score.evaluated(every_round)
        return CatModel(model, choose_rounds(rounds, values, score.k, settings))

    def load(self, path: Path) -> CatModel:
        model = CatBoost()
        model.load_model(str(path), format="cbm")
        return CatModel(model, model.tree_count_)

    def prepare(self, x: Matrix) -> Pool:
        return to_pool(x)
