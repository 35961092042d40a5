"""Shared fixtures: the real SLICE-3D files (skipped where ../shared is absent), small synthetic
frames, a fast config and one small trained run folder reused by several tests."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import settings

from features import synthetic
from models.config import Config, load_config

# The same generated examples on every run: a failure in CI is one anybody can reproduce.
settings.register_profile("repeatable", derandomize=True)
settings.load_profile("repeatable")

REPO = Path(__file__).resolve().parents[1]
REAL_DIR = REPO.parent / "shared" / "data" / "real"
CHECK_RUN = REPO.parent / "shared" / "tools" / "check_run.py"


@pytest.fixture(scope="session")
def real_dir() -> Path:
    if not REAL_DIR.is_dir():
        pytest.skip(f"real SLICE-3D fixtures not found at {REAL_DIR}")
    return REAL_DIR


@pytest.fixture(scope="session")
def small_data():
    """20,000 train rows with 100 malignant, and 2,000 test rows."""
    return synthetic.generate(20_000, 2_000, seed=7, malignant_rate=0.005)


def fast_config(**overrides) -> Config:
    """The default config made quick: few rounds, few bootstrap resamples, one thread."""
    return load_config().replace(**tomllib.loads(FAST_TOML)).replace(**overrides)


@pytest.fixture(scope="session")
def small_matrix(small_data):
    """The small train frame's default features as model inputs, and each row's patient."""
    from features.build import build_features, fit_spec
    from models.boosters import Matrix

    train = small_data[0]
    config = load_config()
    spec = fit_spec(train, config.features.families, config.features.categoricals)
    built = build_features(train, spec)
    x = Matrix(built.frame, built.names, built.categorical, built.frame["target"].to_numpy())
    return x, built.frame["patient_id"].to_numpy()


@pytest.fixture(scope="session")
def small_data_dir(tmp_path_factory, small_data) -> Path:
    folder = tmp_path_factory.mktemp("small_data")
    synthetic.write_kaggle_layout(*small_data, folder)
    return folder


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, small_data_dir) -> Path:
    """One run of the main job on the small data, through its command-line entry point."""
    from pipelines import train_gbdt

    config = tmp_path_factory.mktemp("config") / "fast.toml"
    config.write_text(FAST_TOML)
    out = tmp_path_factory.mktemp("runs") / "run"
    code = train_gbdt.main(
        ["--data-dir", str(small_data_dir), "--out", str(out), "--config", str(config)]
    )
    assert code == 0
    return out


@pytest.fixture(scope="session")
def reseeded_run(tmp_path_factory, small_data_dir, trained_run) -> Path:
    """`trained_run` again with another seed for its models, on its folds (`--folds-file`):
    the same model retrained, which blends and comparisons take as their noise."""
    from pipelines import train_gbdt

    config = tmp_path_factory.mktemp("reseeded_config") / "fast.toml"
    config.write_text("seed = 43\n" + FAST_TOML)
    out = tmp_path_factory.mktemp("reseeded") / "run"
    folds = trained_run / "folds.csv"
    args = ["--data-dir", str(small_data_dir), "--out", str(out), "--config", str(config)]
    assert train_gbdt.main([*args, "--folds-file", str(folds)]) == 0
    return out


FAST_TOML = """
[training]
fixed_rounds = { lgbm = 40, xgb = 40, cat = 40 }
max_rounds = 60
min_rounds = 10
early_stopping_rounds = 20
bootstrap_samples = 50
threads = 1
[models.cat]
depth = 4
"""


@pytest.fixture(scope="session")
def uninterrupted_run(tmp_path_factory, small_data_dir) -> Path:
    """A small three-library, two-fold run, in this process, one fit after another: the
    reference that resumed, pooled and Dask runs must reproduce bit for bit."""
    from pipelines import train_gbdt

    config = tmp_path_factory.mktemp("reference_config") / "fast.toml"
    config.write_text(FAST_TOML)
    out = tmp_path_factory.mktemp("reference") / "run"
    args = ["--data-dir", str(small_data_dir), "--out", str(out), "--config", str(config)]
    assert train_gbdt.main([*args, "--models", "lgbm,xgb,cat", "--folds", "2"]) == 0
    return out


# An attribution that must come out of the feature report as text, never as markup.
MARKUP_ATTRIBUTION = '<script>alert("attribution")</script>'


@pytest.fixture(scope="session")
def report_data_dir(tmp_path_factory, small_data_dir, trained_run) -> Path:
    """The small data for the feature report: one hospital renamed to markup, and a
    train-image.hdf5 with a tile for every malignant lesion and the 100 benign lesions the run
    scored highest (the report's lesion lists come from these)."""
    import io
    import shutil

    import h5py
    import numpy as np
    import polars as pl
    from PIL import Image

    folder = tmp_path_factory.mktemp("report_data")
    train = pl.read_csv(small_data_dir / "train-metadata.csv", infer_schema=False)
    hospital = train["attribution"][0]
    renamed = pl.when(pl.col("attribution") == hospital).then(pl.lit(MARKUP_ATTRIBUTION))
    train.with_columns(renamed.otherwise(pl.col("attribution")).alias("attribution")).write_csv(
        folder / "train-metadata.csv"
    )
    for name in ("test-metadata.csv", "sample_submission.csv"):
        shutil.copy(small_data_dir / name, folder / name)
    oof = pl.read_parquet(trained_run / "oof.parquet")
    shown = pl.concat(
        [
            oof.filter(pl.col("target") == 1),
            oof.filter(pl.col("target") == 0).top_k(100, by="ensemble"),
        ]
    )
    with h5py.File(folder / "train-image.hdf5", "w") as store:
        for i, isic_id in enumerate(shown["isic_id"]):
            buffer = io.BytesIO()
            Image.new("RGB", (24, 24), (150 + i % 100, 90, 80)).save(buffer, "JPEG")
            # One fixed-length bytes scalar per isic_id, as in the Kaggle file.
            store[isic_id] = np.bytes_(buffer.getvalue())
    return folder


@pytest.fixture(scope="session")
def feature_report(tmp_path_factory, report_data_dir, trained_run) -> Path:
    """The feature report of the small run, on its (renamed) data, through the command."""
    from pipelines import feature_report as command

    out = tmp_path_factory.mktemp("report") / "report.html"
    assert (
        command.main(
            ["--data-dir", str(report_data_dir), "--run", str(trained_run), "--out", str(out)]
        )
        == 0
    )
    return out
