"""Ensembles of model scores. The default is the mean of percentile ranks, each taken against
that model's stored out-of-fold scores, so a test lesion's ensemble score does not depend on
which other lesions share its file."""

from __future__ import annotations

import numpy as np


def percentile_against(reference: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Share of `reference` scores at or below each score, in [0, 1]."""
    ordered = np.sort(np.asarray(reference, dtype=np.float64))
    return (
        np.searchsorted(ordered, np.asarray(scores, dtype=np.float64), side="right") / ordered.size
    )


def rank_mean(scores: dict[str, np.ndarray], references: dict[str, np.ndarray]) -> np.ndarray:
    """Mean over models of each model's percentile rank against its reference scores."""
    ranks = [percentile_against(references[name], values) for name, values in scores.items()]
    return np.mean(ranks, axis=0)
