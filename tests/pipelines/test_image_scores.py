"""Image-model scores through the commands: train_gbdt with them as features on the image
model's folds, predict reproducing its test predictions, missing scores, the in-fold warning,
resume refusing another score file, and evaluate scoring a cohort with its image scores."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from features import synthetic
from features.build import FeatureSpec
from features.score_files import read_score_file
from models import artifacts
from models.config import load_config
from models.cv import STOP_AFTER_ENV
from models.evaluation import isic_pauc
from models.external import evaluate_run
from models.external.training_data import training_frame
from pipelines import predict, train_gbdt
from pipelines._cli import run_cli
from tests.conftest import CHECK_RUN, FAST_TOML, REPO


@pytest.fixture(scope="module")
def image_data(tmp_path_factory):
    """The small data set (the same rows as `small_data`) with synthetic image scores."""
    folder = tmp_path_factory.mktemp("image_data")
    train, test, scores = synthetic.generate_with_image_scores(
        20_000, 2_000, seed=7, malignant_rate=0.005
    )
    synthetic.write_kaggle_layout(train, test, folder)
    synthetic.write_image_scores(scores, folder)
    (folder / "fast.toml").write_text(FAST_TOML)
    return folder


def _args(data, out, *more: str) -> list[str]:
    return [
        "--data-dir", str(data), "--out", str(out), "--config", str(data / "fast.toml"), *more,
    ]  # fmt: skip


def _scores(data) -> list[str]:
    return [
        "--image-scores-train", str(data / "train-image-scores.csv"),
        "--image-scores-test", str(data / "test-image-scores.csv"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def image_run(image_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("image_run") / "run"
    folds = ["--folds-file", str(image_data / "image-folds.csv")]
    assert train_gbdt.main(_args(image_data, out, *folds, *_scores(image_data))) == 0
    return out


def test_the_run_uses_the_image_folds_and_lists_the_features(image_run, image_data):
    oof = pl.read_parquet(image_run / "oof.parquet")
    folds = pl.read_csv(image_data / "image-folds.csv")
    joined = oof.join(folds, on="patient_id", suffix="_image")
    assert joined.height == oof.height and (joined["fold"] == joined["fold_image"]).all()
    manifest = json.loads((image_run / "manifest.json").read_text())
    image = [f["name"] for f in manifest["features"] if f["family"] == "image"]
    assert image == [
        "image_score",
        "image_score_patient_ratio",
        "image_score_patient_pct",
        "image_score_population_z",
    ]
    assert set(image) <= set(manifest["feature_names"])
    described = manifest["inputs"]["image_scores"]
    train_file = read_score_file(image_data / "train-image-scores.csv")
    assert described["train"]["sha256"] == train_file.sha256
    assert described["train"]["columns"] == ["score"] and described["allow_missing"] is False
    # metrics.json's own score of the train file, against one computed from the files
    metrics = json.loads((image_run / "metrics.json").read_text())
    labels = pl.read_csv(image_data / "train-metadata.csv", columns=["isic_id", "target"])
    both = labels.join(train_file.frame, on="isic_id")
    expected = isic_pauc(both["target"].to_numpy(), both["score"].to_numpy())
    assert metrics["image_scores"]["train_pauc"]["score"] == pytest.approx(expected, abs=1e-12)
    assert metrics["image_scores"]["looks_in_fold"] == []


def test_predict_reproduces_the_runs_test_predictions(image_run, image_data, tmp_path):
    if CHECK_RUN.is_file():
        checked = subprocess.run(
            [sys.executable, str(CHECK_RUN), str(image_run)]
            + ["--test", str(image_data / "test-metadata.csv")],
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout
    out, table = tmp_path / "submission.csv", tmp_path / "predictions.parquet"
    argv = ["--run", str(image_run), "--test", str(image_data / "test-metadata.csv")]
    argv += ["--sample", str(image_data / "sample_submission.csv"), "--out", str(out)]
    argv += ["--image-scores", str(image_data / "test-image-scores.csv")]
    assert predict.main([*argv, "--predictions", str(table), "--batch-rows", "300"]) == 0
    assert out.read_bytes() == (image_run / "submission.csv").read_bytes()
    assert pl.read_parquet(table).equals(pl.read_parquet(image_run / "test_predictions.parquet"))


def test_predict_needs_the_scores_a_run_was_trained_with(
    image_run, trained_run, image_data, tmp_path, capsys
):
    out = tmp_path / "submission.csv"
    argv = ["--run", str(image_run), "--test", str(image_data / "test-metadata.csv")]
    assert run_cli(lambda: predict.main([*argv, "--out", str(out)])) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained with image scores (score)" in err[0]
    assert "--image-scores" in err[0] and not out.exists()
    scores = ["--image-scores", str(image_data / "test-image-scores.csv")]
    argv[1] = str(trained_run)
    assert run_cli(lambda: predict.main([*argv, *scores, "--out", str(out)])) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "trained without image scores" in err[0] and not out.exists()


def test_a_missing_test_score_stops_predict_or_becomes_null(image_run, image_data, tmp_path):
    test = pl.read_csv(image_data / "test-image-scores.csv")
    lacking = tmp_path / "test-scores.parquet"
    test.slice(1).write_parquet(lacking)
    out = tmp_path / "submission.csv"
    argv = ["--run", str(image_run), "--test", str(image_data / "test-metadata.csv")]
    argv += ["--out", str(out), "--image-scores", str(lacking)]
    assert run_cli(lambda: predict.main(argv)) == 2 and not out.exists()
    assert predict.main([*argv, "--allow-missing-scores"]) == 0
    scored = pl.read_csv(out)
    assert scored.height == test.height and scored["target"].is_finite().all()


def test_evaluate_scores_a_cohort_with_its_image_scores(image_run, image_data, tmp_path):
    # The test lesions' labels, from the same draw as the files.
    labels = synthetic.draw(20_000, 2_000, seed=7, malignant_rate=0.005).test_labels
    labels.write_csv(tmp_path / "labels.csv")
    cohort, scores = image_data / "test-metadata.csv", image_data / "test-image-scores.csv"
    results = evaluate_run(
        image_run, cohort, tmp_path / "evaluation", labels=tmp_path / "labels.csv",
        image_scores=scores,
    ).results  # fmt: skip
    assert results["source"]["image_scores"] == str(scores)
    # The same lesions, features and models as the run's own test predictions.
    predicted = pl.read_parquet(image_run / "test_predictions.parquet").join(labels, on="isic_id")
    expected = isic_pauc(predicted["target"].to_numpy(), predicted["ensemble"].to_numpy())
    assert results["pauc"]["ensemble"] == pytest.approx(expected, abs=1e-12)
    # The shift's training side carries the image scores the run recorded.
    manifest = json.loads((image_run / "manifest.json").read_text())
    train = training_frame(manifest, FeatureSpec.from_dict(manifest["feature_spec"]))
    recorded = pl.read_csv(image_data / "train-image-scores.csv")
    joined = train.select("isic_id", "image_score").join(recorded, on="isic_id")
    assert joined.height == train.height and (joined["image_score"] == joined["score"]).all()


def test_missing_train_scores_stop_before_anything_is_written(image_data, tmp_path, capsys):
    lacking = tmp_path / "train-scores.csv"
    train = pl.read_csv(image_data / "train-image-scores.csv")
    train.filter(pl.col("isic_id") != train["isic_id"][7]).write_csv(lacking)
    out = tmp_path / "run"
    argv = _args(image_data, out, "--image-scores-train", str(lacking), "--image-scores-test")
    argv.append(str(image_data / "test-image-scores.csv"))
    assert run_cli(lambda: train_gbdt.main(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"error: {lacking}: isic_id {train['isic_id'][7]} is not in the file")
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    # the test file's lesions need scores too, checked before training
    argv = _args(
        image_data, out, "--image-scores-train", str(image_data / "train-image-scores.csv")
    )
    assert run_cli(lambda: train_gbdt.main(argv)) == 2
    assert "--image-scores-test" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "run.partial").exists()
    argv = _args(image_data, out, "--image-scores-test", str(image_data / "test-image-scores.csv"))
    assert run_cli(lambda: train_gbdt.main(argv)) == 2
    assert "expected --image-scores-train" in capsys.readouterr().err


def test_in_fold_scores_are_warned_of_and_missing_ones_allowed(image_data, tmp_path, caplog):
    """A train file whose scores nearly are the label, as a model's scores of its own training
    lesions are, with one lesion left out and --allow-missing-scores."""
    labels = pl.read_csv(image_data / "train-metadata.csv", columns=["isic_id", "target"])
    noise = np.random.default_rng(0).random(labels.height)
    leaky = labels.select("isic_id", score=pl.col("target") * 0.7 + pl.Series(noise) * 0.6)
    path = tmp_path / "in-fold.csv"
    leaky.slice(1).write_csv(path)
    out = tmp_path / "run"
    argv = _args(image_data, out, "--models", "lgbm", "--folds", "2", "--allow-missing-scores")
    argv += ["--image-scores-train", str(path)]
    argv += ["--image-scores-test", str(image_data / "test-image-scores.csv")]
    with caplog.at_level(logging.INFO):
        assert train_gbdt.main(argv) == 0
    warned = [r for r in caplog.records if "IN-FOLD" in r.getMessage()]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert f"1 of {labels.height} lesions have no score" in caplog.text
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["image_scores"]["looks_in_fold"] == ["score"]
    assert metrics["image_scores"]["train_pauc"]["score"] > 0.19
    assert metrics["image_scores"]["missing_train"] == {"score": 1}


def test_resume_refuses_another_score_file(image_data, tmp_path):
    out = tmp_path / "run"
    common = _args(image_data, out, "--models", "lgbm", "--folds", "2", *_scores(image_data))
    env = {**os.environ, STOP_AFTER_ENV: "1"}
    killed = _train(common, env)
    assert killed.returncode == 75, killed.stderr
    other = tmp_path / "other-scores.csv"
    scores = pl.read_csv(image_data / "train-image-scores.csv")
    scores.with_columns(pl.col("score") * 0.5).write_csv(other)
    swapped = [str(other) if a.endswith("train-image-scores.csv") else a for a in common]
    refused = _train([*swapped, "--resume"], dict(os.environ))
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "the input data differs" in lines[0], refused.stderr
    # by content, as the data files: the same scores in another place are the same input
    moved = tmp_path / "moved.csv"
    shutil.copy(image_data / "train-image-scores.csv", moved)
    config = load_config(image_data / "fast.toml")
    stamps = []
    for train_file in (image_data / "train-image-scores.csv", moved, other):
        inputs = {"image_scores": {"train": {"sha256": read_score_file(train_file).sha256}}}
        stamps.append(artifacts.fingerprint(config, inputs)["inputs_sha256"])
    assert stamps[0] == stamps[1] != stamps[2]


def _train(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.train_gbdt", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
