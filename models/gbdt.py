"""One small protocol over LightGBM, XGBoost and CatBoost, so `cv.py` never branches on the
library, and the shared pieces every adapter uses: the feature matrix and the early-stopping
score."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl

from models.metric import isic_pauc


@dataclass(frozen=True)
class Matrix:
    """Model inputs: a feature frame (numeric Float32 and pl.Enum columns) and its labels."""

    frame: pl.DataFrame
    names: list[str]
    categorical: list[str]
    y: np.ndarray | None = None

    def take(self, rows: np.ndarray) -> Matrix:
        y = None if self.y is None else self.y[rows]
        return Matrix(self.frame[rows], self.names, self.categorical, y)

    @property
    def numeric(self) -> list[str]:
        return [n for n in self.names if n not in self.categorical]


@dataclass(frozen=True)
class FitSettings:
    """How long to boost and how to stop, shared by every library."""

    max_rounds: int
    early_stopping_rounds: int
    min_rounds: int
    eval_every: int
    threads: int


class Fitted(Protocol):
    rounds: int  # boosting rounds used at prediction time

    def predict(self, x: Matrix) -> np.ndarray: ...

    def save(self, path: Path) -> Path: ...


class Booster(Protocol):
    name: str
    suffix: str  # the native model file suffix

    def fit(
        self,
        train: Matrix,
        valid: Matrix | None,
        params: dict[str, Any],
        seed: int,
        settings: FitSettings,
    ) -> Fitted:
        """Fit on `train`. With `valid`, stop early on its ISIC score and keep the best round
        (at least `min_rounds`); without it, boost exactly `settings.max_rounds` rounds."""
        ...

    def load(self, path: Path) -> Fitted: ...


class EveryKScore:
    """The ISIC score of the inner validation rows, computed every `k` rounds and repeated in
    between: a stale value never counts as an improvement, so early stopping still measures
    its patience in rounds while the score is computed k times less often."""

    def __init__(self, y: np.ndarray, k: int):
        self.y = np.asarray(y)
        self.k = max(1, k)
        self.calls = 0
        self.last = -np.inf

    def __call__(self, scores: np.ndarray) -> float:
        if self.calls % self.k == 0:
            self.last = isic_pauc(self.y, scores)
        self.calls += 1
        return self.last


def best_rounds(best_iteration: int, settings: FitSettings) -> int:
    """Rounds to keep: the early-stopping choice, never fewer than the configured floor."""
    return int(min(settings.max_rounds, max(best_iteration, settings.min_rounds)))
