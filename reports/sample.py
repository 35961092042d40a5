"""Samples the report draws where the full data would make a plot or a fit too slow for a
page built in under a minute: every malignant lesion and some benign ones, or plain rows
(`models.shift.row_sample`, which also draws the shift test's whole patients). Each is seeded,
and each section says on the page what it sampled."""

from __future__ import annotations

import numpy as np

# Out-of-fold lesions whose SHAP contributions give the mean |SHAP| chart.
SHAP_ROWS = 1_000
# Benign lesions (with every malignant one) behind each feature's distribution plot.
DISTRIBUTION_BENIGN = 50_000
# Patient-bootstrap resamples behind each group's interval.
GROUP_BOOTSTRAP = 200


def class_sample(y: np.ndarray, max_benign: int, seed: int) -> np.ndarray:
    """Sorted indices of every malignant row and at most `max_benign` benign rows at random."""
    benign = np.flatnonzero(y == 0)
    if benign.size > max_benign:
        benign = np.random.default_rng(seed).choice(benign, max_benign, replace=False)
    return np.sort(np.concatenate([np.flatnonzero(y == 1), benign]))


def sampled_note(what: str, taken: int, total: int, unit: str = "lesions") -> str | None:
    """The page's line about a sample, or None when everything was used."""
    if taken >= total:
        return None
    return f"{what}: {taken:,} of {total:,} {unit}, drawn at random."
