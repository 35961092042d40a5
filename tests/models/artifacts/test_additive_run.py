"""An additive run end to end (`[models] form = "additive"`: LightGBM stumps) on tiny data with
two CV repeats and two bags: its scores are the fold models' mean log-odds, which the curves
it stores explain exactly, so its submission ranks lesions as bias + curves do; the curves are
hashed in the manifest, checked on load, and read back the same from the saved models."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features import synthetic
from features.build import build_features
from features.errors import UserError
from features.io import file_sha256, read_dataset
from models import additive
from models.artifacts import ADDITIVE_FORMAT, load_run
from models.boosters import Matrix
from pipelines import train_gbdt
from tests.conftest import CHECK_RUN, FAST_TOML

CONFIG = FAST_TOML.replace("[training]\n", "[training]\nbags = 2\n") + (
    '[models]\nnames = ["lgbm"]\nform = "additive"\n'
    "[models.lgbm]\nmax_depth = 1\nnum_leaves = 2\n"
    "[cv]\nfolds = 2\nrepeats = 2\n"
)
CURVES = ("shape_functions.parquet", "shape_functions_by_fold.parquet")


@pytest.fixture(scope="module")
def additive_run(tmp_path_factory) -> tuple[Path, Path]:
    """The data folder (3,000 train rows, 400 test rows) and the finished run folder."""
    data = tmp_path_factory.mktemp("additive_data")
    drawn = synthetic.draw(3_000, 400, seed=3, malignant_rate=0.02)
    synthetic.write_kaggle_layout(drawn.train, drawn.test, data)
    (data / "additive.toml").write_text(CONFIG)
    run = tmp_path_factory.mktemp("additive") / "run"
    args = ["--data-dir", str(data), "--config", str(data / "additive.toml"), "--out", str(run)]
    assert train_gbdt.main(args) == 0
    return data, run


def model_inputs(run, frame: pl.DataFrame) -> tuple[pl.DataFrame, Matrix]:
    built = build_features(frame, run.spec)
    return built.frame, Matrix(built.frame, run.feature_names, run.categorical)


def mean_raw(models, codes: np.ndarray) -> np.ndarray:
    return np.mean([m.fitted.booster.predict(codes, raw_score=True) for m in models], axis=0)


def by_hand(shape: pl.DataFrame, lesion: dict) -> float:
    """Bias + each feature's curve at the lesion's value, read row by row off the frame."""
    curves: dict[str, list[tuple]] = {}
    for feature, *row in shape.select(additive.COLUMNS[:5]).iter_rows():
        curves.setdefault(feature, []).append(tuple(row))
    total = curves.pop("(bias)")[0][3]
    for feature, rows in curves.items():
        x = lesion[feature]
        missing = next(c for _, _, is_missing, c in rows if is_missing)
        steps = [(v, level, c) for v, level, is_missing, c in rows if not is_missing]
        if x is None or (isinstance(x, float) and math.isnan(x)):
            total += missing
        elif steps and steps[0][1] is not None:  # levels
            total += next((c for _, level, c in steps if level == x), missing)
        else:
            # The last step whose left edge lies below x; the first step takes the rest.
            total += [c for v, _, c in steps if v < x or v == steps[0][0]][-1]
    return total


def test_the_submission_ranks_test_lesions_as_bias_plus_curves(additive_run):
    data, folder = additive_run
    run = load_run(folder)
    features, x = model_inputs(run, read_dataset(data).test)
    ids = features["isic_id"]
    log_odds = mean_raw(run.models, x.codes)  # every fold model: 2 repeats x 2 folds x 2 bags
    assert len(run.models) == 8
    lesions = features.select(run.feature_names).to_dicts()
    hand = np.array([by_hand(run.shape, lesion) for lesion in lesions])
    np.testing.assert_allclose(hand, log_odds, rtol=0, atol=1e-6)
    explained = additive.explain(run.shape, features.select(run.feature_names))
    np.testing.assert_allclose(explained.sum_horizontal(), log_odds, rtol=0, atol=1e-6)

    scored = pl.DataFrame({"isic_id": ids, "log_odds": log_odds})
    predictions = pl.read_parquet(folder / "test_predictions.parquet").join(scored, on="isic_id")
    np.testing.assert_allclose(predictions["lgbm"], predictions["log_odds"], atol=1e-9)
    np.testing.assert_allclose(
        predictions["ensemble"], 1 / (1 + np.exp(-predictions["log_odds"])), rtol=1e-12
    )
    submission = pl.read_csv(folder / "submission.csv").join(scored, on="isic_id")
    assert submission.height == 400
    # The same order: sorted by one, the other never goes down.
    assert (np.diff(submission.sort("target")["log_odds"].to_numpy()) >= -1e-9).all()
    assert (np.diff(submission.sort("log_odds")["target"].to_numpy()) >= 0).all()


def test_out_of_fold_scores_are_the_mean_log_odds_of_the_models_that_did_not_see_a_lesion(
    additive_run,
):
    data, folder = additive_run
    run = load_run(folder)
    features, x = model_inputs(run, read_dataset(data).train)
    folds = features.select("isic_id", "patient_id").join(
        pl.read_csv(folder / "folds.csv", schema_overrides={"patient_id": pl.String}),
        on="patient_id",
        how="left",
    )
    fold_of_row = np.vstack([folds["fold"].to_numpy(), folds["fold_r1"].to_numpy()])
    expected = np.zeros(features.height)
    for model in run.models:
        rows = fold_of_row[model.repeat] == model.fold
        expected[rows] += model.fitted.booster.predict(x.codes[rows], raw_score=True) / 4
    oof = folds.select("isic_id").join(pl.read_parquet(folder / "oof.parquet"), on="isic_id")
    np.testing.assert_allclose(oof["lgbm"], expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(oof["ensemble"], 1 / (1 + np.exp(-expected)), rtol=1e-12)
    explained = additive.explain_out_of_fold(
        run.shape_by_fold, features.select(run.feature_names), fold_of_row
    )
    np.testing.assert_allclose(explained.sum_horizontal(), expected, rtol=0, atol=1e-6)
    # Read back from the saved model files, the curves are the stored ones (so a resumed run,
    # whose early fits come back from their files, writes the same bytes).
    recomputed = additive.fold_curves(run.models, x, fold_of_row)
    assert recomputed.equals(run.shape_by_fold)
    assert additive.run_curves(recomputed).equals(run.shape)


def test_the_run_folder_passes_the_contract_check(additive_run):
    data, folder = additive_run
    if not CHECK_RUN.is_file():
        pytest.skip(f"{CHECK_RUN} not found")
    checked = subprocess.run(
        [sys.executable, str(CHECK_RUN), str(folder), "--test", str(data / "test-metadata.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_manifest_hashes_the_curves_and_loading_checks_them(additive_run, tmp_path):
    _, folder = additive_run
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == ADDITIVE_FORMAT == 3 and manifest["form"] == "additive"
    assert manifest["artifacts"] == {name: file_sha256(folder / name) for name in CURVES}
    assert all(name not in json.dumps(manifest["models"]) for name in CURVES)
    run = load_run(folder)
    assert run.form == "additive"
    assert run.shape.equals(pl.read_parquet(folder / CURVES[0]))
    assert run.shape_by_fold.equals(pl.read_parquet(folder / CURVES[1]))

    changed = tmp_path / "changed"
    shutil.copytree(folder, changed)
    shape = pl.read_parquet(changed / CURVES[0])
    shape.with_columns(pl.col("contribution") * 2).write_parquet(changed / CURVES[0])
    with pytest.raises(UserError) as refused:
        load_run(changed)
    assert str(refused.value) == f"{changed / CURVES[0]}: missing or changed since the run wrote it"

    missing = tmp_path / "missing"
    shutil.copytree(folder, missing)
    (missing / CURVES[1]).unlink()
    with pytest.raises(UserError, match=f"{CURVES[1]}: missing or changed"):
        load_run(missing)

    unlisted = tmp_path / "unlisted"
    shutil.copytree(folder, unlisted)
    del manifest["artifacts"][CURVES[0]]
    (unlisted / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(UserError, match=f"key 'artifacts.{CURVES[0]}' is missing"):
        load_run(unlisted)
