"""What scores the cohort: a finished run folder, checked against the cohort from its manifest
and out-of-fold rows before any model is loaded, then scored with its saved models; or any
score file (`--scores`), joined to the cohort by `isic_id`."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features.build import FeatureSpec
from features.errors import UserError
from features.frames import as_source
from features.image_scores import attach
from features.io import READ_ERRORS
from features.score_files import IMAGE_SCORES_FRAME, SCORE_FRAME, ScoreFile, read_score_file
from models.artifacts import OOF, Run, finished_manifest
from models.artifacts.loader import require_matching_image_scores
from models.blend import ENSEMBLE_COLUMN, Calibrator
from models.external.cohort import TARGET, Cohort, require_both_classes

log = logging.getLogger(__name__)

SCORES_COLUMN = "scores"  # a score file's column, renamed so it never meets the cohort's label
PROBABILITY = "probability"
_OOF_COLUMNS = ("isic_id", "patient_id", TARGET, ENSEMBLE_COLUMN)


@dataclass(frozen=True)
class CheckedRun:
    """A run folder checked against a cohort; no model loaded yet."""

    path: Path
    manifest: dict[str, Any]
    oof: pl.DataFrame  # isic_id, patient_id, target, ensemble of the run's training rows
    image_scores: ScoreFile | None
    scored_frame: pl.DataFrame  # the cohort as the features see it (image scores attached)
    n_patients_in_training: int

    @property
    def spec(self) -> FeatureSpec:
        return FeatureSpec.from_dict(self.manifest["feature_spec"])

    @property
    def bootstrap_samples(self) -> int:
        return _whole_number(self, ("config", "training", "bootstrap_samples"), minimum=1)

    @property
    def seed(self) -> int:
        return _whole_number(self, ("seeds", "seed"), minimum=0)


def check_run(
    run_dir: Path, cohort: Cohort, image_scores: Path | None, allow_missing: bool
) -> CheckedRun:
    """The run's manifest and out-of-fold rows, read without loading a model, checked against
    the cohort: no lesion the run trained on, and image scores exactly when the run used them."""
    run_dir = Path(run_dir)
    manifest = finished_manifest(run_dir)
    oof = _read_oof(run_dir / OOF)
    trained = cohort.frame["isic_id"].is_in(oof["isic_id"].implode())
    if trained.any():
        first = int(trained.arg_true()[0])
        raise UserError(
            f"{cohort.path}: isic_id {cohort.frame['isic_id'][first]} (data row "
            f"{cohort.data_row(first)}) is "
            f"a lesion the run {run_dir} trained on ({int(trained.sum()):,} of "
            f"{cohort.frame.height:,} cohort lesions); expected lesions it never saw (the run's "
            f"own out-of-fold scores are in {run_dir / OOF})"
        )
    spec = FeatureSpec.from_dict(manifest["feature_spec"])
    scores, frame = _image_scores(run_dir, spec, cohort.frame, image_scores, allow_missing)
    overlap = cohort.frame["patient_id"].unique().is_in(oof["patient_id"].implode()).sum()
    return CheckedRun(run_dir, manifest, oof, scores, frame, int(overlap))


def score_with_run(
    checked: CheckedRun, run: Run, cohort: Cohort, batch_rows: int | None, allow_missing: bool
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Every model's score, the ensemble and the submitted probability of each cohort lesion
    (Float64, in the cohort's order); and the run's out-of-fold labels and probabilities on the
    same scale, to choose thresholds before the cohort is seen."""
    with _quiet("features.image_scores"):  # the check already said what is missing
        predicted = run.score(cohort.frame, batch_rows, checked.image_scores, allow_missing)
    calibrator = (run.ensemble or {}).get("calibrator")
    oof_probability = checked.oof[ENSEMBLE_COLUMN].to_numpy().astype(np.float64)
    if calibrator is None:  # a run made before calibrators submits the ensemble itself
        predicted = predicted.with_columns(pl.col(ENSEMBLE_COLUMN).alias(PROBABILITY))
    else:
        oof_probability = Calibrator.from_dict(calibrator)(oof_probability)
    columns = [*run.model_names, ENSEMBLE_COLUMN, PROBABILITY]
    scored = predicted.select(pl.col(columns).cast(pl.Float64))
    return scored, checked.oof[TARGET].to_numpy(), oof_probability


