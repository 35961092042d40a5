"""Early stopping on the ISIC score, shared by the adapters: the score of the inner validation
rows every k rounds, and the kept round chosen on its smoothed curve."""

from __future__ import annotations

import numpy as np

from models.boosters.protocol import FitSettings
from models.evaluation import isic_pauc


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
