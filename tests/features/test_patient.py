"""Patient context features against plain per-patient loops (numpy, scipy), on hand-made and on
random small frames (hypothesis), with nulls, one-lesion patients and constant columns."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from scipy.stats import rankdata

from features import patient
from features.build import FAMILIES, RAW_FAMILY, build_features, fit_spec, registry
from models.config import load_config

CONFIG = load_config()
ALL_FAMILIES = [f for f in FAMILIES if f != RAW_FAMILY]
NOISE = 1e-9
Z_NOISE = 1e-6
EITHER = object()  # the reference cannot tell: either answer is right


# --- plain per-patient references ------------------------------------------------------------


def _groups(keys: list[tuple]) -> dict[tuple, np.ndarray]:
    out: dict[tuple, list[int]] = {}
    for row, key in enumerate(keys):
        out.setdefault(key, []).append(row)
    return {key: np.array(rows) for key, rows in out.items()}


def _loop(values: list, keys: list[tuple], statistic) -> list:
    """statistic(all the group's non-null values, this value) for every non-null row."""
    out: list = [None] * len(values)
    for rows in _groups(keys).values():
        present = np.array([values[r] for r in rows if values[r] is not None], dtype=float)
        for r in rows:
            if values[r] is not None:
                out[r] = statistic(present, values[r])
    return out


def _z(present: np.ndarray, x: float):
    if present.size < 2:
        return None
    mean, std = present.mean(), present.std(ddof=1)
    # as documented: a spread below a millionth of the mean (+1) is rounding noise, none; the
    # one-pass sums may land either side of that line when the spread sits right on it
    relative = std / (abs(mean) + 1)
    if Z_NOISE / 2 < relative < Z_NOISE * 2:
        return EITHER
    return None if relative <= Z_NOISE else (x - mean) / std


def _rank_of(present: np.ndarray, x: float) -> float:
    return (
        float(rankdata(present, method="average")[np.flatnonzero(present == x)[0]]) / present.size
    )


def _robust(present: np.ndarray, x: float):
    median = np.median(present)
    iqr = np.percentile(present, 75) - np.percentile(present, 25)
    return None if iqr <= NOISE * (abs(median) + 1) else (x - median) / iqr


def _loo(present: np.ndarray, x: float):
    if present.size < 3:
        return None
    others = np.delete(present, np.flatnonzero(present == x)[0])
    mean, std = others.mean(), others.std(ddof=1)
    # as documented: the others' spread must exceed a millionth of their mean (+1), and their
    # squared deviations 1e-10 of the patient's sum of squares
    if std <= 1e-6 * (abs(mean) + 1) or np.sum((others - mean) ** 2) <= 1e-10 * np.sum(present**2):
        return None
    return (x - mean) / std


def _assert_close(got: list, expected: list, rel=1e-6, abs_=1e-9) -> None:
    assert len(got) == len(expected)
    for i, (g, e) in enumerate(zip(got, expected, strict=True)):
        if e is EITHER:
            continue
        if e is None:
            assert g is None, f"row {i}: expected null, got {g}"
        else:
            assert g is not None and g == pytest.approx(e, rel=rel, abs=abs_), f"row {i}"


# --- hand examples ---------------------------------------------------------------------------


def test_rank_robust_and_loo_on_a_hand_example():
    frame = pl.DataFrame({"patient_id": ["a"] * 5 + ["b"], "x": [1.0, 2.0, 2.0, 3.0, 10.0, 4.0]})
    out = frame.select(
        rank=patient.percentile_rank("x"),
        robust=patient.robust_zscore("x"),
        loo=patient.loo_zscore("x"),
    )
    # ranks 1, 2.5, 2.5, 4, 5 of five; one-lesion patient b: null
    assert out["rank"].to_list() == [0.2, 0.5, 0.5, 0.8, 1.0, None]
    # median 2, quartiles 2 and 3 (linear): IQR 1
    assert out["robust"].to_list()[:5] == [-1.0, 0.0, 0.0, 1.0, 8.0]
    # lesion 10 against 1, 2, 2, 3: mean 2, sample std sqrt(2/3)
    assert out["loo"][4] == pytest.approx(8 / math.sqrt(2 / 3))
    assert out["loo"][5] is None


def test_group_z_scores_use_patient_and_site():
    frame = pl.DataFrame(
        {
            "patient_id": ["a", "a", "a", "a", "b", "b"],
            "site": ["s", "s", "t", "t", "s", "s"],
            "x": [1.0, 3.0, 10.0, 30.0, 5.0, 7.0],
        }
    )
    z = frame.select(patient.zscore("x", ["patient_id", "site"]))["x"].to_list()
    s = math.sqrt(2)  # sample std of (1, 3) and of (5, 7)
    assert z == pytest.approx([-1 / s, 1 / s, -1 / s, 1 / s, -1 / s, 1 / s])


def test_outlier_counts_and_distance_by_hand():
    # One patient; the last lesion is far out on the first two context columns only.
    n = 6
    base = {c: [1.0, 2.0, 1.0, 2.0, 1.0, 2.0] for c in patient.CONTEXT_COLUMNS}
    base["clin_size_long_diam_mm"] = [1.0, 1.1, 0.9, 1.0, 1.05, 50.0]
    base["tbp_lv_areaMM2"] = [1.0, 1.1, 0.9, 1.0, 1.05, 50.0]
    frame = pl.DataFrame({"patient_id": ["p"] * n, **base})
    out = frame.select(f.expr.alias(f.name) for f in patient.outlier_features())
    zs = np.array(
        [[_z(np.array(base[c]), v) for v in base[c]] for c in patient.CONTEXT_COLUMNS]
    ).T.astype(float)
    np.testing.assert_allclose(out["ugly_max_abs_z"], np.abs(zs).max(axis=1))
    np.testing.assert_allclose(out["ugly_rms_z"], np.sqrt((zs**2).mean(axis=1)))
    assert out["ugly_beyond_2sd"].to_list() == list((np.abs(zs) > 2).sum(axis=1).astype(float))
    assert out["ugly_beyond_2sd"][5] == 2.0


# --- property tests over random small frames --------------------------------------------------

_value = st.one_of(st.none(), st.sampled_from([0.0, 1.0, 1.0, 2.5]), st.floats(-1e3, 1e3, width=32))


@st.composite
def _frames(draw):
    n = draw(st.integers(1, 25))
    patients = draw(st.lists(st.sampled_from("abcd"), min_size=n, max_size=n))
    sites = draw(st.lists(st.sampled_from(["s", "t", None]), min_size=n, max_size=n))
    constant = draw(st.booleans())
    values = [1.5] * n if constant else draw(st.lists(_value, min_size=n, max_size=n))
    return pl.DataFrame(
        {"patient_id": patients, "site": sites, "x": values},
        schema={"patient_id": pl.String, "site": pl.String, "x": pl.Float64},
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames())
@example(
    pl.DataFrame(
        {"patient_id": ["a", "a"], "site": ["s", "s"], "x": [0.0, 5.9604645e-08]},
        schema={"patient_id": pl.String, "site": pl.String, "x": pl.Float64},
    )
)
def test_window_features_match_a_per_patient_loop(frame):
    out = frame.select(
        z=patient.zscore("x"),
        zsite=patient.zscore("x", ["patient_id", "site"]),
        rank=patient.percentile_rank("x"),
        robust=patient.robust_zscore("x"),
        loo=patient.loo_zscore("x"),
    )
    for column in out.columns:  # null, never NaN or inf
        assert not out[column].is_nan().any() and not out[column].is_infinite().any(), column
    values = frame["x"].to_list()
    by_patient = [(p,) for p in frame["patient_id"]]
    by_site = list(zip(frame["patient_id"], frame["site"], strict=True))
    _assert_close(out["z"].to_list(), _loop(values, by_patient, _z), rel=1e-6, abs_=1e-6)
    _assert_close(out["zsite"].to_list(), _loop(values, by_site, _z), rel=1e-6, abs_=1e-6)
    _assert_close(out["rank"].to_list(), _loop(values, by_patient, _rank_of_or_none))
    _assert_close(out["robust"].to_list(), _loop(values, by_patient, _robust), rel=1e-6, abs_=1e-6)
    _assert_close(out["loo"].to_list(), _loop(values, by_patient, _loo), rel=1e-5, abs_=1e-5)


def _rank_of_or_none(present: np.ndarray, x: float):
    return None if present.size < 2 else _rank_of(present, x)


# --- the whole build on odd frames --------------------------------------------------------------


@pytest.fixture(scope="module")
def train(small_data) -> pl.DataFrame:
    return small_data[0]


@pytest.fixture(scope="module")
def spec(train):
    return fit_spec(train, ALL_FAMILIES, CONFIG.features.categoricals)


def _numeric(built) -> list[str]:
    return [n for n in built.names if n not in built.categorical]


def _no_nan_or_inf(built) -> None:
    numeric = _numeric(built)
    bad = built.frame.select(pl.col(numeric).is_nan().any() | pl.col(numeric).is_infinite().any())
    assert not any(bad.row(0))


def test_odd_patients_give_nulls_never_nan_inf_or_errors(train, spec):
    rows = train.head(12)
    one = rows.head(1).with_columns(patient_id=pl.lit("one"))
    two = rows.slice(1, 2).with_columns(patient_id=pl.lit("two"))
    # every context column equal across the patient's lesions
    same = pl.concat([rows.slice(3, 1)] * 4).with_columns(
        patient_id=pl.lit("same"), isic_id=pl.Series([f"S{i}" for i in range(4)])
    )
    holes = rows.slice(7, 5).with_columns(
        patient_id=pl.lit("holes"),
        tbp_lv_areaMM2=pl.Series([None, 1.0, None, 2.0, 3.0], dtype=pl.Float64),
        clin_size_long_diam_mm=pl.lit(None, dtype=pl.Float64),
    )
    frame = pl.concat([one, two, same, holes])
    built = build_features(frame, spec)
    _no_nan_or_inf(built)
    out = built.frame
    first = out.filter(pl.col("patient_id") == "one").row(0, named=True)
    for name in ("ugly_mahalanobis", "ugly_nn_distance", "tbp_lv_H_patient_rank"):
        assert first[name] is None, name
    assert first["tbp_lv_H_population_z"] is not None  # the norm comes from train, not the patient
    equal = out.filter(pl.col("patient_id") == "same")
    assert equal["tbp_lv_H_patient_loo_z"].null_count() == 4
    assert equal["ugly_max_abs_z"].null_count() == 4
    assert equal["ugly_nn_distance"].to_list() == [0.0] * 4  # identical lesions are neighbours


def test_permuting_the_label_changes_no_feature(train, spec):
    built = build_features(train, spec)
    shuffled = train.with_columns(pl.col("target").shuffle(seed=3))
    again = build_features(shuffled, fit_spec(shuffled, ALL_FAMILIES, CONFIG.features.categoricals))
    names = built.names
    # Equal up to the last bits: the population norms are refitted here with Polars group-bys,
    # whose float sums may run in another order.
    assert_frame_equal(
        again.frame.select(names), built.frame.select(names), rel_tol=1e-9, abs_tol=1e-9
    )
    _no_nan_or_inf(built)


def test_every_family_is_registered_once_with_a_doc():
    features = registry(ALL_FAMILIES)
    names = [f.name for f in features]
    assert len(names) == len(set(names))
    assert {f.family for f in features} == {RAW_FAMILY, *ALL_FAMILIES}
    assert all(f.doc.strip() for f in features)
