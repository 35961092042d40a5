"""One small protocol over LightGBM, XGBoost and CatBoost, so cross-validation never branches
on the library: the feature matrix every adapter reads, the fit settings they share, and what
a booster and a fitted model must offer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl


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
    smoothing_rounds: int
    threads: int
    # "cpu" or "cuda" (`[training] device`); each adapter turns it into its library's switch.
    device: str = "cpu"


class Fitted(Protocol):
    # Boosting rounds kept. After early stopping it is the choice for a refit, which the
    # bounds may put beyond the trees actually grown; prediction then uses them all.
    rounds: int

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
