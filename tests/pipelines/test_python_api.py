"""`import tbp_gbdt as tbp`: one function per command, its flags as keyword arguments, frames
wherever a file goes, Polars frames back and `UserError` for mistakes."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import tbp_gbdt as tbp
from features import synthetic
from pipelines import (
    blend,
    build_features,
    compare,
    evaluate,
    feature_report,
    make_synthetic,
    predict,
    train_gbdt,
    tune,
)
from tests.conftest import FAST_TOML, REPO

COMMANDS = {
    train_gbdt: tbp.train,
    predict: tbp.predict,
    tune: tbp.tune,
    blend: tbp.blend,
    compare: tbp.compare,
    evaluate: tbp.evaluate,
    feature_report: tbp.feature_report,
    make_synthetic: tbp.make_synthetic,
    build_features: tbp.build_features,
}


def test_the_package_imports_from_outside_the_repository(tmp_path):
    """Run where the repository root is not on sys.path: only the installed package can
    answer, so a package missing from the distribution fails here."""
    code = "import tbp_gbdt as tbp; print(tbp.__file__); print(sorted(tbp.__all__))"
    env = {"PATH": "", "PYTHONPATH": "", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    location, names = done.stdout.splitlines()
    assert Path(location).resolve() == REPO / "tbp_gbdt" / "__init__.py"
    for name in ("train", "predict", "tune", "blend", "compare", "evaluate", "load_run"):
        assert repr(name) in names


@pytest.mark.parametrize("module", COMMANDS, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_flag_is_a_keyword_argument_with_the_same_default(module):
    function = COMMANDS[module]
    flags = {a.dest: a.default for a in module._parser()._actions if a.dest != "help"}
    parameters = inspect.signature(function).parameters
    assert set(flags) == set(parameters)
    for name, default in flags.items():
        expected = parameters[name].default
        if expected is inspect.Parameter.empty:
            continue  # required in Python, as the flag is on the command line
        # An empty repeatable flag is [] on the command line, () or None in Python.
        assert _plain(default) == _plain(expected), name


def _plain(value):
    if value in (None, [], ()):
        return None
    return value


@pytest.fixture(scope="module")
def fast_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api_config") / "fast.toml"
    path.write_text(FAST_TOML)
    return path


@pytest.fixture(scope="module")
def frames(small_data_dir):
    """The small data as a notebook holds it: read with pl.read_csv's own defaults (whole
    numbers as Int64, an all-empty column as String), the test rows as a pandas frame."""
    train = pl.read_csv(small_data_dir / "train-metadata.csv")
    test = pl.read_csv(small_data_dir / "test-metadata.csv")
    return train, test.to_pandas()


@pytest.fixture(scope="module")
def frame_run(tmp_path_factory, frames, fast_config):
    train, test = frames
    out = tmp_path_factory.mktemp("api_runs") / "from_frames"
    return tbp.train(train=train, test=test, out=out, config=fast_config)


def test_a_run_trained_on_frames_scores_as_the_same_rows_in_files(frame_run, trained_run, frames):
    """`trained_run` is the command on the files; the frames give the same scores."""
    from_files = json.loads((trained_run / "metrics.json").read_text())
    assert frame_run.metrics["oof_pauc"] == from_files["oof_pauc"]
    assert frame_run.oof.height == frames[0].height
    # One line in a notebook: the folder, the models and the headline score.
    ensemble = from_files["oof_pauc"]["ensemble"]
    assert (
        repr(frame_run)
        == f"Run('{frame_run.path}': lgbm, xgb, cat, ensemble out-of-fold pAUC {ensemble:.4f})"
    )
    assert (
        frame_run.oof["isic_id"].to_list()
        == pl.read_parquet(trained_run / "oof.parquet")["isic_id"].to_list()
    )
    recorded = json.loads((frame_run.path / "manifest.json").read_text())["inputs"]["frames"]
    assert recorded["train"]["rows"] == frames[0].height
    assert recorded["test"]["rows"] == len(frames[1])
    assert len(recorded["train"]["sha256"]) == 64
    assert "files" not in json.loads((frame_run.path / "manifest.json").read_text())["inputs"]


def test_predict_takes_a_frame_and_writes_nothing_unasked(frame_run, frames, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    test = frames[1]
    predicted = frame_run.predict(test)
    assert isinstance(predicted, pl.DataFrame)
    stored = frame_run.test_predictions
    assert predicted["isic_id"].to_list() == list(test["isic_id"])
    np.testing.assert_allclose(predicted["ensemble"].to_numpy(), stored["ensemble"].to_numpy())
    again = tbp.predict(frame_run, pl.from_pandas(test))
    assert again.equals(predicted)
    assert list(tmp_path.iterdir()) == []
    tbp.predict(frame_run.path, test, out=tmp_path / "submission.csv")
    written = pl.read_csv(tmp_path / "submission.csv")
    # The submission holds the calibrated probability of the ensemble.
    np.testing.assert_allclose(written["target"].to_numpy(), predicted["probability"].to_numpy())


def test_compare_two_configurations_gives_a_verdict(frame_run, reseeded_run):
    comparison = tbp.compare(frame_run, reseeded_run, bootstrap=50)
    assert comparison.verdict in {"better", "worse", "within noise"}
    assert comparison.difference == pytest.approx(comparison.score_b - comparison.score_a)
    assert comparison.score_a == pytest.approx(frame_run.metrics["oof_pauc"]["ensemble"])
    assert comparison.low <= comparison.difference <= comparison.high


def test_evaluate_a_labelled_frame(frame_run, tmp_path):
    cohort = _external_cohort()
    evaluation = tbp.evaluate(cohort.to_pandas(), run=frame_run, out=tmp_path / "evaluation")
    assert evaluation.path == tmp_path / "evaluation"
    assert evaluation.results["n_rows"] == cohort.height
    assert evaluation.results["n_positive"] == int(cohort["target"].sum())
    assert evaluation.scores["isic_id"].to_list() == cohort["isic_id"].to_list()
    assert evaluation.results["source"]["cohort"] == "cohort frame"
    assert repr(evaluation).startswith(f"Evaluation('{evaluation.path}': 3,000 lesions, ")


def _external_cohort() -> pl.DataFrame:
    """Labelled lesions of patients no run saw: another draw, its ids made distinct."""
    cohort, _ = synthetic.generate(3_000, 0, seed=99, malignant_rate=0.01)
    return cohort.with_columns(
        ("EXT_" + pl.col("isic_id")).alias("isic_id"),
        ("EXT_" + pl.col("patient_id")).alias("patient_id"),
    )


def test_blend_two_runs_with_image_scores_as_frames(frame_run, reseeded_run, tmp_path):
    oof = frame_run.oof
    rng = np.random.default_rng(0)
    image_train = oof.select("isic_id", image=pl.Series(rng.random(oof.height)))
    blended = tbp.blend(
        [frame_run, reseeded_run],
        scores={"image": (image_train, None)},
        out=tmp_path / "blend",
        bootstrap=50,
    )
    assert blended.path == tmp_path / "blend"
    assert blended.oof.height == oof.height
    assert "image" in blended.metrics["oof_pauc"]
    assert "ensemble" in blended.metrics["oof_pauc"]
    assert repr(blended).startswith(f"Blend('{blended.path}': {blended.metrics['method']}")
    assert not (blended.path / "submission.csv").exists()  # the image side has no test scores
    # Test scores as the frames `predict` returns, in place of the runs' own files.
    runs = [frame_run, tbp.load_run(reseeded_run)]
    both = tbp.blend(runs, predictions=[r.test_predictions for r in runs], out=tmp_path / "b2")
    submitted = pl.read_csv(both.path / "submission.csv")
    assert submitted["isic_id"].to_list() == frame_run.test_predictions["isic_id"].to_list()


def test_build_features_on_their_own(frames, small_data_dir, tmp_path):
    train, test = frames
    built = tbp.build_features(train, test)
    assert built.train.height == train.height
    assert built.test.height == len(test)
    assert (
        repr(built) == f"Features({len(built.names)} features; train 20,000 rows, test 2,000 rows)"
    )
    assert built.names == [
        c for c in built.train.columns if c not in ("isic_id", "patient_id", "target")
    ]
    counts = train.group_by("patient_id").len()
    joined = built.train.join(counts, on="patient_id")
    np.testing.assert_array_equal(joined["patient_lesion_count"], joined["len"].cast(pl.Float32))
    families = set(built.features["family"])
    assert {"raw", "lesion", "patient_norm", "patient_count", "patient_outlier"} <= families
    assert built.features["doc"].str.len_chars().min() > 0
    # The command writes the same frames from the files.
    args = ["--train", str(small_data_dir / "train-metadata.csv"), "--out", str(tmp_path)]
    assert build_features.main([*args, "--families", "lesion,patient_count"]) == 0
    written = pl.read_parquet(tmp_path / "train_features.parquet")
    assert not (tmp_path / "test_features.parquet").exists()
    table = pl.read_csv(tmp_path / "features.csv")
    assert set(table["family"]) == {"raw", "lesion", "patient_count"}
    assert written["patient_lesion_count"].equals(built.train["patient_lesion_count"])


def test_make_synthetic_returns_its_folder_with_the_asked_share_of_malignant_lesions(tmp_path):
    folder = tbp.make_synthetic(tmp_path / "data", rows=4_000, test_rows=0, malignant_rate=0.02)
    assert folder == tmp_path / "data"
    train = pl.read_csv(folder / "train-metadata.csv")
    assert train.height == 4_000
    assert train["target"].sum() == 80  # 2 % of 4,000
    with pytest.raises(tbp.UserError, match="^--malignant-rate: expected a share"):
        tbp.make_synthetic(tmp_path / "other", malignant_rate=0.0)
    assert not (tmp_path / "other").exists()


def test_a_config_dict_is_the_same_overlay_as_its_toml(fast_config):
    import tomllib

    from models.config import load_config

    table = tomllib.loads(fast_config.read_text())
    assert load_config(table) == load_config(fast_config)
    with pytest.raises(tbp.UserError, match="config dict"):
        load_config({"cv": {"folds": 1}})


def test_a_mistake_is_a_user_error_naming_the_frame(frames, tmp_path):
    train = frames[0].drop("target")
    with pytest.raises(tbp.UserError, match="^train frame: required column 'target' is missing"):
        tbp.train(train=train, out=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    with pytest.raises(tbp.UserError, match="--models"):
        tbp.train(train=frames[0], models=["lgbm", "gbm"], out=tmp_path / "run")
