"""`python -m pipelines.blend`: the blend folder's contract (scores that agree with the columns, a
submission in sample order that blend.json reproduces), and user errors that leave nothing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import polars as pl
import pytest

from features.io import read_sample_ids
from models.blend import METHODS, apply_blend
from models.evaluation import isic_pauc
from pipelines import blend
from pipelines._cli import run_cli

KEYS = ["isic_id", "patient_id", "target", "fold"]


def _blend(capsys, *args) -> tuple[int, str, str]:
    code = run_cli(lambda: blend.main([str(a) for a in args]))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def image_scores(tmp_path_factory, trained_run, small_data_dir):
    """An image model's scores: train out-of-fold-like (the label plus noise), test random."""
    folder = tmp_path_factory.mktemp("image")
    rng = np.random.default_rng(5)
    oof = pl.read_parquet(trained_run / "oof.parquet").sample(fraction=1.0, shuffle=True, seed=1)
    train = oof.select("isic_id", image=pl.col("target") * 1.5 + rng.normal(size=oof.height))
    test_ids = read_sample_ids(small_data_dir / "sample_submission.csv")
    test = pl.DataFrame({"isic_id": test_ids.reverse(), "image": rng.normal(size=test_ids.len())})
    train.write_csv(folder / "train-image-scores.csv")
    test.write_parquet(folder / "test-image-scores.parquet")
    return folder / "train-image-scores.csv", folder / "test-image-scores.parquet"


@pytest.fixture(scope="module")
def blended(tmp_path_factory, trained_run, reseeded_run, image_scores):
    out = tmp_path_factory.mktemp("blends") / "blend"
    train, test = image_scores
    args = ["--run", trained_run, "--run", reseeded_run, "--scores", f"image={train},{test}"]
    code = run_cli(lambda: blend.main([str(a) for a in [*args, "--out", out, "--bootstrap", 50]]))
    assert code == 0
    return out


def test_the_blend_folder_scores_agree_with_its_columns(blended, trained_run):
    oof = pl.read_parquet(blended / "oof.parquet")
    components = ["run", "run_2", "image"]
    assert oof.columns == [*KEYS, *components, *METHODS, "blend", "ensemble"]
    assert oof.select(KEYS).equals(pl.read_parquet(trained_run / "oof.parquet").select(KEYS))
    metrics = json.loads((blended / "metrics.json").read_text())
    y = oof["target"].to_numpy()
    assert set(metrics["oof_pauc"]) == {*components, *METHODS, "ensemble"}
    for name, value in metrics["oof_pauc"].items():
        assert value == pytest.approx(isic_pauc(y, oof[name].to_numpy()), abs=1e-12)
        low, high = metrics["oof_pauc_ci"][name]
        assert low <= value <= high
    chosen = metrics["method"]
    assert chosen in METHODS and metrics["asked"] == "best"
    assert oof["ensemble"].equals(oof[chosen].alias("ensemble"))
    assert oof["blend"].equals(oof[chosen].alias("blend"))
    assert set(metrics["against_rank_mean"]) == {"weighted_rank", "stack"}
    weights = metrics["fits"]["weighted_rank"]["weights"]
    assert sum(weights.values()) == pytest.approx(1.0) and set(weights) == set(components)
    assert all(isinstance(v, float) for v in weights.values())


def test_the_submission_follows_the_sample_and_blend_json_reproduces_it(
    blended, trained_run, reseeded_run, image_scores, small_data_dir
):
    submission = pl.read_csv(blended / "submission.csv")
    sample = read_sample_ids(small_data_dir / "sample_submission.csv")
    assert submission.columns == ["isic_id", "target"]
    assert submission["isic_id"].to_list() == sample.to_list()
    target = submission["target"].to_numpy()
    assert np.isfinite(target).all() and target.min() >= 0 and target.max() <= 1
    # Blend the components' test scores again from blend.json and the oof references alone.
    stored = json.loads((blended / "blend.json").read_text())
    oof = pl.read_parquet(blended / "oof.parquet")
    ids = sample.to_frame()
    test = {
        name: ids.join(
            pl.read_parquet(folder / "test_predictions.parquet"),
            on="isic_id",
            maintain_order="left",
        )["ensemble"].to_numpy()
        for name, folder in (("run", trained_run), ("run_2", reseeded_run))
    }
    test["image"] = ids.join(pl.read_parquet(image_scores[1]), on="isic_id", maintain_order="left")[
        "image"
    ].to_numpy()
    references = {name: oof[name].to_numpy() for name in stored["components"]}
    again = apply_blend(stored, references, test)
    predictions = pl.read_parquet(blended / "test_predictions.parquet")
    np.testing.assert_allclose(predictions["ensemble"].to_numpy(), again, rtol=1e-12)
    # The calibrated submission keeps the blend's order.
    order = np.argsort(again, kind="stable")
    assert np.all(np.diff(target[order]) >= 0)


