"""The run folder: manifest, models in native formats, predictions, and loading it back.

A run is built in `RUN_DIR.partial/` and renamed to RUN_DIR when complete, and every file is
written under a temporary name and renamed, so nothing half-written is ever taken for a result.
Loading a run reads JSON, Parquet and the libraries' own model files: nothing that can run code.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features import schema
from features.build import FeatureSpec, build_features
from features.errors import UserError
from features.io import file_sha256
from models.blend import combine, rank_across_repeats
from models.calibrate import Calibrator
from models.gbdt import Fitted, Matrix
from models.registry import booster

log = logging.getLogger(__name__)

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
PARTIAL_SUFFIX = ".partial"
PACKAGES = ("polars", "numpy", "lightgbm", "xgboost", "catboost", "scikit-learn", "optuna")


def default_run_dir() -> Path:
    return Path("runs") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def start_run(run_dir: Path) -> Path:
    """The `.partial` folder to build `run_dir` in; a stale one from a crashed run is replaced."""
    run_dir = Path(run_dir)
    if run_dir.exists():
        raise UserError(f"{run_dir}: run folder already exists; choose another --out")
    partial = partial_dir(run_dir)
    if partial.exists():
        log.warning("%s: removing the unfinished run left there", partial)
        shutil.rmtree(partial)
    (partial / MODELS).mkdir(parents=True)
    return partial


def finish_run(run_dir: Path) -> Path:
    os.replace(partial_dir(run_dir), run_dir)
    return Path(run_dir)


def partial_dir(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    return run_dir.with_name(run_dir.name + PARTIAL_SUFFIX)


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


def submission_frame(predictions: pl.DataFrame, order: pl.Series | None) -> pl.DataFrame:
    """`isic_id,target` with the ensemble as target, in sample-submission order when given."""
    # The calibrated probability when the run has one (same order as the ensemble).
    target = "probability" if "probability" in predictions.columns else "ensemble"
    submission = predictions.select("isic_id", pl.col(target).alias("target"))
    if order is None:
        return submission
    return order.rename("isic_id").to_frame().join(submission, on="isic_id", how="left")


@dataclass
class LoadedModel:
    name: str
    repeat: int
    fold: int
    fitted: Fitted


@dataclass
class Run:
    """A finished run folder, ready to score new lesions offline."""

    path: Path
    manifest: dict[str, Any]
    spec: FeatureSpec
    feature_names: list[str]
    categorical: list[str]
    models: list[LoadedModel]
    references: dict[str, np.ndarray]  # model -> its out-of-fold scores
    # model -> (repeats, rows): each repeat's own out-of-fold probabilities
    references_by_repeat: dict[str, np.ndarray] | None = None
    # ensemble.json: method, weights, calibrator (absent in runs made before it existed)
    ensemble: dict[str, Any] | None = None

    @property
    def model_names(self) -> list[str]:
        return list(self.manifest["config"]["models"]["names"])

    def predict(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`isic_id`, one score per model, the ensemble and (when the run has a calibrator)
        its calibrated `probability`.

        A model's score is on the scale of its out-of-fold column: with one CV repeat the mean
        probability of its fold models; with several, the mean over repeats of the percentile
        rank of repeat r's fold-model mean against repeat r's out-of-fold probabilities."""
        missing = [c for c in schema.TEST_COLUMN_NAMES if c not in frame.columns]
        if missing:
            raise UserError(f"frame to score: required column '{missing[0]}' is missing")
        built = build_features(frame, self.spec)
        x = Matrix(built.frame, self.feature_names, self.categorical)
        scores, probabilities = {}, {}
        for name in self.model_names:
            repeats = sorted({m.repeat for m in self.models if m.name == name})
            by_repeat = np.vstack(
                [
                    np.mean(
                        [
                            m.fitted.predict(x)
                            for m in self.models
                            if (m.name, m.repeat) == (name, r)
                        ],
                        axis=0,
                    )
                    for r in repeats
                ]
            )
            probabilities[name] = by_repeat.mean(axis=0)
            if len(repeats) == 1 or self.references_by_repeat is None:
                scores[name] = probabilities[name]
            else:
                scores[name] = rank_across_repeats(self.references_by_repeat[name], by_repeat)
        spec = self.ensemble or {"method": "rank_mean"}
        ensemble = combine(
            spec["method"], scores, self.references, probabilities, spec.get("weights")
        )
        columns = {"isic_id": built.frame["isic_id"], **scores, "ensemble": ensemble}
        if spec.get("calibrator") is not None:
            columns["probability"] = Calibrator.from_dict(spec["calibrator"])(ensemble)
        return pl.DataFrame(columns)


def load_run(run_dir: Path) -> Run:
    """Load a run folder written by `train_gbdt`; model files are checked against their hashes."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / MANIFEST
    if not manifest_path.is_file():
        raise UserError(f"{run_dir}: not a run folder (no {MANIFEST})")
    manifest = json.loads(manifest_path.read_text())
    _warn_on_version_change(run_dir, manifest.get("versions", {}))
    models = []
    for entry in manifest["models"]:
        path = run_dir / entry["file"]
        if not path.is_file() or file_sha256(path) != entry["sha256"]:
            raise UserError(f"{path}: model file missing or changed since the run wrote it")
        fitted = booster(entry["model"]).load(path)
        models.append(LoadedModel(entry["model"], entry["repeat"], entry["fold"], fitted))
    oof = pl.read_parquet(run_dir / OOF)
    names = manifest["config"]["models"]["names"]
    by_repeat = None
    if (run_dir / OOF_REPEATS).is_file():
        repeats = pl.read_parquet(run_dir / OOF_REPEATS)
        by_repeat = {
            name: np.vstack(
                [repeats[c].to_numpy() for c in repeats.columns if c.rsplit("_r", 1)[0] == name]
            )
            for name in names
        }
    ensemble = None
    if (run_dir / ENSEMBLE).is_file():
        ensemble = json.loads((run_dir / ENSEMBLE).read_text())
    return Run(
        path=run_dir,
        manifest=manifest,
        spec=FeatureSpec.from_dict(manifest["feature_spec"]),
        feature_names=manifest["feature_names"],
        categorical=manifest["categorical_features"],
        models=models,
        references={name: oof[name].to_numpy() for name in names},
        references_by_repeat=by_repeat,
        ensemble=ensemble,
    )


def _warn_on_version_change(run_dir: Path, recorded: dict[str, str]) -> None:
    """A warning per library whose installed version differs from the one the run used:
    model files usually load across versions, but the scores may differ slightly."""
    installed = package_versions()
    for name in (*PACKAGES, "python"):
        if name in recorded and recorded[name] != installed.get(name):
            log.warning(
                "%s: the run was made with %s %s, %s is installed; scores may differ",
                run_dir,
                name,
                recorded[name],
                installed.get(name),
            )


def _atomic(path: Path, write) -> None:
    path = Path(path)
    temporary = path.with_name(".tmp-" + path.name)
    write(temporary)
    os.replace(temporary, path)


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
