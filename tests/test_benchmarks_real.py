"""benchmarks.real: the seed parser, and one small run on real rows whose recorded scores match
a recomputation from its saved out-of-fold columns, with both sides on the same folds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from benchmarks import real
from benchmarks.harness import write_section
from features.errors import UserError
from models.cv import patient_folds
from models.evaluation import isic_pauc, paired_bootstrap_diff
from pipelines._cli import run_cli

REAL_5K = Path(__file__).resolve().parents[1].parent / "shared/data/real/train-metadata-5k.csv"
SEED = 3
FOLDS = 2
OVERLAY = f"""
[cv]
folds = {FOLDS}
[training]
fixed_rounds = {{ lgbm = 20, xgb = 20, cat = 20 }}
"""


@pytest.mark.parametrize(
    ("text", "seeds"),
    [("0-4", [0, 1, 2, 3, 4]), ("3-3", [3]), ("7", [7]), ("1,3", [1, 3]), (" 2 - 4 ", [2, 3, 4])],
)
def test_seeds_take_a_range_or_a_comma_list(text, seeds):
    assert real.parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["4-2", "a", "", "1,1", "-1", "1,,2", "0-4,6"])
def test_bad_seeds_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        real.parse_seeds(text)


def test_an_overlay_gets_a_section_of_its_own(tmp_path):
    assert real.section_key(None) == "benchmarks.real"
    key = real.section_key(Path("/tmp/fixed rounds.toml"))
    assert key == "benchmarks.real:fixed_rounds"
    results = tmp_path / "RESULTS.md"
    write_section(results, "default table", real.section_key(None))
    write_section(results, "overlay table", key)
    write_section(results, "default again", real.section_key(None))
    text = results.read_text()
    assert "overlay table" in text and "default again" in text and "default table" not in text


def test_a_missing_data_file_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    code = run_cli(lambda: real.main(["--data", str(missing), "--no-write"]))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith(f"error: {missing}")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """One split seed, two folds, few rounds, on the first 250 patients of the real rows."""
    if not REAL_5K.is_file():
        pytest.skip(f"real SLICE-3D rows not found at {REAL_5K}")
    folder = tmp_path_factory.mktemp("real")
    raw = pl.read_csv(REAL_5K, infer_schema=False)
    kept = raw["patient_id"].unique().sort().head(250)
    data = folder / "train-subset.csv"
    raw.filter(pl.col("patient_id").is_in(kept.implode())).write_csv(data)
    overlay = folder / "quick.toml"
    overlay.write_text(OVERLAY)
    results = folder / "RESULTS.md"
    write_section(results, "the default's table", real.SECTION)
    work = folder / "work"
    argv = ["--config", str(overlay), "--seeds", str(SEED), "--data", str(data),
            "--threads", "1", "--work", str(work), "--results", str(results)]  # fmt: skip
    assert real.main(argv) == 0
    return work, results


def test_recorded_scores_are_the_saved_columns_scores(small_run):
    work, results = small_run
    record = json.loads((work / "run.json").read_text())
    text = results.read_text()
    frames = {side: pl.read_parquet(work / f"{side}_seed{SEED}.parquet") for side in real.SIDES}
    y = frames["default"]["target"].to_numpy()
    assert y.sum() > FOLDS
    for name in ("lgbm", "xgb", "cat", "ensemble"):
        for side, frame in frames.items():
            expected = isic_pauc(y, frame[name].to_numpy())
            assert record["pauc"][name]["per_seed"][side] == [expected]
            assert f"| {name} | {side} | {expected:.4f} | {expected:.4f} |" in text
        diff = paired_bootstrap_diff(
            y,
            [frames["default"][name].to_numpy()],
            [frames["recipe"][name].to_numpy()],
            frames["default"]["patient_id"],
            n_boot=real.BOOTSTRAP_SAMPLES,
            seed=real.BOOTSTRAP_SEED,
        )
        assert record["pauc"][name]["diff"] == pytest.approx(list(diff), abs=1e-15)
    # the overlay's section sits next to the default's, which it left alone
    assert "the default's table" in text and "<!-- benchmarks.real:quick: start -->" in text
    assert "training.fixed_rounds.lgbm = 20" in text


def test_both_sides_trained_on_the_same_patient_folds(small_run):
    work, _ = small_run
    default = pl.read_parquet(work / f"default_seed{SEED}.parquet")
    recipe = pl.read_parquet(work / f"recipe_seed{SEED}.parquet")
    assert default.select("isic_id", "patient_id", "target").equals(
        recipe.select("isic_id", "patient_id", "target")
    )
    assert default["fold"].equals(recipe["fold"])
    expected = patient_folds(default["patient_id"], default["target"].to_numpy(), FOLDS, SEED)
    np.testing.assert_array_equal(default["fold"].to_numpy(), expected)
    assert default.group_by("patient_id").agg(pl.col("fold").n_unique())["fold"].max() == 1


def test_saved_recipe_columns_are_reused_only_on_the_same_folds(small_run, tmp_path):
    work, results = small_run
    saved = pl.read_parquet(work / f"recipe_seed{SEED}.parquet")
    shuffled = saved.sample(fraction=1.0, shuffle=True, seed=1)  # order must not matter
    ids, folds = shuffled["isic_id"], shuffled["fold"].to_numpy()
    columns = real._saved_recipe(work, SEED, ids, folds)
    np.testing.assert_array_equal(columns["ensemble"], shuffled["ensemble"].to_numpy())
    with pytest.raises(UserError, match="other rows or folds"):
        real._saved_recipe(work, SEED, ids, (folds + 1) % FOLDS)
    with pytest.raises(UserError, match="no saved recipe columns"):
        real._saved_recipe(work, SEED + 1, ids, folds)