def join_scores(
    cohort: Cohort, path: Path, column: str, probability: bool, allow_missing: bool
) -> tuple[pl.DataFrame, np.ndarray, list[str]]:
    """The cohort's rows that have a score (all of them unless `allow_missing`), each score
    (Float64, the file's `column`) and the warnings to report."""
    path = as_source(path, SCORE_FRAME)
    scores = read_score_file(path, columns=[column]).frame.rename({column: SCORES_COLUMN})
    joined = cohort.frame.join(scores, on="isic_id", how="left", maintain_order="left")
    unscored = joined[SCORES_COLUMN].is_null()
    warnings = []
    if unscored.any():
        first = int(unscored.arg_true()[0])
        count = f"{int(unscored.sum()):,} of {joined.height:,} cohort lesions"
        if not allow_missing:
            raise UserError(
                f"{path}: isic_id {joined['isic_id'][first]} (data row {cohort.data_row(first)} of "
                f"{cohort.path}) has no score in column '{column}' ({count} without one); "
                "expected a score for every cohort lesion, or pass --allow-missing-scores to "
                "leave them out"
            )
        warnings.append(f"{path}: {count} have no score in column '{column}'; left out")
        joined = joined.filter(~unscored)
        require_both_classes(joined, cohort.label_source)
    values = joined[SCORES_COLUMN]
    if probability:
        outside = ((values < 0) | (values > 1)).arg_true()
        if outside.len():
            row = joined["isic_id"][int(outside[0])]
            raise UserError(
                f"{path}: column '{column}': {values[int(outside[0])]:g} for isic_id {row} is "
                "not a probability; --probability expects every score in [0, 1]"
            )
    return joined.drop(SCORES_COLUMN), values.to_numpy(), warnings


def _image_scores(
    run_dir: Path,
    spec: FeatureSpec,
    frame: pl.DataFrame,
    path: Path | None,
    allow_missing: bool,
) -> tuple[ScoreFile | None, pl.DataFrame]:
    """The cohort's image scores, read and joined when the run was trained with them; a user
    error when the run and `--image-scores` disagree or a lesion lacks one."""
    wanted = list(spec.image_columns)
    expected = "--image-scores FILE with the cohort lesions' scores"
    require_matching_image_scores(run_dir, wanted, path, expected)
    if not wanted:
        return None, frame
    scores = read_score_file(as_source(path, IMAGE_SCORES_FRAME))
    return scores, attach(frame, scores, allow_missing=allow_missing, columns=wanted)


def _read_oof(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except READ_ERRORS as error:
        raise UserError(f"{path}: not a readable Parquet file ({type(error).__name__})") from error
    missing = [c for c in _OOF_COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"{path}: column '{missing[0]}' is missing")
    return frame.select(_OOF_COLUMNS).with_columns(pl.col("isic_id", "patient_id").cast(pl.String))


def _whole_number(checked: CheckedRun, keys: tuple[str, ...], minimum: int) -> int:
    value: Any = checked.manifest
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise UserError(
            f"{checked.path / 'manifest.json'}: key '{'.'.join(keys)}' expected a whole number "
            f">= {minimum}, got {value!r}"
        )
    return value


@contextmanager
def _quiet(logger: str):
    """`logger`'s warnings held back while the block runs."""
    target = logging.getLogger(logger)
    level = target.level
    target.setLevel(logging.ERROR)
    try:
        yield
    finally:
        target.setLevel(level)
