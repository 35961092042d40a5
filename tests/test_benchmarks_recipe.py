"""The recipe baseline's features against hand computations, so the baseline cannot drift."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from benchmarks import recipe
from features import synthetic


@pytest.fixture(scope="module")
def frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    raw, _ = synthetic.generate(3000, 0, seed=11)
    medians = raw.select(pl.col(recipe.RAW_NUMERIC).median()).row(0, named=True)
    return raw, recipe.add_features(raw, medians)


def test_lesion_features_match_the_notebook_formulas(frames):
    raw, built = frames
    row = built.row(0, named=True)
    area, perimeter = row["tbp_lv_areaMM2"], row["tbp_lv_perimeterMM"]
    assert row["lesion_shape_index"] == pytest.approx(area / (perimeter**2 + 1e-5), rel=1e-12)
    expected_ratio = perimeter / (2 * math.pi * math.sqrt(area / math.pi) + 1e-5)
    assert row["border_length_ratio"] == pytest.approx(expected_ratio, rel=1e-12)
    assert row["combined_anatomical_site"] == (
        f"{row['anatom_site_general']}_{row['tbp_lv_location']}"
        if row["anatom_site_general"] is not None
        else None
    )
    assert len(recipe.LESION_FEATURES) == len(set(recipe.NEW_NUMERIC)) >= 35


def test_median_fill_and_patient_zscore_with_guard(frames):
    raw, built = frames
    missing_age = raw["age_approx"].is_null().arg_true()
    if missing_age.len():
        assert built["age_approx"][missing_age[0]] == raw["age_approx"].median()
    patient = built["patient_id"].value_counts().sort("count")["patient_id"][-1]
    rows = built.filter(pl.col("patient_id") == patient)
    for column in ("tbp_lv_H", "lesion_shape_index"):
        x = rows[column].to_numpy()
        expected = (x - x.mean()) / (x.std(ddof=1) + 1e-5)
        np.testing.assert_allclose(rows[f"{column}_patient_norm"].to_numpy(), expected, rtol=1e-9)
    assert (rows["count_per_patient"] == rows.height).all()


def test_feature_matrices_learn_levels_and_medians_on_train(frames):
    raw, _ = frames
    train, test = raw.slice(0, 2000), raw.slice(2000).drop("target")
    x, x_test, names = recipe.feature_matrices(train, test)
    assert x.shape == (2000, len(names)) and x_test.shape == (raw.height - 2000, len(names))
    assert len(set(names)) == len(names)
    assert np.isfinite(x[:, names.index("lesion_size_ratio")]).all()
