"""Killed at any point (issue 14 part 2): train_gbdt, predict, blend and tune die by SIGKILL
at chosen points (`models.faults`: while the features are built, between fits, while a file is
written). No complete-looking output is left; predict refuses the half-written run folder with
one line; rerunning (train_gbdt with --resume, which also takes over the dead run's lock) ends
with the same oof.parquet, test_predictions.parquet and submission.csv bytes as a run that was
never interrupted; a tune study whose trial was killed ends complete, the trial retried; a
killed evaluate leaves no evaluation folder and reruns to the same files.

The killed commands of one test run side by side, then their reruns: the cost is about two
commands' time per test, not one per kill point."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
import tomllib

import optuna
from optuna.trial import TrialState

from pipelines import blend, compare, evaluate, predict
from pipelines._cli import run_cli
from tests.conftest import CHECK_RUN
from tests.pipelines.conftest import (
    RESULT_FILES,
    blend_args,
    finish,
    in_process,
    predict_args,
    same_bytes,
    start,
    train_args,
)

KILLED = -signal.SIGKILL
# Where a training run dies: features built and nothing fitted; two of four fits kept and
# the third finished but not yet kept; the submission's copy written, not renamed; every file
# but metrics.json (the last) in place.
TRAIN_POINTS = ["features", "fit_done:3", "write:submission.csv", "write:metrics.json"]


def visible(folder) -> set[str]:
    """What a user sees in `folder`: names not hidden (temporary copies are hidden)."""
    return {p.name for p in folder.iterdir() if not p.name.startswith(".")}


def test_a_killed_training_run_leaves_nothing_complete_and_resumes_to_the_same_bytes(
    tiny_dir, tiny_run, tmp_path, capsys
):
    outs = {point: tmp_path / point.replace(":", "-") / "run" for point in TRAIN_POINTS}
    killed = {p: start("train_gbdt", train_args(tiny_dir, out), p) for p, out in outs.items()}
    for point, out in outs.items():
        code, err = finish(killed[point])
        assert code == KILLED, f"{point}: {err}"
        partial = out.with_name("run.partial")
        # Only the unfinished folder and the dead run's lock, naming it, are left.
        assert visible(out.parent) == {"run.partial", "run.lock"}, point
        assert json.loads(out.with_name("run.lock").read_text())["pid"] == killed[point].pid
        assert not (partial / "metrics.json").exists()
        if point == "write:submission.csv":
            assert not (partial / "submission.csv").exists()
            assert [p.name for p in partial.glob(".submission.csv.*.tmp")]  # the cut copy
        # predict refuses the unfinished folder, with one line.
        code, lines = in_process(
            capsys, predict, predict_args(tiny_dir, partial, tmp_path / "no.csv")
        )
        assert code == 2 and len(lines) == 1, lines
        assert f"{partial}: an unfinished run folder" in lines[0]
        assert f"train_gbdt --resume --out {out}" in lines[0]
        assert not (tmp_path / "no.csv").exists()

    # Its oof.parquet complete, the partial folder is still no blend's or comparison's input.
    partial = outs["write:metrics.json"].with_name("run.partial")
    for command, args in [
        (blend, blend_args(partial, tmp_path / "blend")),
        (compare, [str(partial), str(tiny_run)]),
    ]:
        code, lines = in_process(capsys, command, args)
        assert (
            lines
            == [f"error: {partial}: an unfinished folder; expected a finished run or blend folder"]
            and code == 2
        )
    # The most complete-looking state, renamed by hand, is still refused: no metrics.json.
    looks_done = tmp_path / "looks-done"
    shutil.copytree(partial, looks_done)
    code, lines = in_process(capsys, predict, predict_args(tiny_dir, looks_done, tmp_path / "x"))
    assert code == 2 and lines == [
        f"error: {looks_done}: an incomplete run folder (no metrics.json, the file a run "
        "writes last)"
    ]

    resumed = {
        p: start("train_gbdt", train_args(tiny_dir, out, "--resume")) for p, out in outs.items()
    }
    errors = {}
    for point, out in outs.items():
        code, errors[point] = finish(resumed[point])
        assert code == 0, f"{point}: {errors[point]}"
        assert visible(out.parent) == {"run"}, point  # lock and partial folder gone
        same_bytes(out, tiny_run)
    assert "resuming: 2 of 4 fits already done, 2 to run" in errors["fit_done:3"]
    if CHECK_RUN.is_file():
        checked = subprocess.run(
            [sys.executable, str(CHECK_RUN), str(outs["fit_done:3"])]
            + ["--test", str(tiny_dir / "test-metadata.csv")]
            + ["--sample", str(tiny_dir / "sample_submission.csv")],
            capture_output=True,
            text=True,
        )
        assert checked.returncode == 0, checked.stdout


def test_a_killed_predict_leaves_no_submission_and_reruns_to_the_same_bytes(
    tiny_dir, tiny_run, tmp_path
):
    # Killed with the run loaded and nothing scored, and while the submission is written.
    points = {"predict": tmp_path / "loaded", "write:submission.csv": tmp_path / "writing"}
    killed = {}
    for point, folder in points.items():
        folder.mkdir()
        killed[point] = start("predict", _predict(tiny_dir, tiny_run, folder), point)
    for point, folder in points.items():
        code, err = finish(killed[point])
        assert code == KILLED, err
        assert visible(folder) == set(), point
        assert (
            run_cli(lambda folder=folder: predict.main(_predict(tiny_dir, tiny_run, folder))) == 0
        )
        assert visible(folder) == {"submission.csv", "p.parquet"}
        assert (folder / "submission.csv").read_bytes() == (
            tiny_run / "submission.csv"
        ).read_bytes()
        assert (folder / "p.parquet").read_bytes() == (
            tiny_run / "test_predictions.parquet"
        ).read_bytes()


def _predict(tiny_dir, run, folder) -> list[str]:
    return predict_args(
        tiny_dir, run, folder / "submission.csv", "--predictions", str(folder / "p.parquet")
    )


def test_a_killed_blend_leaves_no_folder_and_reruns_to_the_same_bytes(
    tiny_run, tiny_blend, tmp_path
):
    points = ["write:oof.parquet", "write:submission.csv"]
    outs = {p: tmp_path / p.replace(":", "-") / "blend" for p in points}
    killed = {p: start("blend", blend_args(tiny_run, out), p) for p, out in outs.items()}
    for point, out in outs.items():
        code, err = finish(killed[point])
        assert code == KILLED, err
        assert visible(out.parent) == {"blend.partial", "blend.lock"}, point
        assert not (out.with_name("blend.partial") / "submission.csv").exists()
        assert run_cli(lambda out=out: blend.main(blend_args(tiny_run, out))) == 0
        assert visible(out.parent) == {"blend"}, point
        same_bytes(out, tiny_blend, RESULT_FILES)


def test_a_killed_evaluation_leaves_no_folder_and_reruns_to_the_same_bytes(
    tiny_dir, tiny_run, tmp_path
):
    # Killed while scores.parquet is written, and with the folder complete under its .partial
    # name: the next evaluation replaces the partial folder and takes over the lock.
    points = ["write:scores.parquet", "evaluation_done"]
    outs = {p: tmp_path / p.replace(":", "-") / "evaluation" for p in points}
    killed = {
        p: start("evaluate", _evaluate(tiny_dir, tiny_run, out), p) for p, out in outs.items()
    }
    for point, out in outs.items():
        code, err = finish(killed[point])
        assert code == KILLED, err
        assert visible(out.parent) == {"evaluation.lock", "evaluation.partial"}, point
        assert run_cli(lambda out=out: evaluate.main(_evaluate(tiny_dir, tiny_run, out))) == 0
        assert visible(out.parent) == {"evaluation"}, point
        assert visible(out) == {
            "evaluation.json", "scores.parquet", "evaluation.html", "evaluation.md",
        }  # fmt: skip
    same_bytes(*outs.values(), ("evaluation.json", "scores.parquet"))


def _evaluate(tiny_dir, run, out) -> list[str]:
    cohort = ["--cohort", str(tiny_dir / "test-metadata.csv")]
    return [
        "--run",
        str(run),
        *cohort,
        "--labels",
        str(tiny_dir / "test-labels.csv"),
        "--out",
        str(out),
    ]


def test_a_tune_study_with_a_killed_trial_ends_complete(tiny_dir, tmp_path):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    args = ["--model", "lgbm", "--data-dir", str(tiny_dir), "--config", str(tiny_dir / "tiny.toml")]
    args += ["--storage", storage, "--study", "kill", "--n-trials", "3", "--heartbeat", "1"]
    args += ["--out", str(tmp_path / "best.toml")]
    # Two folds a trial: the third fit is the second trial's first fold.
    code, err = finish(start("tune", args, "fit_done:3"))
    assert code == KILLED, err
    assert visible(tmp_path) == {"study.db"}
    time.sleep(2.5)  # past the grace of two heartbeats: the trial is stale
    code, err = finish(start("tune", args))
    assert code == 0, err
    found = optuna.load_study(study_name="kill", storage=storage).get_trials(deepcopy=False)
    killed = next(t for t in found if t.number == 1)
    assert killed.state == TrialState.FAIL
    (retry,) = [t for t in found if t.system_attrs.get("failed_trial") == 1]
    assert retry.state == TrialState.COMPLETE and retry.params == killed.params
    assert sum(t.state == TrialState.COMPLETE for t in found) == 3
    assert "lgbm" in tomllib.loads((tmp_path / "best.toml").read_text())["models"]
