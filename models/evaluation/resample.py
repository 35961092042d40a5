"""The patient bootstrap as matrices: resamples drawn once from a seed, handed out in batches of
patient-weight rows, so that a figure over every resample is a matrix product with per-patient
sums instead of a Python loop over resamples.

A resample draws as many patients as there are, with replacement; a patient drawn k times
weighs its lesions by k. Row r of a batch holds resample r's draw counts, one column per patient
(patients numbered as `patient_codes` numbers them). Every figure of one call that iterates the
same `PatientResamples` sees the same resampled patients.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# A resample without a malignant (or benign) lesion has no ROC curve; it is drawn again. After
# this many failed draws per requested resample the data are too thin for a patient bootstrap.
MAX_REDRAWS_PER_BOOT = 10
# Cells (resamples x patients) of one batch of weights: 32 MB of float64, whatever the size.
BATCH_CELLS = 4_000_000


@dataclass(frozen=True)
class PatientResamples:
    """`n_boot` patient-bootstrap resamples of `n_patients` patients from `seed`, each holding
    a malignant and a benign lesion. Iterating twice gives the same resamples."""

    n_patients: int
    malignant: np.ndarray  # malignant lesions of each patient
    benign: np.ndarray  # benign lesions of each patient
    n_boot: int
    seed: int

    @classmethod
    def of(cls, y: np.ndarray, codes: np.ndarray, n_patients: int, n_boot: int, seed: int):
        """Resamples of the patients `codes` numbers (one code per row of labels `y`)."""
        malignant = np.bincount(codes[y == 1], minlength=n_patients)
        benign = np.bincount(codes[y != 1], minlength=n_patients)
        return cls(n_patients, malignant, benign, n_boot, seed)

    def batches(self, cells: int = BATCH_CELLS) -> Iterator[np.ndarray]:
        """(batch, n_patients) float64 draw counts, `n_boot` rows in all; a batch holds at most
        `cells` values (and at least one resample).

        Each resample is one `rng.integers(0, n, n)` draw, in the order the per-resample loop
        this replaced drew them, with failed resamples skipped the same way: the same seed gives
        the same resamples. Raises ValueError after `MAX_REDRAWS_PER_BOOT * n_boot` failures.
        """
        n = self.n_patients
        size = max(1, min(self.n_boot, cells // max(n, 1)))
        rng = np.random.default_rng(self.seed)
        made = failed = 0
        while made < self.n_boot:
            wanted = min(size, self.n_boot - made)
            weights = np.empty((wanted, n))
            for row in weights:  # int32 draws: the same stream as int64, half the memory
                row[:] = np.bincount(rng.integers(0, n, n, dtype=np.int32), minlength=n)
            both = (weights @ self.malignant > 0) & (weights @ self.benign > 0)
            # A batch never draws more than the resamples still wanted, so each of its failures
            # came before the last resample was made, as it did one draw at a time.
            failed += int(np.count_nonzero(~both))
            if failed > MAX_REDRAWS_PER_BOOT * self.n_boot:
                raise ValueError(
                    f"patient bootstrap: {MAX_REDRAWS_PER_BOOT * self.n_boot + 1} resamples lacked "
                    "a malignant or a benign row; too few patients with malignant lesions for a "
                    "patient bootstrap"
                )
            kept = weights if both.all() else weights[both]
            made += kept.shape[0]
            if kept.shape[0]:
                yield kept


def patient_sums(codes: np.ndarray, n_patients: int, *columns: np.ndarray) -> np.ndarray:
    """(n_patients, len(columns)): each row-level column summed per patient. A batch of weights
    times this matrix gives every resample's sums at once."""
    return np.column_stack(
        [np.bincount(codes, weights=c, minlength=n_patients) for c in columns]
    ).reshape(n_patients, len(columns))


def percentile_interval(values: np.ndarray, level: float = 0.95) -> list[float] | None:
    """[low, high] percentile interval of the finite `values`, or None when there are none."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return [float(low), float(high)]
