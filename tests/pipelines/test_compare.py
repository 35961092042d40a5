"""`python -m pipelines.compare A B`: a planted improvement is found, the same model retrained with
another model seed on the same folds is within noise, and other rows or folds exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import polars as pl
import pytest

from models.evaluation import isic_pauc
from pipelines import compare
from pipelines._cli import run_cli
from tests.conftest import REPO


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = run_cli(lambda: compare.main([str(a) for a in args]))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _with_oof(tmp_path, run, name: str, change) -> object:
    """A copy of `run`'s oof.parquet, changed, in a folder of its own."""
    folder = tmp_path / name
    folder.mkdir()
    change(pl.read_parquet(run / "oof.parquet")).write_parquet(folder / "oof.parquet")
    return folder


def test_the_same_model_with_another_model_seed_is_within_noise(capsys, trained_run, reseeded_run):
    code, out, _ = _run(capsys, trained_run, reseeded_run)
    assert code == 0
    a, b = (pl.read_parquet(r / "oof.parquet") for r in (trained_run, reseeded_run))
    assert not np.array_equal(a["ensemble"].to_numpy(), b["ensemble"].to_numpy())
    assert out.splitlines()[-1] == "verdict: within noise"
    score_a = isic_pauc(a["target"].to_numpy(), a["ensemble"].to_numpy())
    assert f"A  {score_a:.4f}" in out


def test_a_planted_improvement_is_better_and_exit_0_either_way(capsys, tmp_path, trained_run):
    rng = np.random.default_rng(0)

    def planted(oof: pl.DataFrame) -> pl.DataFrame:
        # The ensemble's rank plus a strong push for most malignant lesions.
        boost = (oof["target"].to_numpy() == 1) & (rng.random(oof.height) < 0.8)
        return oof.with_columns(ensemble=pl.col("ensemble").rank() / oof.height + boost)

    better = _with_oof(tmp_path, trained_run, "better", planted)
    code, out, _ = _run(capsys, trained_run, better)
    assert code == 0 and out.splitlines()[-1] == "verdict: better"
    code, out, _ = _run(capsys, better, trained_run)
    assert code == 0 and out.splitlines()[-1] == "verdict: worse"
    # Another column of the same folder: one model against the ensemble.
    code, out, _ = _run(capsys, trained_run, trained_run, "--column-a", "lgbm")
    assert code == 0 and "[lgbm]" in out and "[ensemble]" in out


def test_other_rows_exit_2_naming_the_first_missing_lesion(tmp_path, trained_run):
    oof = pl.read_parquet(trained_run / "oof.parquet")
    fewer = _with_oof(tmp_path, trained_run, "fewer", lambda f: f.slice(1))
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.compare", str(trained_run), str(fewer)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""
    assert f"isic_id {oof['isic_id'][0]}" in result.stderr and str(fewer) in result.stderr


def test_other_folds_exit_2_naming_the_patient(capsys, tmp_path, trained_run):
    oof = pl.read_parquet(trained_run / "oof.parquet")
    patient = oof["patient_id"][0]
    moved = _with_oof(
        tmp_path,
        trained_run,
        "moved",
        lambda f: f.with_columns(
            fold=pl.when(pl.col("patient_id") == patient)
            .then((pl.col("fold") + 1) % 5)
            .otherwise(pl.col("fold"))
        ),
    )
    code, _, err = _run(capsys, trained_run, moved)
    assert code == 2 and f"patient {patient}" in err


@pytest.mark.parametrize("what", ["no folder", "no column"])
def test_a_missing_folder_or_column_exits_2(capsys, tmp_path, trained_run, what):
    if what == "no folder":
        code, _, err = _run(capsys, trained_run, tmp_path / "nothing")
        assert "not a run or blend folder" in err
    else:
        copy = tmp_path / "copy"
        shutil.copytree(trained_run, copy)
        code, _, err = _run(capsys, trained_run, copy, "--column", "mlp")
        assert "no score column 'mlp'" in err
    assert code == 2
