"""Fixtures of the kill and lock tests (test_kill.py, test_locks.py): tiny data, a config that
trains two libraries on two folds in seconds, and the uninterrupted run and blend that killed,
resumed and concurrent commands must reproduce byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from features import synthetic
from models import faults
from pipelines._cli import run_cli
from tests.conftest import FAST_TOML, REPO

# The suite's fast config, on two libraries and two folds.
TINY_TOML = (
    FAST_TOML
    + """
[models]
names = ["lgbm", "xgb"]
[cv]
folds = 2
"""
)
# The run files that must come out the same, byte for byte, however the run got there.
RESULT_FILES = ("oof.parquet", "test_predictions.parquet", "submission.csv")


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    """3,000 train rows (60 malignant), 400 test rows, a sample submission, the test rows'
    labels (test-labels.csv, 8 malignant: a cohort for evaluate) and the config."""
    folder = tmp_path_factory.mktemp("tiny")
    data = synthetic.draw(3_000, 400, seed=3, malignant_rate=0.02)
    synthetic.write_kaggle_layout(data.train, data.test, folder)
    synthetic.write_test_labels(data.test_labels, folder)
    (folder / "tiny.toml").write_text(TINY_TOML)
    return folder


def train_args(tiny_dir: Path, out: Path, *extra: str) -> list[str]:
    data = ["--data-dir", str(tiny_dir), "--config", str(tiny_dir / "tiny.toml")]
    return [*data, "--out", str(out), *extra]


def predict_args(tiny_dir: Path, run: Path, out: Path, *extra: str) -> list[str]:
    test = ["--test", str(tiny_dir / "test-metadata.csv")]
    test += ["--sample", str(tiny_dir / "sample_submission.csv")]
    return ["--run", str(run), *test, "--out", str(out), *extra]


def blend_args(run: Path, out: Path) -> list[str]:
    return ["--run", str(run), "--run-columns", "models", "--bootstrap", "20", "--out", str(out)]


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, tiny_dir) -> Path:
    """The uninterrupted run, in this process."""
    from pipelines import train_gbdt

    out = tmp_path_factory.mktemp("tiny_run") / "run"
    assert train_gbdt.main(train_args(tiny_dir, out)) == 0
    return out


@pytest.fixture(scope="session")
def tiny_blend(tmp_path_factory, tiny_run) -> Path:
    """The uninterrupted blend of the run's two model columns, in this process."""
    from pipelines import blend

    out = tmp_path_factory.mktemp("tiny_blend") / "blend"
    assert blend.main(blend_args(tiny_run, out)) == 0
    return out


def in_process(capsys, command, args: list[str]) -> tuple[int, list[str]]:
    """`command.main(args)` as the command line runs it: its exit code and stderr lines."""
    code = run_cli(lambda: command.main(args))
    return code, capsys.readouterr().err.strip().splitlines()


def start(command: str, args: list[str], kill_at: str | None = None, **env: str):
    """`python -m pipelines.<command> args` in a child process, told to die at `kill_at`
    (`models.faults`); extra `env` such as TBP_KILL_SIGNAL."""
    clean = {k: v for k, v in os.environ.items() if k not in (faults.KILL_AT_ENV,)}
    if kill_at is not None:
        clean[faults.KILL_AT_ENV] = kill_at
    return subprocess.Popen(
        [sys.executable, "-m", f"pipelines.{command}", *args],
        cwd=REPO,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    """Wait for `process`: its exit code (negative: the signal that ended it) and stderr."""
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


def same_bytes(folder: Path, reference: Path, names=RESULT_FILES) -> None:
    for name in names:
        assert (folder / name).read_bytes() == (reference / name).read_bytes(), name
