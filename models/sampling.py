"""Seeds and sampling of training rows. Every random choice derives from the config's one seed."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def derive_seed(*keys: int) -> int:
    """A 31-bit seed for one task (for example: base seed, repeat, fold, model), stable across
    runs and distinct between tasks."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0] >> 1)


def undersample_negatives(y: np.ndarray, negatives_per_positive: float, seed: int) -> np.ndarray:
    """Row indices keeping every positive and a random subset of negatives, at most
    `negatives_per_positive` per positive (0 keeps everything). Indices come back sorted."""
    y = np.asarray(y)
    positives = np.flatnonzero(y == 1)
    negatives = np.flatnonzero(y == 0)
    wanted = int(round(negatives_per_positive * positives.size))
    if negatives_per_positive <= 0 or negatives.size <= wanted:
        if negatives_per_positive > 0:
            log.info(
                "no under-sampling: %d negatives, fewer than the %g per positive asked (%d)",
                negatives.size,
                negatives_per_positive,
                wanted,
            )
        return np.arange(y.size)
    rng = np.random.default_rng(seed)
    kept = rng.choice(negatives, size=wanted, replace=False)
    return np.sort(np.concatenate([positives, kept]))
