"""The run folder's file names and how each file is written: under a temporary name, then
renamed, so nothing half-written is ever taken for a result. The temporary name is this
process's own, so two commands writing the same file (two `predict --out` at once) never
write into each other's copy: the last rename wins, and either way the file is whole."""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import secrets
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from models import faults

MANIFEST = "manifest.json"
METRICS = "metrics.json"
OOF = "oof.parquet"
OOF_REPEATS = "oof_repeats.parquet"
ENSEMBLE = "ensemble.json"
TEST_PREDICTIONS = "test_predictions.parquet"
SUBMISSION = "submission.csv"
CONFIG = "config.toml"
FOLDS = "folds.csv"
MODELS = "models"
# An additive run's curves (`models.additive`): the run's, and each fold model's.
SHAPE_FUNCTIONS = "shape_functions.parquet"
SHAPE_FUNCTIONS_BY_FOLD = "shape_functions_by_fold.parquet"
PACKAGES = ("polars", "numpy", "lightgbm", "xgboost", "catboost", "scikit-learn", "optuna")


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in (*PACKAGES, "tbp-gbdt"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_json(path: Path, value: Any) -> None:
    _atomic(path, lambda tmp: tmp.write_text(json.dumps(_plain(value), indent=2) + "\n"))


def write_parquet(path: Path, frame: pl.DataFrame) -> None:
    _atomic(path, frame.write_parquet)


def write_csv(path: Path, frame: pl.DataFrame) -> None:
    _atomic(path, frame.write_csv)


def write_bytes(path: Path, data: bytes) -> None:
    _atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path, text: str) -> None:
    _atomic(path, lambda tmp: tmp.write_text(text))


def temporary_name(path: Path) -> Path:
    """A hidden name beside `path` that no other process or call uses."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _atomic(path: Path, write) -> None:
    path = Path(path)
    temporary = temporary_name(path)
    try:
        try:
            write(temporary)
        except (OSError, pl.exceptions.PolarsError) as error:
            # The machine refused (a full disk, a file where a folder should be): the user's
            # to fix. Polars reports those with the OS's words before "(os error N)".
            said = re.search(r"([^:]*) \(os error \d+\)", str(error))
            if not isinstance(error, OSError) and said is None:
                raise
            reason = getattr(error, "strerror", None) or (said and said[1].strip()) or error
            raise UserError(f"{path}: cannot write it ({reason})") from None
        faults.reached("write")
        faults.reached(f"write:{path.name}")
        os.replace(temporary, path)
    finally:
        # A failed write leaves no litter; after the rename there is nothing to remove, and
        # where the folder itself could not be used there was nothing made.
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN to null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
