"""Tests for models/external/: the cohort and its labels read and checked, score files joined
without meeting the label, thresholds fixed on out-of-fold scores, and the training data a
run's manifest records taken only when it is still what the run read. Hand-made frames; the
command end to end is tests/pipelines/test_evaluate.py."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features import synthetic
from features.build import FeatureSpec
from features.errors import UserError
from features.io import file_sha256
from models.external import read_cohort, read_labels
from models.external.figures import figures, operating_points
from models.external.sources import join_scores
from models.external.training_data import cohort_shift, training_frame


@pytest.fixture(scope="module")
def drawn():
    return synthetic.draw(600, 400, seed=4, malignant_rate=0.03)


@pytest.fixture
def files(tmp_path, drawn):
    synthetic.write_kaggle_layout(drawn.train, drawn.test, tmp_path)
    synthetic.write_test_labels(drawn.test_labels, tmp_path)
    return tmp_path


def test_labels_join_in_the_cohorts_order(files, drawn):
    labels = pl.read_csv(files / "test-labels.csv")
    labels.reverse().with_columns(extra=pl.lit("x")).write_csv(files / "shuffled.csv")
    cohort = read_cohort(files / "test-metadata.csv", files / "shuffled.csv")
    assert cohort.frame["isic_id"].to_list() == drawn.test["isic_id"].to_list()
    assert cohort.frame["target"].to_list() == drawn.test_labels["target"].to_list()
    assert cohort.frame.schema["target"] == pl.Int8
    assert cohort.labels == files / "shuffled.csv" and cohort.label_source == cohort.labels


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("isic_id,label\nISIC_1,1\n", "required column 'target' is missing"),
        ("isic_id,target\nISIC_1,1\nISIC_2,2\n", "'target', data row 2: expected 0 or 1, got 2"),
        ("isic_id,target\nISIC_1,0.5\n", "column 'target', data row 1: expected 0 or 1, got 0.5"),
        ("isic_id,target\nISIC_1,\n", "column 'target', data row 1: expected 0 or 1, got no value"),
        ("isic_id,target\nISIC_1,yes\n", "column 'target', data row 1: cannot read 'yes'"),
        ("isic_id,target\nISIC_1,1\nISIC_1,0\n", "'ISIC_1' appears more than once"),
        ("target\n1\n", "required column 'isic_id' is missing"),
        ("isic_id,target\n", "file has a header but no rows"),
    ],
)  # fmt: skip
def test_a_bad_labels_file_is_one_line_naming_it(tmp_path, text, message):
    path = tmp_path / "labels.csv"
    path.write_text(text)
    with pytest.raises(UserError) as error:
        read_labels(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_a_lesion_without_a_label_is_named(files, drawn):
    drawn.test_labels.slice(0, 7).vstack(drawn.test_labels.slice(8)).write_csv(files / "l.csv")
    with pytest.raises(UserError) as error:
        read_cohort(files / "test-metadata.csv", files / "l.csv")
    lost = drawn.test["isic_id"][7]
    assert str(error.value).startswith(
        f"{files / 'l.csv'}: isic_id {lost} (data row 8 of {files / 'test-metadata.csv'}) has no "
        "label (1 of 400 cohort lesions without one)"
    )


@pytest.mark.parametrize(("value", "missing"), [("0", "malignant (1)"), ("1", "benign (0)")])
def test_a_cohort_needs_both_classes(files, drawn, value, missing):
    drawn.test_labels.with_columns(target=pl.lit(int(value))).write_csv(files / "one.csv")
    with pytest.raises(UserError) as error:
        read_cohort(files / "test-metadata.csv", files / "one.csv")
    assert f"column 'target': the cohort has no {missing} lesion among its 400" in str(error.value)


def test_a_submission_column_is_renamed_so_it_never_meets_the_label(files, drawn):
    cohort = read_cohort(files / "test-metadata.csv", files / "test-labels.csv")
    submission = drawn.test.select("isic_id", target=pl.int_range(pl.len()) / 1000)
    submission.reverse().write_csv(files / "submission.csv")
    frame, values, warnings = join_scores(cohort, files / "submission.csv", "target", True, False)
    # The cohort's label stays the label; the submission's `target` is the score.
    assert frame["target"].to_list() == drawn.test_labels["target"].to_list()
    np.testing.assert_allclose(values, np.arange(400) / 1000)
    assert warnings == []
    submission.slice(2).write_csv(files / "partial.csv")
    frame, values, warnings = join_scores(cohort, files / "partial.csv", "target", False, True)
    assert frame.height == values.size == 398
    assert warnings == [
        f"{files / 'partial.csv'}: 2 of 400 cohort lesions have no score in column 'target'; "
        "left out"
    ]


def test_oof_thresholds_are_chosen_on_the_oof_scores_and_applied_to_the_cohort():
    # Out of fold: malignant scored 0.9, 0.8, 0.7, 0.6, 0.5; 80 % sensitivity needs 0.6.
    oof = (np.array([1, 1, 1, 1, 1, 0, 0, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]))
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p = np.array([0.95, 0.65, 0.55, 0.3, 0.7, 0.62, 0.1, 0.1, 0.05, 0.0])
    patients = np.arange(10)
    points = operating_points(y, p, patients, oof, n_boot=20, seed=0)
    first = points[0]
    assert (first["wanted"], first["chosen_on"]) == (0.8, "oof")
    assert first["threshold"] == pytest.approx(0.6)
    # By hand on the cohort at 0.6: 2 of 4 malignant and 2 of 6 benign flagged.
    assert first["sensitivity"] == pytest.approx(2 / 4)
    assert first["specificity"] == pytest.approx(4 / 6)
    cohort = points[1]
    # On the cohort, 3 of 4 malignant fall short of 80 %: all 4, so down to 0.3.
    assert cohort["chosen_on"] == "cohort" and cohort["threshold"] == pytest.approx(0.3)
    assert cohort["sensitivity"] == pytest.approx(1.0)
    assert [q["chosen_on"] for q in operating_points(y, p, patients, None, 20, 0)] == ["cohort"] * 3


def test_scores_that_are_not_probabilities_get_no_calibration():
    rng = np.random.default_rng(0)
    y = np.repeat([1, 0], [12, 188])
    s = rng.random(200) + y * 0.3
    patients = np.arange(200) // 4
    groups = {"sex": np.where(np.arange(200) % 2, "male", "female")}
    out = figures(
        y, patients, {"scores": s}, probability=s, is_probability=False, oof=None,
        groups=groups, n_boot=20, seed=0,
    )  # fmt: skip
    assert out["calibration"] is None and out["decision_curve"] == []
    assert [row["observed_expected"] for row in out["groups"]["sex"]] == [None, None]
    assert [row["lesions"] for row in out["groups"]["sex"]] == [100, 100]


def test_the_training_file_is_used_only_while_it_is_what_the_run_read(tmp_path, drawn):
    synthetic.write_kaggle_layout(drawn.train, drawn.test, tmp_path)
    path = tmp_path / "train-metadata.csv"
    spec = FeatureSpec.from_dict({"families": [], "categoricals": [], "levels": {}})
    inputs = {"files": {"train": str(path)}, "sha256": {str(path): file_sha256(path)}}
    train = training_frame({"inputs": inputs}, spec)
    assert isinstance(train, pl.DataFrame) and train["isic_id"].equals(drawn.train["isic_id"])
    changed = {**inputs, "sha256": {str(path): "0" * 64}}
    assert "has changed since the run read it" in training_frame({"inputs": changed}, spec)
    assert "records no SHA-256" in training_frame({"inputs": {**inputs, "sha256": {}}}, spec)
    path.rename(tmp_path / "moved.csv")
    assert f"{path} is not there any more" in training_frame({"inputs": inputs}, spec)
    assert training_frame({}, spec) == "the run's manifest records no training data"
    # The embedded data is drawn again from the settings the run recorded.
    settings = {"train_rows": 600, "test_rows": 400, "seed": 4, "malignant_rate": 0.03}
    again = training_frame({"inputs": {"embedded_synthetic": settings}}, spec)
    assert again.equals(drawn.train)


def test_a_small_cohort_gets_a_reason_not_a_shift(drawn):
    spec = FeatureSpec.from_dict({"families": [], "categoricals": [], "levels": {}})
    shift = cohort_shift({}, spec, drawn.test, seed=0)
    assert shift == {
        "reason": "the cohort has 400 rows of 1 patients; a train-versus-test shift test needs "
        "at least 200 rows of 50 patients"
    }
