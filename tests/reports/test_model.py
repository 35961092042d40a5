"""Tests for reports/model.py: the operating points against a plain loop over thresholds."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from reports.model import operating_points


def test_operating_points_match_a_plain_loop():
    rng = np.random.default_rng(5)
    n = 2000
    patients = rng.integers(0, 40, n)
    y = (rng.random(n) < 0.04).astype(np.int64)
    scores = np.round(rng.random(n) + 0.6 * y, 2)  # ties, as rank scores have
    ids = pl.Series("patient_id", [f"IP_{p:03d}" for p in patients])
    for point in operating_points(y, scores, ids, (0.8, 0.9, 0.95)):
        # The highest threshold whose flagged lesions hold the wanted share of malignant ones.
        for threshold in sorted(set(scores), reverse=True):
            flagged = scores >= threshold
            if flagged[y == 1].mean() >= point["wanted"]:
                break
        assert point["threshold"] == threshold
        assert point["sensitivity"] == pytest.approx(flagged[y == 1].mean())
        assert point["specificity"] == pytest.approx(1 - flagged[y == 0].mean())
        assert point["flagged"] == flagged.sum()
        per_patient = [flagged[patients == p].sum() for p in np.unique(patients)]
        assert point["per_patient"] == pytest.approx(np.mean(per_patient))
        assert point["median_per_patient"] == pytest.approx(np.median(per_patient))
        assert point["patients_flagged"] == pytest.approx(np.mean(np.array(per_patient) > 0))
