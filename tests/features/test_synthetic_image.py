"""Synthetic image-model scores: the right ids, the image model's folds, the metadata unchanged,
the same bytes for the same seed, and the calibration's direction: informative alone, but
neither perfect nor as good as the latent atypia it partly sees."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features import synthetic
from features.score_files import read_score_file
from features.synthetic import image
from models.evaluation import isic_pauc
from models.image_inputs import IN_FOLD_PAUC
from pipelines import make_synthetic


@pytest.fixture(scope="module")
def drawn():
    """60,000 train rows with 300 malignant (enough for a stable score), 3,000 test rows."""
    return synthetic.generate_with_image_scores(60_000, 3_000, seed=9, malignant_rate=0.005)


def test_metadata_are_the_same_bytes_as_without_scores(drawn):
    train, test, _ = drawn
    plain_train, plain_test = synthetic.generate(60_000, 3_000, seed=9, malignant_rate=0.005)
    assert train.equals(plain_train) and test.equals(plain_test)


def test_every_lesion_has_one_score_and_every_train_patient_one_fold(drawn):
    train, test, scores = drawn
    assert scores.train["isic_id"].equals(train["isic_id"])
    assert scores.test["isic_id"].equals(test["isic_id"])
    for frame in (scores.train, scores.test):
        values = frame["score"].to_numpy()
        assert np.isfinite(values).all() and (values > 0).all() and (values < 1).all()
    folds = scores.folds
    assert folds["patient_id"].is_unique().all()
    assert set(folds["patient_id"]) == set(train["patient_id"])
    assert set(folds["fold"]) == set(range(image.FOLDS))
    # dealt round the folds by malignant count: the folds' malignant lesions differ by at
    # most the largest patient's count, their patients by at most one
    joined = train.join(folds, on="patient_id")
    per_fold = joined.group_by("fold").agg(pl.col("target").sum())["target"]
    per_patient = joined.group_by("patient_id").agg(pl.col("target").sum())["target"]
    assert per_fold.max() - per_fold.min() <= per_patient.max()
    patients = folds.group_by("fold").len()["len"]
    assert patients.max() - patients.min() <= 1


def test_each_fold_model_has_its_own_calibration(drawn):
    """Out-of-fold-like: the same logit reads differently in different folds, and a test score
    is the mean of the fold models, so no train fold's scale equals the test scale."""
    train, _, scores = drawn
    joined = train.select("isic_id", "patient_id", "target").join(scores.train, on="isic_id")
    joined = joined.join(scores.folds, on="patient_id")
    means = joined.filter(pl.col("target") == 0).group_by("fold").agg(pl.col("score").mean())
    assert means["score"].n_unique() == image.FOLDS
    assert means["score"].max() / means["score"].min() > 1.05


def test_image_score_is_informative_but_not_perfect(drawn):
    """At this scale the direction of the calibration: far above chance (0.02), below the
    latent atypia's own ranking (what the metadata are generated from), and below the in-fold
    warning line of train_gbdt."""
    train, _, scores = drawn
    y = train["target"].to_numpy()
    score = isic_pauc(y, scores.train["score"].to_numpy())
    frame = synthetic._draw(60_000, 3_000, 9, 0.005, 0.0).slice(0, 60_000)
    latent = isic_pauc(y, frame["u"].to_numpy())
    assert 0.10 < score < latent < IN_FOLD_PAUC
    test_y = synthetic._draw(60_000, 3_000, 9, 0.005, 0.0).slice(60_000)["target"].to_numpy()
    assert isic_pauc(test_y, scores.test["score"].to_numpy()) > 0.08


def test_same_seed_same_bytes_and_the_cli_writes_readable_files(tmp_path):
    args = ["--rows", "3000", "--test-rows", "400", "--image-scores"]
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert make_synthetic.main(["--out", str(tmp_path / name), "--seed", str(seed), *args]) == 0
    for name in synthetic.IMAGE_FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    train = read_score_file(tmp_path / "a" / "train-image-scores.csv")
    test = read_score_file(tmp_path / "a" / "test-image-scores.csv")
    assert train.columns == test.columns == [image.SCORE_COLUMN]
    assert train.frame.height == 3000 and test.frame.height == 400
    folds = pl.read_csv(tmp_path / "a" / "image-folds.csv")
    assert folds.columns == ["patient_id", "fold"]
    plain = tmp_path / "plain"
    assert make_synthetic.main(["--out", str(plain), "--seed", "3", *args[:4]]) == 0
    assert not any((plain / name).exists() for name in synthetic.IMAGE_FILES)
    for name in ("train-metadata.csv", "test-metadata.csv"):
        assert (plain / name).read_bytes() == (tmp_path / "a" / name).read_bytes()
