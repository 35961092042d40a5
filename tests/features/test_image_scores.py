"""The image family: each feature against a plain computation, missing scores, the spec stored
and applied unchanged, and a lesion's features independent of the other patients in the file."""

from __future__ import annotations

import json
import logging

import numpy as np
import polars as pl
import pytest
from scipy.stats import rankdata

from features import population
from features.build import FeatureSpec, build_features, describe, fit_spec
from features.errors import UserError
from features.image_scores import attach
from features.score_files import ScoreFile

FAMILIES = ["lesion", "patient_norm"]


def _scores(frame: pl.DataFrame, seed: int, path: str = "scores.csv") -> ScoreFile:
    rng = np.random.default_rng(seed)
    values = rng.beta(0.5, 20.0, frame.height)
    values[::97] = values[1::97][: values[::97].size]  # ties within some patients
    table = pl.DataFrame({"isic_id": frame["isic_id"], "cnn": values})
    return ScoreFile(
        path=path, frame=table.sample(fraction=1.0, shuffle=True, seed=seed), sha256=""
    )


@pytest.fixture(scope="module")
def train(small_data):
    return small_data[0]


@pytest.fixture(scope="module")
def built(train):
    frame = attach(train, _scores(train, 1))
    spec = fit_spec(frame, FAMILIES, [], ["cnn"])
    return frame, spec, build_features(frame, spec).frame


def test_the_four_features_per_score_column_are_registered(built):
    _, spec, out = built
    names = ["image_cnn", "image_cnn_patient_ratio", "image_cnn_patient_pct"]
    names.append("image_cnn_population_z")
    image = [f for f in describe(spec.families, spec.image_columns) if f["family"] == "image"]
    assert [f["name"] for f in image] == names
    assert set(names) <= set(out.columns)


def test_patient_features_match_a_plain_loop(built):
    frame, _, out = built
    score = frame["image_cnn"].to_numpy()
    patients = frame["patient_id"].to_numpy()
    assert out["isic_id"].equals(frame["isic_id"])
    ratio, pct = np.empty(score.size), np.empty(score.size)
    for patient in np.unique(patients):
        rows = np.flatnonzero(patients == patient)
        ratio[rows] = score[rows] / score[rows].mean()
        pct[rows] = rankdata(score[rows], "average") / rows.size if rows.size > 1 else np.nan
    np.testing.assert_allclose(out["image_cnn"].to_numpy(), score, rtol=1e-6)
    np.testing.assert_allclose(out["image_cnn_patient_ratio"].to_numpy(), ratio, rtol=1e-5)
    got = out["image_cnn_patient_pct"].to_numpy().astype(float)
    np.testing.assert_allclose(got, pct, rtol=1e-6)


def test_population_z_matches_a_group_by_hand(built):
    frame, _, out = built
    z = out["image_cnn_population_z"].to_numpy()
    keys = frame.select(
        "attribution", "tbp_lv_location", band=(pl.col("age_approx") // 10) * 10
    ).rows()
    score = frame["image_cnn"].to_numpy()
    groups: dict[tuple, list[int]] = {}
    for row, key in enumerate(keys):
        groups.setdefault(key, []).append(row)
    checked = 0
    for rows in groups.values():
        if len(rows) < population.MIN_COUNT:
            continue
        x = score[rows]
        np.testing.assert_allclose(z[rows], (x - x.mean()) / x.std(ddof=1), rtol=1e-5, atol=1e-6)
        checked += 1
    assert checked > 10


def test_spec_survives_json_and_other_patients_do_not_matter(built, train, small_data):
    frame, spec, out = built
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.image_columns == ("cnn",)
    patient = frame["patient_id"][0]
    alone = build_features(frame.filter(pl.col("patient_id") == patient), again).frame
    assert alone.equals(out.filter(pl.col("patient_id") == patient))
    # norms come from train: test lesions are scored against them, not against each other
    test = small_data[1]
    scored = build_features(attach(test, _scores(test, 2)), again).frame
    assert scored["image_cnn_population_z"].null_count() == 0


def test_norms_ignore_the_label(train):
    frame = attach(train, _scores(train, 1))
    flipped = frame.with_columns(target=1 - pl.col("target"))
    assert (
        fit_spec(flipped, FAMILIES, [], ["cnn"]).image
        == fit_spec(frame, FAMILIES, [], ["cnn"]).image
    )


def test_a_missing_id_is_an_error_naming_the_file_and_the_id(train):
    scores = _scores(train, 1, "train-scores.csv")
    lacking = ScoreFile(
        scores.path, scores.frame.filter(pl.col("isic_id") != train["isic_id"][5]), ""
    )
    with pytest.raises(UserError) as error:
        attach(train, lacking)
    message = str(error.value)
    assert message.startswith("train-scores.csv: isic_id ")
    assert f"{train['isic_id'][5]} is not in the file (1 of {train.height} lesions" in message
    assert "--allow-missing-scores" in message


def test_allowed_missing_scores_are_null_and_counted(train, caplog):
    scores = _scores(train, 1)
    gone = set(train["isic_id"][:3].to_list())
    nulled = train["isic_id"][3]
    table = scores.frame.filter(~pl.col("isic_id").is_in(list(gone))).with_columns(
        cnn=pl.when(pl.col("isic_id") == nulled).then(None).otherwise(pl.col("cnn"))
    )
    with pytest.raises(UserError, match=f"isic_id {train['isic_id'][0]} is not in the file"):
        attach(train, ScoreFile("s.csv", table, ""))
    with caplog.at_level(logging.WARNING):
        frame = attach(train, ScoreFile("s.csv", table, ""), allow_missing=True)
    assert f"4 of {train.height} lesions have no score" in caplog.text
    spec = fit_spec(frame, FAMILIES, [], ["cnn"])
    out = build_features(frame, spec).frame
    missing = out["isic_id"].is_in([*gone, nulled])
    for name in ("image_cnn", "image_cnn_patient_ratio", "image_cnn_patient_pct"):
        assert out.filter(missing)[name].null_count() == 4
    # the other lesions of those patients are compared among the scored ones only
    patient = train["patient_id"][0]
    mine = frame.filter(pl.col("patient_id") == patient)
    kept = mine["image_cnn"].drop_nulls().to_numpy()
    got = out.filter((pl.col("patient_id") == patient) & ~missing)["image_cnn_patient_ratio"]
    np.testing.assert_allclose(got.to_numpy(), kept / kept.mean(), rtol=1e-5)


def test_a_score_column_the_run_needs_must_be_there(train):
    with pytest.raises(UserError, match="score column 'vit' is missing"):
        attach(train, _scores(train, 1), columns=["vit"])
