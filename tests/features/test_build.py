"""The feature build: recipe features by hand, patient z-scores against a plain loop, no label
leakage, and no dependence on other patients."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features import build, io, schema
from features.build import FeatureSpec, build_features, fit_spec
from models.config import load_config

CONFIG = load_config()


def _spec(train: pl.DataFrame, families=None) -> FeatureSpec:
    families = families or CONFIG.features.families
    return fit_spec(train, families, CONFIG.features.categoricals)


@pytest.fixture(scope="module")
def train(small_data) -> pl.DataFrame:
    return small_data[0]


@pytest.fixture(scope="module")
def built(train):
    return build_features(train, _spec(train))


def test_registry_names_unique_and_documented():
    features = build.registry(build.FAMILIES)
    names = [f.name for f in features]
    assert len(names) == len(set(names))
    assert all(f.doc.strip() and f.family in build.FAMILIES for f in features)


def test_no_train_only_column_reaches_the_features(train, built):
    leaks = set(schema.TRAIN_ONLY_COLUMNS) & set(built.names)
    assert not leaks
    assert not any(
        name.startswith(("target", "lesion_id", "iddx", "mel_", "tbp_lv_dnn"))
        for name in built.names
    )
    # Scrambling every train-only column changes no feature value.
    rng = np.random.default_rng(0)
    scrambled = train.with_columns(
        pl.col(c).shuffle(seed=int(rng.integers(1 << 30))) for c in schema.TRAIN_ONLY_COLUMNS
    )
    again = build_features(scrambled, _spec(train))
    assert again.frame.select(built.names).equals(built.frame.select(built.names))


def test_lesion_features_match_a_hand_computation(real_dir):
    frame = io.read_train(real_dir / "train-metadata-50.csv")
    out = build_features(frame, _spec(frame)).frame
    row = frame.row(0, named=True)
    got = out.row(0, named=True)
    area, perimeter = row["tbp_lv_areaMM2"], row["tbp_lv_perimeterMM"]
    expected = {
        "lesion_shape_index": area / perimeter**2,
        "hue_contrast": abs(row["tbp_lv_H"] - row["tbp_lv_Hext"]),
        "border_length_ratio": perimeter / (2 * math.pi * math.sqrt(area / math.pi)),
        "color_range": abs(row["tbp_lv_L"] - row["tbp_lv_Lext"])
        + abs(row["tbp_lv_A"] - row["tbp_lv_Aext"])
        + abs(row["tbp_lv_B"] - row["tbp_lv_Bext"]),
        "lesion_orientation_3d": math.atan2(row["tbp_lv_y"], row["tbp_lv_x"]),
        "size_age_interaction": row["clin_size_long_diam_mm"] * row["age_approx"],
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-6), name
    assert got["site_location"] == "head/neck_Head & Neck"


def test_division_by_zero_gives_null_not_inf(train):
    zero = train.head(5).with_columns(tbp_lv_radial_color_std_max=pl.lit(0.0))
    out = build_features(zero, _spec(train)).frame
    assert out["color_uniformity"].null_count() == 5


def test_patient_z_scores_match_a_plain_loop(train, built):
    column = "tbp_lv_areaMM2"
    z = built.frame[f"{column}_patient_z"].to_numpy()
    patients = train["patient_id"].to_numpy()
    values = train[column].to_numpy()
    for patient in np.unique(patients)[:25]:
        rows = np.flatnonzero(patients == patient)
        mine = values[rows]
        if rows.size < 2:
            assert np.isnan(z[rows]).all()
            continue
        expected = (mine - mine.mean()) / mine.std(ddof=1)
        np.testing.assert_allclose(z[rows], expected, rtol=2e-5, atol=2e-6)


def test_one_lesion_and_identical_patients_get_null_never_inf():
    frame = pl.DataFrame(
        {
            "patient_id": ["a", "b", "b", "b", "c", "c"],
            "x": [1.0, 2.0, 2.0, 2.0, 5.0, None],
        }
    )
    from features.patient import zscore

    z = frame.select(zscore("x"))["x"].to_list()
    assert z == [None, None, None, None, None, None]


def test_lesion_features_do_not_depend_on_other_patients(small_data, train, built):
    spec = _spec(train)
    patients = train["patient_id"].unique().sort()
    kept = patients.head(patients.len() // 3)
    subset = train.filter(pl.col("patient_id").is_in(kept.implode()))
    alone = build_features(subset, spec).frame
    together = built.frame.filter(pl.col("patient_id").is_in(kept.implode()))
    # Equal up to float rounding: Polars may sum a group in a different order in another frame.
    assert_frame_equal(alone.sort("isic_id"), together.sort("isic_id"), rel_tol=1e-5, abs_tol=1e-6)
    # Adding other patients (the test file's) changes nothing either.
    test = small_data[1].select(schema.TEST_COLUMN_NAMES)
    mixed = pl.concat([subset.select(schema.TEST_COLUMN_NAMES), test])
    mixed_out = build_features(mixed, spec).frame.filter(pl.col("patient_id").is_in(kept.implode()))
    assert_frame_equal(
        mixed_out.sort("isic_id"), alone.drop("target").sort("isic_id"), rel_tol=1e-5, abs_tol=1e-6
    )


def test_unseen_levels_become_null_and_levels_are_fixed(real_dir, train):
    spec = _spec(train)
    test = io.read_test(real_dir / "test-metadata.csv")
    out = build_features(test, spec).frame
    assert out["attribution"].to_list()[2] is None  # FNQH Cairns, never seen in train
    assert out["attribution"].dtype == pl.Enum(spec.levels["attribution"])
    assert list(spec.levels["sex"][:2]) == ["female", "male"]
    assert out["attribution"].to_physical().to_list()[0] == spec.levels["attribution"].index(
        "Memorial Sloan Kettering Cancer Center"
    )


def test_features_are_float32_and_finite(built):
    numeric = [n for n in built.names if n not in built.categorical]
    assert all(built.frame.schema[n] == pl.Float32 for n in numeric)
    finite = built.frame.select(
        pl.col(numeric).is_nan().any() | pl.col(numeric).is_infinite().any()
    )
    assert not any(finite.row(0))


def test_unknown_family_is_a_user_error(train):
    from features.errors import UserError

    with pytest.raises(UserError, match="unknown family 'shape'"):
        fit_spec(train, ["shape"], [])
