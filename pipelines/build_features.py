"""Build the features without a model: the feature builders fitted on a train file and applied to
it and to a test file, for researchers who bring their own model; written as Parquet with a table
of what each feature is. It reads the config (the default families and categorical columns)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from features.build import build_features as build
from features.build import describe, fit_spec
from features.frames import DataInput
from features.io import read_test, read_train
from features.registry import CATEGORICAL
from models.artifacts import write_csv, write_parquet
from models.config import load_config
from pipelines._cli import run_cli

RAW_FAMILY = "raw"
TRAIN_FEATURES, TEST_FEATURES, TABLE = (
    "train_features.parquet",
    "test_features.parquet",
    "features.csv",
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    built = build_features(**vars(args))
    test = f" and {built.test.height} test" if built.test is not None else ""
    print(
        f"built {len(built.names)} features of {built.train.height} train{test} lesions: "
        f"{args.out}",
        file=sys.stdout,
    )
    return 0


@dataclass(frozen=True)
class Features:
    """The feature frames and what each feature is.

    `train` and `test` hold isic_id, patient_id (and target, on train), then every feature in
    `features`' order: numeric ones as Float32 (null where undefined, never NaN or inf),
    categorical ones as `pl.Enum` with the levels learned on train. `features` has one row per
    feature: name, family, kind and a one-line doc."""

    train: pl.DataFrame
    test: pl.DataFrame | None
    features: pl.DataFrame

    def __repr__(self) -> str:
        test = "" if self.test is None else f", test {self.test.height:,} rows"
        return f"Features({len(self.names)} features; train {self.train.height:,} rows{test})"

    @property
    def names(self) -> list[str]:
        return self.features["name"].to_list()


def build_features(
    train: DataInput,
    test: DataInput | None = None,
    families: str | Sequence[str] | None = None,
    *,
    out: Path | None = None,
) -> Features:
    """Fit the feature spec on `train` (the category levels and, when that family is on, the
    population norms; never the label) and build the features of `train` and `test`. Each is a
    path or a Polars or pandas DataFrame, checked and cast as the readers check a file.
    `families` (a list or a comma list) defaults to configs/default.toml's `[features]
    families`; the categorical columns are always the config's. With `out`, the folder gets
    train_features.parquet, test_features.parquet and features.csv; the command
    `python -m pipelines.build_features` is this function with its flags as keyword arguments.
    Returns the `Features`: the `train` and `test` frames and the `features` table (name,
    family, kind, doc)."""
    config = load_config()
    if families is None:
        families = config.features.families
    elif isinstance(families, str):
        families = [f.strip() for f in families.split(",") if f.strip()]
    families = list(families)
    train_frame = read_train(train)
    test_frame = None if test is None else read_test(test)
    spec = fit_spec(train_frame, families, list(config.features.categoricals))
    built = build(train_frame, spec)
    features = Features(
        train=built.frame,
        test=None if test_frame is None else build(test_frame, spec).frame,
        features=_table(built.names, families),
    )
    if out is not None:
        _write(features, Path(out))
    return features


def _write(features: Features, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(out / TRAIN_FEATURES, features.train)
    if features.test is not None:
        write_parquet(out / TEST_FEATURES, features.test)
    write_csv(out / TABLE, features.features)


def _table(names: list[str], families: list[str]) -> pl.DataFrame:
    """One row per model input, in their order; a categorical metadata column is `raw`."""
    known = {row["name"]: row for row in describe(families)}
    as_recorded = {"family": RAW_FAMILY, "kind": CATEGORICAL}
    rows = [
        known.get(name) or {"name": name, **as_recorded, "doc": f"{name}, as recorded."}
        for name in names
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(("name", "family", "kind", "doc"), pl.String))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.build_features", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--train", type=Path, required=True, help="train metadata (CSV or Parquet) with target"
    )
    parser.add_argument("--test", type=Path, help="test metadata (CSV or Parquet)")
    parser.add_argument(
        "--families",
        help="comma list of feature families (default: configs/default.toml's); "
        "docs: the features page",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help=f"folder to write {TRAIN_FEATURES}, {TEST_FEATURES} and {TABLE} into",
    )
    return parser


def cli() -> int:
    """The `tbp-build-features` console script."""
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
