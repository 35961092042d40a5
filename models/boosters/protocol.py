"""One small protocol over LightGBM, XGBoost and CatBoost, so cross-validation never branches
on the library: the feature matrix every adapter reads, the fit settings they share, and what
a booster and a fitted model must offer."""

from __future__ import annotations

import functools
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

    @functools.cached_property
    def codes(self) -> np.ndarray:
        """Features as one float32 matrix, categories as their Enum codes and nulls as NaN,
        row-major: trees are walked one row at a time, and reading a column-major matrix row
        by row misses the cache on every feature. Built once per matrix: LightGBM and XGBoost
        both read it."""
        return self.frame.select(
            pl.col(n).to_physical().cast(pl.Float32) if n in self.categorical else pl.col(n)
            for n in self.names
        ).to_numpy(order="c")


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

    def predict_prepared(self, data: Any) -> np.ndarray:
        """`predict` on what `Booster.prepare` built: many models of one library score the
        same rows from one input."""
        ...

    def to_bytes(self) -> bytes:
        """The native model file (`Booster.suffix`) of the kept rounds, as bytes."""
        ...

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

    def prepare(self, x: Matrix) -> Any:
        """The library's own input for `x`'s rows, in the layout it reads without a copy."""
        ...
