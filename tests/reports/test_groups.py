"""Tests for reports/groups.py: age bands, and each group's counts and score against polars and
the metric on the group's own rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.evaluation import MIN_MALIGNANT_FOR_SCORE, isic_pauc
from reports.groups import age_band, group_scores


def test_age_bands_sort_in_age_order():
    ages = pl.Series("age", [15.0, 29.0, 30.0, 45.0, 79.0, 80.0, 85.0, None])
    bands = pl.select(age_band(pl.lit(ages))).to_series().to_list()
    assert bands == ["0-29", "0-29", "30-39", "40-49", "70-79", "80+", "80+", None]
    assert sorted(b for b in set(bands) if b) == ["0-29", "30-39", "40-49", "70-79", "80+"]


def test_group_scores_match_polars_and_the_metric():
    rng = np.random.default_rng(9)
    n = 6000
    frame = pl.DataFrame(
        {
            "patient_id": [f"IP_{p:03d}" for p in rng.integers(0, 120, n)],
            "target": (rng.random(n) < 0.03).astype(np.int64),
            "site": rng.choice(["arm", "leg", "torso", None], n),
        }
    )
    frame = frame.with_columns(ensemble=pl.col("target") * 0.5 + pl.Series(rng.random(n)))
    rows = {r["group"]: r for r in group_scores(frame, "site", seed=0)}
    counts = frame.group_by(pl.col("site").fill_null("<missing>")).agg(
        pl.len().alias("n"), pl.col("target").sum().alias("m")
    )
    for site, n_rows, n_malignant in counts.iter_rows():
        assert rows[site]["lesions"] == n_rows and rows[site]["malignant"] == n_malignant
        part = frame.filter(pl.col("site").fill_null("<missing>") == site)
        expected = isic_pauc(part["target"].to_numpy(), part["ensemble"].to_numpy())
        assert rows[site]["pauc"] == pytest.approx(expected, abs=1e-12)
        low, high = rows[site]["interval"]
        assert low <= high


def test_a_group_with_fewer_than_five_malignant_lesions_gets_counts_and_no_score():
    rng = np.random.default_rng(4)
    n = 3000
    site = np.where(np.arange(n) < 300, "rare", "common")
    target = np.zeros(n, dtype=np.int64)
    target[: MIN_MALIGNANT_FOR_SCORE - 1] = 1  # "rare": one malignant lesion short of a score
    target[300:400] = 1
    frame = pl.DataFrame(
        {
            "patient_id": [f"IP_{p:03d}" for p in rng.integers(0, 100, n)],
            "target": target,
            "site": site,
            "ensemble": rng.random(n) + target,
        }
    )
    rows = {r["group"]: r for r in group_scores(frame, "site", seed=0)}
    rare = rows["rare"]
    assert (rare["lesions"], rare["malignant"]) == (300, MIN_MALIGNANT_FOR_SCORE - 1)
    assert rare["pauc"] is None and rare["interval"] is None
    assert rare["pauc_text"] == "-" and rare["interval_text"] == "-"
    assert rows["common"]["pauc"] is not None and rows["common"]["interval"] is not None