def test_a_method_asked_for_is_the_one_written(
    capsys, tmp_path, trained_run, reseeded_run, image_scores
):
    out = tmp_path / "stacked"
    train, _ = image_scores
    code, stdout, _ = _blend(
        capsys, "--run", trained_run, "--run", reseeded_run, "--scores", f"image={train}",
        "--method", "stack", "--out", out, "--bootstrap", 20,
    )  # fmt: skip
    assert code == 0 and "method: stack (asked: stack)" in stdout
    stored = json.loads((out / "blend.json").read_text())
    assert stored["method"] == "stack" and set(stored["stack"]["coefficients"]) == {
        "run",
        "run_2",
        "image",
    }
    # The image scores have no test file: nothing to submit.
    assert not (out / "submission.csv").exists()
    assert "no submission.csv" in stdout


def test_a_score_file_without_a_lesion_exits_2_and_writes_nothing(
    capsys, tmp_path, trained_run, image_scores
):
    train = pl.read_csv(image_scores[0])
    short = tmp_path / "short.csv"
    train.slice(1).write_csv(short)
    out = tmp_path / "blend"
    code, _, err = _blend(capsys, "--run", trained_run, "--scores", f"image={short}", "--out", out)
    assert code == 2
    assert err.startswith(f"error: {short}: isic_id {train['isic_id'][0]} ") and "missing" in err
    assert err.count("\n") == 1
    assert not out.exists() and not (tmp_path / "blend.partial").exists()


def test_runs_on_other_folds_exit_2_naming_the_patient(capsys, tmp_path, trained_run):
    moved = tmp_path / "moved"
    shutil.copytree(trained_run, moved)
    oof = pl.read_parquet(moved / "oof.parquet")
    patient = oof["patient_id"][0]
    oof.with_columns(
        fold=pl.when(pl.col("patient_id") == patient)
        .then((pl.col("fold") + 1) % 5)
        .otherwise(pl.col("fold"))
    ).write_parquet(moved / "oof.parquet")
    code, _, err = _blend(capsys, "--run", trained_run, "--run", moved, "--out", tmp_path / "b")
    assert code == 2 and f"patient {patient} is in fold" in err


@pytest.mark.parametrize(
    ("scores", "message"),
    [("image", "expected NAME=TRAIN_FILE,TEST_FILE"), ("x=a,b,c", "expected")],
)
def test_a_malformed_scores_flag_exits_2(capsys, tmp_path, trained_run, scores, message):
    out = tmp_path / "b"
    code, _, err = _blend(capsys, "--run", trained_run, "--scores", scores, "--out", out)
    assert code == 2 and message in err


def test_an_existing_blend_folder_is_not_overwritten(capsys, blended, trained_run):
    before = (blended / "metrics.json").read_bytes()
    code, _, err = _blend(capsys, "--run", trained_run, "--out", blended)
    assert code == 2 and "already exists" in err
    assert (blended / "metrics.json").read_bytes() == before


def test_predictions_for_another_test_file_and_a_sample_order_the_submission(
    capsys, tmp_path, blended, trained_run, reseeded_run, image_scores, small_data_dir
):
    # As in a notebook: each run's scores of the test file come from `predict --predictions`
    # (here the runs' own, shuffled), the order from the sample submission.
    files = []
    for k, run in enumerate((trained_run, reseeded_run)):
        path = tmp_path / f"predictions{k}.parquet"
        pl.read_parquet(run / "test_predictions.parquet").sample(
            fraction=1.0, shuffle=True, seed=k
        ).write_parquet(path)
        files.append(path)
    train, test = image_scores
    out = tmp_path / "again"
    sample = small_data_dir / "sample_submission.csv"
    code, _, err = _blend(
        capsys, "--run", trained_run, "--run", reseeded_run, "--scores", f"image={train},{test}",
        "--predictions", files[0], "--predictions", files[1], "--sample", sample,
        "--out", out, "--bootstrap", 50,
    )  # fmt: skip
    assert code == 0, err
    expected = pl.read_csv(blended / "submission.csv")
    assert pl.read_csv(out / "submission.csv").equals(expected)
    # A sample that lacks a test lesion is refused.
    short = tmp_path / "short_sample.csv"
    expected.slice(1).write_csv(short)
    code, _, err = _blend(
        capsys, "--run", trained_run, "--predictions", files[0], "--sample", short,
        "--out", tmp_path / "other",
    )  # fmt: skip
    assert code == 2 and f"{short}: isic_id set does not match" in err
