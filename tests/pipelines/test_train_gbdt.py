"""The main job end to end: the run folder contract, exact re-prediction, real files, errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from features import io
from models.artifacts import load_run
from models.evaluation import isic_pauc
from tests.conftest import CHECK_RUN, FAST_TOML, REPO


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def test_run_folder_passes_the_contract_checker(trained_run, small_data_dir):
    if not CHECK_RUN.is_file():
        pytest.skip(f"{CHECK_RUN} not found")
    result = subprocess.run(
        [
            sys.executable,
            str(CHECK_RUN),
            str(trained_run),
            "--train",
            str(small_data_dir / "train-metadata.csv"),
            "--test",
            str(small_data_dir / "test-metadata.csv"),
            "--sample",
            str(small_data_dir / "sample_submission.csv"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout
    assert "run folder ok" in result.stdout


def test_metrics_agree_with_the_predictions(trained_run):
    metrics = json.loads((trained_run / "metrics.json").read_text())
    oof = pl.read_parquet(trained_run / "oof.parquet")
    y = oof["target"].to_numpy()
    assert set(metrics["oof_pauc"]) == {"lgbm", "xgb", "cat", "ensemble"}
    for name, value in metrics["oof_pauc"].items():
        assert value == pytest.approx(isic_pauc(y, oof[name].to_numpy()), abs=1e-12)
        low, high = metrics["oof_pauc_ci"][name]
        assert low <= value <= high
        assert len(metrics["fold_pauc"][name]) == 5
        assert len(metrics["repeat_pauc"][name]) == 1
        assert 0 <= metrics["oof_top15"][name] <= 1
    assert metrics["n_rows"] == oof.height and metrics["n_positive"] == int(y.sum())
    assert metrics["oof_pauc"]["ensemble"] > 0.08  # well above chance (0.02)


def test_manifest_records_what_a_user_needs(trained_run, small_data_dir):
    manifest = json.loads((trained_run / "manifest.json").read_text())
    assert {"lightgbm", "xgboost", "catboost", "polars"} <= set(manifest["versions"])
    assert manifest["config"]["cv"]["folds"] == 5
    assert "attribution" in manifest["feature_spec"]["levels"]
    assert not {"target", "lesion_id"} & set(manifest["feature_names"])
    hashes = manifest["inputs"]["sha256"]
    assert hashes[str(small_data_dir / "train-metadata.csv")] == io.file_sha256(
        small_data_dir / "train-metadata.csv"
    )
    files = {entry["file"] for entry in manifest["models"]}
    assert len(files) == 15  # 3 libraries x 5 folds
    suffixes = {f.rsplit(".", 1)[1] for f in files}
    assert suffixes == {"txt", "ubj", "cbm"}
    assert all((trained_run / f).is_file() for f in files)
    assert (trained_run / "folds.csv").is_file() and (trained_run / "config.toml").is_file()
    assert not list(trained_run.parent.glob("*.partial"))


def test_predict_reproduces_the_run_exactly(trained_run, small_data_dir, tmp_path):
    out = tmp_path / "submission.csv"
    result = _cli(
        "pipelines.predict",
        "--run",
        str(trained_run),
        "--test",
        str(small_data_dir / "test-metadata.csv"),
        "--sample",
        str(small_data_dir / "sample_submission.csv"),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == (trained_run / "submission.csv").read_bytes()
    # The Python call gives the same per-model scores as the run's test_predictions.parquet.
    test = io.read_test(small_data_dir / "test-metadata.csv")
    again = load_run(trained_run).predict(test)
    stored = pl.read_parquet(trained_run / "test_predictions.parquet")
    assert again.equals(stored)


def test_a_test_lesion_score_does_not_depend_on_its_batch(trained_run, small_data_dir):
    test = io.read_test(small_data_dir / "test-metadata.csv")
    run = load_run(trained_run)
    first_patient = test.filter(pl.col("patient_id") == test["patient_id"][0])
    alone = run.predict(first_patient)
    together = run.predict(test).filter(pl.col("isic_id").is_in(alone["isic_id"].implode()))
    np.testing.assert_allclose(
        alone["ensemble"].to_numpy(), together["ensemble"].to_numpy(), rtol=0, atol=1e-6
    )


def test_synthetic_run_scores_the_real_test_file(trained_run, real_dir, tmp_path):
    out = tmp_path / "real.csv"
    result = _cli(
        "pipelines.predict",
        "--run",
        str(trained_run),
        "--test",
        str(real_dir / "test-metadata.csv"),
        "--sample",
        str(real_dir / "sample_submission.csv"),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    submission = pl.read_csv(out)
    assert submission["isic_id"].to_list() == ["ISIC_0015657", "ISIC_0015729", "ISIC_0015740"]
    assert submission["target"].is_between(0, 1).all()  # FNQH Cairns included


def test_real_train_sample_completes_or_explains(real_dir, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(real_dir / "train-metadata-50.csv", data / "train-metadata.csv")
    shutil.copy(real_dir / "test-metadata.csv", data / "test-metadata.csv")
    shutil.copy(real_dir / "sample_submission.csv", data / "sample_submission.csv")
    config = tmp_path / "fast.toml"
    config.write_text(FAST_TOML)
    run = tmp_path / "run"
    result = _cli(
        "pipelines.train_gbdt", "--data-dir", str(data), "--out", str(run), "--config", str(config)
    )
    if result.returncode == 0:
        assert pl.read_csv(run / "submission.csv").height == 3
    else:
        assert result.returncode == 2
        assert "malignant" in result.stderr.strip().splitlines()[-1]
        assert not run.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-dir", "no/such/folder"], "no/such/folder: data folder not found"),
        (["--models", "lgbm,rf"], "--models: 'lgbm,rf'"),
        (["--config", "missing.toml"], "missing.toml: config file not found"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "run"
    result = _cli("pipelines.train_gbdt", *args, "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
    assert not out.exists() and not out.with_name("run.partial").exists()


def test_bad_value_in_the_data_names_file_column_and_row(small_data, tmp_path):
    train = small_data[0].head(300).with_columns(pl.col("tbp_lv_x").cast(pl.String))
    train = train.with_columns(
        pl.when(pl.int_range(pl.len()) == 41)
        .then(pl.lit("n/a"))
        .otherwise(pl.col("tbp_lv_x"))
        .alias("tbp_lv_x")
    )
    train.write_csv(tmp_path / "train-metadata.csv")
    result = _cli("pipelines.train_gbdt", "--data-dir", str(tmp_path), "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: {tmp_path / 'train-metadata.csv'}: column 'tbp_lv_x', data row 42: "
        "cannot read 'n/a' as a number"
    )


def test_main_job_on_embedded_data(tmp_path):
    """The README's first command (its time: the README, dated with the machine's load)."""
    result = _cli("pipelines.train_gbdt", "--out", str(tmp_path / "run"), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "ensemble" in result.stdout
