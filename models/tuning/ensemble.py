"""`tune --model all`, after the libraries: is a weighted rank ensemble of the tuned libraries
better than their plain rank mean? Weights are chosen inside the folds (each fold's rows
combined with weights searched on the other folds, as `[ensemble] method = "weighted_rank"`
does in a run), so the comparison is honest; the weighted ensemble is chosen only when it beats
the rank mean beyond noise (the paired patient-bootstrap interval above zero)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.blend import fold_honest_weighted_rank, percentile_against, rank_mean, search_weights
from models.evaluation import isic_pauc, paired_bootstrap_diff


@dataclass(frozen=True)
class EnsembleChoice:
    method: str  # "rank_mean" or "weighted_rank"
    rank_mean_pauc: float
    weighted_pauc: float  # fold-honest
    difference: tuple[float, float, float]  # weighted minus rank mean, low, high
    weights: dict[str, float]  # searched on every row: what a run would use for test lesions

    def line(self) -> str:
        d, low, high = self.difference
        weights = ", ".join(f"{k} {v:.2f}" for k, v in self.weights.items())
        return (
            f"ensemble: {self.method} (weighted rank {self.weighted_pauc:.4f} with weights "
            f"chosen inside the folds, rank mean {self.rank_mean_pauc:.4f}, difference "
            f"{d:+.4f} [{low:+.4f}, {high:+.4f}]; weights on all rows: {weights})"
        )


def choose_ensemble(
    oof: dict[str, np.ndarray],
    y: np.ndarray,
    fold_of_row: np.ndarray,
    patient_ids: np.ndarray,
    *,
    bootstrap_samples: int,
    seed: int,
) -> EnsembleChoice:
    """`oof`: each tuned library's out-of-fold scores on the study's folds."""
    ranks = {name: percentile_against(values, values) for name, values in oof.items()}
    plain = rank_mean(oof, oof)
    weighted, _ = fold_honest_weighted_rank(ranks, y, fold_of_row)
    difference = paired_bootstrap_diff(
        y, weighted, plain, patient_ids, n_boot=bootstrap_samples, seed=seed
    )
    return EnsembleChoice(
        method="weighted_rank" if difference[1] > 0 else "rank_mean",
        rank_mean_pauc=isic_pauc(y, plain),
        weighted_pauc=isic_pauc(y, weighted),
        difference=difference,
        weights=search_weights(ranks, y),
    )
