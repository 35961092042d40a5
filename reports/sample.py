"""Samples the report draws where the full data would make a plot or a fit too slow for a
page built in under a minute: whole patients (so that patient features stay what they are),
or plain rows. Each is seeded, and each section says on the page what it sampled."""

from __future__ import annotations

import numpy as np
import polars as pl

# The train-versus-test shift test, per side: lesions drawn from this many whole patients (the
# classifier is scored on patients it never saw, so it needs many of them).
SHIFT_PATIENTS = 300
SHIFT_ROWS = 10_000
# Out-of-fold lesions whose SHAP contributions give the mean |SHAP| chart.
SHAP_ROWS = 1_000
# Benign lesions (with every malignant one) behind each feature's distribution plot.
DISTRIBUTION_BENIGN = 50_000
# Patient-bootstrap resamples behind each group's interval.
GROUP_BOOTSTRAP = 200


def patient_sample(patient_ids: pl.Series, max_patients: int, seed: int) -> np.ndarray:
    """Sorted row indices of `max_patients` whole patients drawn at random (every row when
    there are no more patients than that)."""
    # Sorted first: unique()'s own order is not deterministic.
    patients = patient_ids.unique().sort()
    if patients.len() <= max_patients:
        return np.arange(patient_ids.len())
    chosen = patients.gather(
        np.random.default_rng(seed).choice(patients.len(), max_patients, replace=False)
    )
    return np.flatnonzero(patient_ids.is_in(chosen.implode()).to_numpy())


def row_sample(n_rows: int, max_rows: int, seed: int) -> np.ndarray:
    """Sorted indices of `max_rows` rows drawn without replacement; every row when fewer."""
    if n_rows <= max_rows:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, max_rows, replace=False))


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
