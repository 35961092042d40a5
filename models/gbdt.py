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


class EveryKScore:
    """The ISIC score of the inner validation rows, computed every `k` rounds and repeated in
    between: a stale value never counts as an improvement, so the library's early stopping
    still measures its patience in rounds while the score is computed k times less often.

    It also records the curve, so the kept round can be chosen on a smoothed curve: with a few
    dozen positives in the inner split the raw curve is flat and noisy, and its single highest
    point lands almost anywhere on the plateau."""

    def __init__(self, y: np.ndarray, k: int):
        self.y = np.asarray(y)
        self.k = max(1, k)
        self.calls = 0
        self.last = -np.inf
        self.rounds: list[int] = []
        self.values: list[float] = []

    def __call__(self, scores: np.ndarray) -> float:
        if self.calls % self.k == 0:
            self.last = isic_pauc(self.y, scores)
            self.rounds.append(self.calls + 1)
            self.values.append(self.last)
        self.calls += 1
        return self.last

    def best_rounds(self, settings: FitSettings) -> int:
        return choose_rounds(self.rounds, self.values, self.k, settings)

    def evaluated(self, every_round: list[float]) -> tuple[list[int], list[float]]:
        """The points where a score was computed, from a library's per-round record of it."""
        rounds = list(range(1, len(every_round) + 1, self.k))
        return rounds, [every_round[r - 1] for r in rounds]


def choose_rounds(rounds: list[int], values: list[float], k: int, settings: FitSettings) -> int:
    """The round where the score curve, smoothed over `settings.smoothing_rounds`, peaks,
    clamped to [min_rounds, max_rounds]."""
    if not values:
        return settings.min_rounds
    width = min(len(values), max(1, settings.smoothing_rounds // max(1, k)))
    smoothed = _moving_average(np.asarray(values, dtype=float), width)
    return clamp_rounds(rounds[int(np.argmax(smoothed))], settings)


def until_patience_runs_out(
    rounds: list[int], values: list[float], patience: int
) -> tuple[list[int], list[float]]:
    """The part of a score curve that a library's early stopping would have seen: up to the
    first point `patience` rounds past the best one. For a curve recorded after the fact
    (CatBoost on the GPU, which takes no Python metric)."""
    best_round, best = 0, -np.inf
    for index, (round_, value) in enumerate(zip(rounds, values, strict=True)):
        if value > best:
            best_round, best = round_, value
        elif round_ - best_round >= patience:
            return rounds[: index + 1], values[: index + 1]
    return list(rounds), list(values)


def clamp_rounds(rounds: int, settings: FitSettings) -> int:
    return int(min(settings.max_rounds, max(rounds, settings.min_rounds)))


def _moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average that shrinks its window at the ends (no padding bias)."""
    kernel = np.ones(width)
    total = np.convolve(values, kernel, mode="same")
    count = np.convolve(np.ones_like(values), kernel, mode="same")
    return total / count
