"""The main job's training options: calibrated submissions, determinism, version warnings,
repeated CV with rank-averaged out-of-fold scores, weighted blends, imposed folds, per-group
and leave-one-group-out scores."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import polars as pl
import pytest
from scipy.stats import rankdata

from features import io
from models.artifacts import load_run
from models.blend import Calibrator, percentile_against
from models.evaluation import isic_pauc
from pipelines import train_gbdt
from pipelines._cli import run_cli
from tests.conftest import FAST_TOML

# Two libraries, three folds, two split seeds, the weighted blend: small but every path.
OPTIONS_TOML = (
    FAST_TOML.replace("max_rounds = 60", "max_rounds = 30")
    + """
[ensemble]
method = "weighted_rank"
calibration = "platt"
"""
)


@pytest.fixture(scope="module")
def options_run(tmp_path_factory, small_data_dir):
    folder = tmp_path_factory.mktemp("options")
    config = folder / "options.toml"
    config.write_text(OPTIONS_TOML)
    out = folder / "run"
    args = ["--data-dir", str(small_data_dir), "--config", str(config), "--models", "lgbm,xgb"]
    args += ["--folds", "3", "--seeds", "2", "--eval-by", "attribution"]
    args += ["--leave-one-out", "attribution"]
    assert train_gbdt.main([*args, "--out", str(out)]) == 0
    return out, args


def test_submission_is_calibrated_and_keeps_the_ranking(trained_run):
    ensemble = json.loads((trained_run / "ensemble.json").read_text())
    calibrator = Calibrator.from_dict(ensemble["calibrator"])
    oof = pl.read_parquet(trained_run / "oof.parquet")
    y, scores = oof["target"].to_numpy(), oof["ensemble"].to_numpy()
    assert isic_pauc(y, calibrator(scores)) == isic_pauc(y, scores)
    predictions = pl.read_parquet(trained_run / "test_predictions.parquet")
    submission = pl.read_csv(trained_run / "submission.csv")
    joined = predictions.join(submission, on="isic_id")
    np.testing.assert_allclose(joined["target"], joined["probability"], rtol=1e-12)
    # Same order: every pair of distinct ensemble scores keeps its order in the submission.
    order = np.argsort(joined["ensemble"].to_numpy(), kind="stable")
    ranked = joined["ensemble"].to_numpy()[order]
    target = joined["target"].to_numpy()[order]
    distinct = np.diff(ranked) > 0
    assert (np.diff(target)[distinct] > 0).all()
    metrics = json.loads((trained_run / "metrics.json").read_text())
    report = metrics["calibration"]
    assert 0 < report["brier"] < 0.02 and report["brier_base_rate"] > 0
    assert len(report["reliability"]["mean_predicted"]) == len(
        report["reliability"]["fraction_positive"]
    )


def test_same_config_gives_a_bit_identical_oof(trained_run, small_data_dir, tmp_path):
    config = tmp_path / "fast.toml"
    config.write_text(FAST_TOML)
    again = tmp_path / "again"
    args = ["--data-dir", str(small_data_dir), "--out", str(again), "--config", str(config)]
    assert train_gbdt.main(args) == 0
    assert (again / "oof.parquet").read_bytes() == (trained_run / "oof.parquet").read_bytes()
    assert pl.read_parquet(again / "oof.parquet").equals(
        pl.read_parquet(trained_run / "oof.parquet")
    )


def test_load_run_warns_when_library_versions_differ(trained_run, tmp_path, caplog):
    copy = tmp_path / "old_run"
    shutil.copytree(trained_run, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["versions"]["lightgbm"] = "0.0.1"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level(logging.WARNING):
        load_run(trained_run)
    assert "scores may differ" not in caplog.text
    with caplog.at_level(logging.WARNING):
        load_run(copy)
    assert "lightgbm 0.0.1" in caplog.text and "scores may differ" in caplog.text


def test_repeated_cv_ranks_each_repeat_and_reports_each(options_run):
    run, _ = options_run
    metrics = json.loads((run / "metrics.json").read_text())
    oof = pl.read_parquet(run / "oof.parquet")
    repeats = pl.read_parquet(run / "oof_repeats.parquet")
    y = oof["target"].to_numpy()
    for name in ("lgbm", "xgb"):
        by_hand = np.mean(
            [rankdata(repeats[f"{name}_r{r}"], method="max") / oof.height for r in range(2)],
            axis=0,
        )
        np.testing.assert_allclose(oof[name].to_numpy(), by_hand)
        assert metrics["oof_pauc"][name] == pytest.approx(isic_pauc(y, oof[name].to_numpy()))
        assert metrics["repeat_pauc"][name] == pytest.approx(
            [isic_pauc(y, repeats[f"{name}_r{r}"].to_numpy()) for r in range(2)]
        )
        assert len(metrics["fold_pauc"][name]) == 6
    folds = pl.read_csv(run / "folds.csv")
    assert folds.columns == ["patient_id", "fold", "fold_r1"]


def test_weighted_blend_is_honoured_at_predict_time(options_run, small_data_dir):
    run, _ = options_run
    ensemble = json.loads((run / "ensemble.json").read_text())
    assert ensemble["method"] == "weighted_rank" and len(ensemble["fold_weights"]) == 3
    weights = ensemble["weights"]
    assert sum(weights.values()) == pytest.approx(1) and min(weights.values()) >= 0
    oof = pl.read_parquet(run / "oof.parquet")
    predictions = load_run(run).predict(io.read_test(small_data_dir / "test-metadata.csv"))
    by_hand = sum(
        weights[n] * percentile_against(oof[n].to_numpy(), predictions[n].to_numpy())
        for n in ("lgbm", "xgb")
    )
    np.testing.assert_allclose(predictions["ensemble"].to_numpy(), by_hand)
    assert predictions.equals(pl.read_parquet(run / "test_predictions.parquet"))


def test_groups_are_scored_in_cv_and_held_out(options_run, small_data):
    run, _ = options_run
    metrics = json.loads((run / "metrics.json").read_text())
    oof = pl.read_parquet(run / "oof.parquet").join(
        small_data[0].select("isic_id", "attribution"), on="isic_id"
    )
    by_group = metrics["by_group"]
    assert by_group["column"] == "attribution"
    assert set(by_group["groups"]) == set(oof["attribution"].unique())
    for level, entry in by_group["groups"].items():
        rows = oof.filter(pl.col("attribution") == level)
        assert entry["n_rows"] == rows.height
        if entry["pauc"]["ensemble"] is not None:
            expected = isic_pauc(rows["target"].to_numpy(), rows["ensemble"].to_numpy())
            assert entry["pauc"]["ensemble"] == pytest.approx(expected)
    held_out = metrics["leave_one_out"]
    assert held_out["column"] == "attribution"
    scored = [g for g in held_out["groups"].values() if g["pauc"] is not None]
    assert scored and all(0 <= g["pauc"]["ensemble"] <= 0.2 for g in scored)


def test_folds_file_reproduces_the_run_it_came_from(options_run, tmp_path):
    run, args = options_run
    again = tmp_path / "again"
    imposed = [a for a in args if a not in ("--leave-one-out", "--eval-by", "attribution")]
    imposed = [a for a in imposed if a != "3" and a != "--folds"]
    assert (
        train_gbdt.main([*imposed, "--folds-file", str(run / "folds.csv"), "--out", str(again)])
        == 0
    )
    assert (again / "folds.csv").read_bytes() == (run / "folds.csv").read_bytes()
    assert pl.read_parquet(again / "oof.parquet").equals(pl.read_parquet(run / "oof.parquet"))


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--folds-file", "no/such.csv", "no/such.csv: folds file not found"),
        ("--eval-by", "no_such_column", "column 'no_such_column' is not in the training data"),
        ("--leave-one-out", "age_approx", "expected a categorical column"),
    ],
)
def test_option_mistakes_exit_2_with_one_line(
    flag, value, message, small_data_dir, tmp_path, capsys
):
    out = tmp_path / "run"
    argv = ["--data-dir", str(small_data_dir), "--out", str(out), flag, value]
    assert run_cli(lambda: train_gbdt.main(argv)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists() and not (tmp_path / "run.partial").exists()
