"""The acquisition-context family (features.visit) and the patient z-score of age, by hand and
against plain per-patient loops over the real rows, whose facts the module's docstring states."""

from __future__ import annotations

from collections import Counter, defaultdict

import polars as pl
import pytest

from features import visit
from features.build import build_features, fit_spec
from features.io import read_train

FAMILIES = ["lesion", "patient_norm", "patient_count", visit.FAMILY]


def _built(frame: pl.DataFrame) -> pl.DataFrame:
    spec = fit_spec(frame, FAMILIES, ["tbp_tile_type"])
    return build_features(frame, spec).frame


@pytest.fixture(scope="module")
def real_train(real_dir) -> pl.DataFrame:
    return read_train(real_dir / "train-metadata-5k.csv")


def test_visit_features_by_hand(small_data):
    rows = small_data[0].head(5)
    frame = rows.with_columns(
        isic_id=pl.Series([f"L{i}" for i in range(5)]),
        patient_id=pl.Series(["a", "a", "a", "a", "b"]),
        age_approx=pl.Series([60.0, 60.0, 55.0, None, 40.0]),
        tbp_tile_type=pl.Series(["3D: XP", "3D: XP", "3D: white", "3D: XP", "3D: white"]),
    )
    out = _built(frame).sort("isic_id")
    assert out["age_below_patient_latest"].to_list() == [0.0, 0.0, -5.0, None, 0.0]
    assert out["patient_visits"].to_list() == [2.0, 2.0, 2.0, 2.0, 1.0]
    assert out["tile_type_share"].to_list() == [0.75, 0.75, 0.25, 0.75, 1.0]
    # ages 60, 60, 55 (the missing one left out): mean 175 / 3, squared deviations 50 / 3 in
    # all, sample std sqrt(25 / 3)
    z = out["age_approx_patient_z"].to_list()
    std = (25 / 3) ** 0.5
    assert z[:3] == pytest.approx([(60 - 175 / 3) / std] * 2 + [(55 - 175 / 3) / std], rel=1e-6)
    assert z[3] is None and z[4] is None  # a missing age; a one-lesion patient


def test_visit_features_match_a_per_patient_loop_on_the_real_rows(real_train):
    out = _built(real_train).sort("isic_id")
    raw = real_train.sort("isic_id")
    latest: dict[str, float] = {}
    ages: defaultdict[str, set] = defaultdict(set)
    tiles: Counter = Counter()
    lesions: Counter = Counter()
    for patient, age, tile in raw.select("patient_id", "age_approx", "tbp_tile_type").iter_rows():
        lesions[patient] += 1
        tiles[patient, tile] += 1
        if age is not None:
            ages[patient].add(age)
            latest[patient] = max(age, latest.get(patient, age))
    expected_below, expected_visits, expected_share = [], [], []
    for patient, age, tile in raw.select("patient_id", "age_approx", "tbp_tile_type").iter_rows():
        expected_below.append(None if age is None else age - latest[patient])
        expected_visits.append(float(len(ages[patient])))
        expected_share.append(pytest.approx(tiles[patient, tile] / lesions[patient], rel=1e-6))
    assert out["age_below_patient_latest"].to_list() == expected_below
    assert out["patient_visits"].to_list() == expected_visits
    assert out["tile_type_share"].to_list() == expected_share


def test_the_real_rows_show_what_the_docstring_says(real_train):
    out = _built(real_train)
    earlier = out.filter(pl.col("age_below_patient_latest") < 0)
    minority = out.filter(pl.col("tile_type_share") < 0.5)
    assert (earlier.height, int(earlier["target"].sum())) == (55, 55)
    assert (minority.height, int(minority["target"].sum())) == (21, 19)
    either = out.filter(
        (pl.col("age_below_patient_latest") < 0) | (pl.col("tile_type_share") < 0.5)
    )
    assert int(either["target"].sum()) / int(out["target"].sum()) == pytest.approx(0.17, abs=0.005)
    # A patient whose ages differ gets an age z-score; one with a single age does not.
    z = out.group_by("patient_id").agg(
        visits=pl.col("patient_visits").first(), defined=pl.col("age_approx_patient_z").count()
    )
    assert z.filter(pl.col("visits") == 1)["defined"].sum() == 0
    assert (z.filter(pl.col("visits") == 2)["defined"] > 0).all()
