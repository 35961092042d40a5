"""Scoring new lesions in batches of whole patients: the batches against a hand example, and
the scores against one unbatched pass, whatever the batch size and the file's row order."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import xgboost as xgb

from models.artifacts import load_run
from models.artifacts.scoring import patient_batches
from models.boosters import Matrix, booster
from models.cv import fit_settings
from tests.conftest import fast_config


def test_batches_hold_whole_patients_in_file_order():
    patients = pl.Series(["b", "a", "b", "c", "a", "d", "c", "c"])
    # By id: a has 2 rows, b 2, c 3, d 1; a batch closes once it holds 3 rows or more.
    batches = patient_batches(patients, 3)
    assert [b.tolist() for b in batches] == [[0, 1, 2, 4], [3, 6, 7], [5]]
    assert [b.tolist() for b in patient_batches(patients, 100)] == [list(range(8))]
    alone = patient_batches(patients, 1)
    assert sorted(np.concatenate(alone).tolist()) == list(range(8))
    assert all(patients[b].n_unique() == 1 for b in alone)


@pytest.mark.parametrize("batch_rows", [1, 150])
def test_batches_and_row_order_do_not_change_the_scores(trained_run, small_data, batch_rows):
    run = load_run(trained_run)
    test = small_data[1]
    whole = run.predict(test, batch_rows=10**9)
    shuffled = test.sample(fraction=1.0, shuffle=True, seed=3)
    batched = run.predict(shuffled, batch_rows=batch_rows)
    assert batched["isic_id"].equals(shuffled["isic_id"])  # one row per input row, in order
    joined = shuffled.select("isic_id").join(whole, on="isic_id", maintain_order="left")
    for column in whole.columns[1:]:
        np.testing.assert_allclose(batched[column], joined[column], rtol=0, atol=1e-9)


def test_xgboost_in_place_on_codes_equals_its_polars_categories():
    """XGBoost predicts from `Matrix.codes` in place; the codes must mean the categories it
    was trained on from the Polars Enum column (nulls included)."""
    rng = np.random.default_rng(0)
    levels = ["w", "x", "y", "z"]
    drawn = [levels[i] if i < 4 else None for i in rng.integers(0, 5, 3_000)]
    site = pl.Series("site", drawn, dtype=pl.Enum(levels))
    noise = rng.normal(size=3_000).astype(np.float32)
    y = ((site.to_physical().fill_null(4).to_numpy() % 2 == 1) ^ (noise > 1.5)).astype(np.int8)
    frame = pl.DataFrame([site, pl.Series("noise", noise)])
    x = Matrix(frame, ["site", "noise"], ["site"], y)
    model = booster("xgb")
    fitted = model.fit(x, None, {"max_depth": 3}, 1, fit_settings(fast_config()))
    through_polars = fitted.booster.predict(
        xgb.DMatrix(frame, enable_categorical=True), iteration_range=(0, fitted.rounds)
    )
    assert np.ptp(through_polars) > 0.5  # the categories really split the rows
    np.testing.assert_array_equal(fitted.predict_prepared(model.prepare(x)), through_polars)
