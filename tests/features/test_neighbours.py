"""The ugly-duckling distances against scikit-learn and brute force, patient by patient."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.covariance import ledoit_wolf

from features import neighbours
from features.patient import CONTEXT_COLUMNS


@pytest.mark.parametrize("shape", [(3, 16), (40, 5), (500, 16)])
def test_ledoit_wolf_matches_scikit_learn(shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * rng.random(shape[1])
    expected, _ = ledoit_wolf(x, assume_centered=True)
    np.testing.assert_allclose(neighbours.ledoit_wolf_covariance(x), expected, atol=1e-12)


def _frame(rng, sizes: dict[str, int]) -> pl.DataFrame:
    n = sum(sizes.values())
    columns = {c: rng.standard_normal(n) * (i + 1) + i for i, c in enumerate(CONTEXT_COLUMNS)}
    patients = [p for p, k in sizes.items() for _ in range(k)]
    order = rng.permutation(n)  # patients interleaved: the output must follow the row order
    frame = pl.DataFrame({"patient_id": patients, **columns})[order]
    return frame.with_columns(tbp_lv_H=pl.lit(3.0))  # a constant column contributes nothing


def test_distances_match_a_brute_force_loop():
    rng = np.random.default_rng(2)
    frame = _frame(rng, {"a": 60, "b": 7, "c": 2, "d": 1, "e": 3})
    out = neighbours.neighbour_features(frame)
    core = [CONTEXT_COLUMNS.index(c) for c in neighbours.NEIGHBOUR_COLUMNS]
    for patient in ("a", "b", "e"):
        rows = np.flatnonzero(frame["patient_id"].to_numpy() == patient)
        x = frame[rows].select(CONTEXT_COLUMNS).to_numpy()
        std = x.std(axis=0, ddof=1)
        z = np.where(std > 0, (x - x.mean(axis=0)) / np.where(std > 0, std, 1), 0.0)
        varying = z[:, np.any(z != 0, axis=0)]
        covariance, _ = ledoit_wolf(varying, assume_centered=True)
        inverse = np.linalg.inv(covariance)
        maha = np.sqrt([v @ inverse @ v for v in varying])
        np.testing.assert_allclose(out["ugly_mahalanobis"].to_numpy()[rows], maha, rtol=1e-8)
        points = z[:, core]
        gaps = np.linalg.norm(points[:, None] - points[None], axis=2)
        np.fill_diagonal(gaps, np.inf)
        nearest = gaps.min(axis=1)
        np.testing.assert_allclose(out["ugly_nn_distance"].to_numpy()[rows], nearest, rtol=1e-8)
        np.testing.assert_allclose(
            out["ugly_nn_distance_ratio"].to_numpy()[rows], nearest / np.median(nearest)
        )
    small = frame["patient_id"].is_in(["c", "d"])
    assert out.filter(small).null_count().row(0) == (3, 3, 3)


def test_missing_values_sit_at_the_patient_centre():
    rng = np.random.default_rng(3)
    frame = _frame(rng, {"a": 30})
    holed = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in CONTEXT_COLUMNS
    )
    out = neighbours.neighbour_features(holed)
    assert out.row(0) == (0.0, out["ugly_nn_distance"][0], out["ugly_nn_distance_ratio"][0])
    assert not out.select(pl.all().is_nan().any()).row(0)[0]


def test_mahalanobis_finds_a_lesion_that_breaks_the_patients_correlations():
    # Size and area move together across a patient's lesions. One lesion is large for its
    # area: far from the patient under their covariance, unremarkable by Euclidean distance.
    rng = np.random.default_rng(4)
    frame = _frame(rng, {"a": 400})
    size = rng.standard_normal(400)
    area = size + 0.1 * rng.standard_normal(400)
    size[0], area[0] = 1.8, -1.8
    frame = frame.with_columns(clin_size_long_diam_mm=size, tbp_lv_areaMM2=area)
    x = frame.select(CONTEXT_COLUMNS).to_numpy()
    std = x.std(axis=0, ddof=1)
    z = np.where(std > 0, (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0), 0.0)
    euclidean = np.linalg.norm(z, axis=1)
    assert (euclidean > euclidean[0]).sum() > 40  # not even in the patient's top 10 %
    mahalanobis = neighbours.neighbour_features(frame)["ugly_mahalanobis"].to_numpy()
    assert np.argmax(mahalanobis) == 0
