"""Resume: a run killed after its first fold continues from its `.partial` folder to the same
out-of-fold scores as a run that was never interrupted; a mismatched resume is refused."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest

from models.cv import STOP_AFTER_ENV
from tests.conftest import FAST_TOML, REPO

MODELS = "lgbm,xgb,cat"


def _train(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.train_gbdt", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def fast_toml(tmp_path_factory):
    path = tmp_path_factory.mktemp("resume_config") / "fast.toml"
    path.write_text(FAST_TOML)
    return path


def test_killed_run_resumes_to_the_uninterrupted_result(
    uninterrupted_run, small_data_dir, fast_toml, tmp_path
):
    out = tmp_path / "run"
    common = ["--data-dir", str(small_data_dir), "--config", str(fast_toml), "--out", str(out)]
    common += ["--models", MODELS, "--folds", "2"]
    # The process dies (no clean-up, as under a kill) once the first fold's three fits are stored.
    killed = _train(*common, env={STOP_AFTER_ENV: "3"})
    assert killed.returncode == 75, killed.stderr
    partial = out.with_name("run.partial")
    assert not out.exists()
    assert sorted(p.name for p in (partial / "models").iterdir()) == [
        "cat_r0_f0_b0.cbm",
        "lgbm_r0_f0_b0.txt",
        "xgb_r0_f0_b0.ubj",
    ]
    assert len(list((partial / "tasks").glob("*_r0_f0_b0.json"))) == 3

    # Another config is refused, with one line, and the partial folder is left as it was.
    other = _train(*[a if a != "2" else "3" for a in common], "--resume")
    assert other.returncode == 2
    lines = other.stderr.strip().splitlines()
    assert len(lines) == 1 and "config differs" in lines[0], other.stderr
    assert len(list((partial / "tasks").glob("*.json"))) == 4  # 3 fits + fingerprint

    # Where the fits run is not part of the run: finish it on a pool of two workers.
    pooled = tmp_path / "pooled.toml"
    pooled.write_text(FAST_TOML.replace("[training]\n", "[training]\nworkers = 2\n"))
    resumed = _train(*[a if a != str(fast_toml) else str(pooled) for a in common], "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming: 3 of 6 fits already done, 3 to run" in resumed.stderr
    assert not partial.exists() and not (out / "tasks").exists()
    assert (out / "oof.parquet").read_bytes() == (uninterrupted_run / "oof.parquet").read_bytes()
    assert pl.read_parquet(out / "oof.parquet").equals(
        pl.read_parquet(uninterrupted_run / "oof.parquet")
    )
    assert (out / "submission.csv").read_bytes() == (
        uninterrupted_run / "submission.csv"
    ).read_bytes()


def test_resume_without_a_partial_folder_is_a_user_error(small_data_dir, fast_toml, tmp_path):
    result = _train(
        "--data-dir", str(small_data_dir), "--config", str(fast_toml), "--out",
        str(tmp_path / "none"), "--resume",
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no unfinished run to resume" in lines[0]
    assert not (tmp_path / "none").exists()
