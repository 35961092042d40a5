"""A finished run folder loaded back, ready to score new lesions offline. Loading reads JSON,
Parquet and the libraries' own model files, each model checked against its recorded hash:
nothing that can run code (no pickle, no eval). The manifest's shape, format version and paths
are checked first (`manifest.py`); an unfinished (`.partial`) folder is refused."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features import schema
from features.build import FeatureSpec
from features.errors import UserError, first_line
from features.frames import DataInput, as_source
from features.image_scores import attach
from features.io import READ_ERRORS, file_sha256, read_test
from features.score_files import IMAGE_SCORES_FRAME, ScoreFile, read_score_file
from models import faults
from models.artifacts.files import (
    ENSEMBLE,
    MANIFEST,
    METRICS,
    OOF,
    OOF_REPEATS,
    PACKAGES,
    SHAPE_FUNCTIONS,
    SHAPE_FUNCTIONS_BY_FOLD,
    TEST_PREDICTIONS,
    package_versions,
)
from models.artifacts.folder import PARTIAL_SUFFIX
from models.artifacts.manifest import check_ensemble, check_manifest, inside
from models.artifacts.scoring import LoadedModel, fold_model_means
from models.blend import (
    ENSEMBLE_COLUMN,
    Calibrator,
    additive_ensemble,
    combine,
    rank_across_repeats,
)
from models.boosters import booster
from models.config import ADDITIVE, load_config

log = logging.getLogger(__name__)


@dataclass
class Run:
    """A finished run folder, ready to score new lesions offline: `path`, `metrics`, `oof` and
    `test_predictions` read from it, and `predict(frame)`."""

    path: Path
    manifest: dict[str, Any]
    spec: FeatureSpec
    feature_names: list[str]
    categorical: list[str]
    models: list[LoadedModel]
    # oof.parquet as loaded: isic_id, patient_id, target, fold, each model's out-of-fold score
    # and the ensemble's, one row per training lesion
    oof: pl.DataFrame
    # model -> (repeats, rows): each repeat's own out-of-fold probabilities
    references_by_repeat: dict[str, np.ndarray] | None = None
    # ensemble.json: method, weights, calibrator (absent in runs made before it existed)
    ensemble: dict[str, Any] | None = None
    # "trees", or "additive" (`[models] form`): LightGBM stumps scored by their mean log-odds
    form: str = "trees"
    # An additive run's curves (`models.additive`): shape_functions.parquet, the run's, and
    # shape_functions_by_fold.parquet, each fold model's; None for a trees run
    shape: pl.DataFrame | None = None
    shape_by_fold: pl.DataFrame | None = None

    @property
    def model_names(self) -> list[str]:
        return list(self.manifest["config"]["models"]["names"])

    @property
    def references(self) -> dict[str, np.ndarray]:
        """Model -> its out-of-fold scores, which a new lesion's score is ranked against."""
        return {name: self.oof[name].to_numpy() for name in self.model_names}

    @property
    def trained_on(self) -> pl.DataFrame:
        """isic_id and patient_id (String) of every lesion the run trained on."""
        return self.oof.select(pl.col("isic_id", "patient_id").cast(pl.String))

    def __fspath__(self) -> str:
        # A run goes wherever its folder's path does: compare(run_a, run_b), blend([run, ...]).
        return str(self.path)

    def __repr__(self) -> str:
        # One line in a notebook, not the manifest and every model object.
        score = self.metrics.get("oof_pauc", {}).get(ENSEMBLE_COLUMN)
        shown = "" if score is None else f", ensemble out-of-fold pAUC {score:.4f}"
        return f"Run('{self.path}': {', '.join(self.model_names)}{shown})"

    @property
    def metrics(self) -> dict[str, Any]:
        """metrics.json: the out-of-fold scores, their intervals and the run's counts."""
        return _read_json(inside(self.path, METRICS, METRICS))

    @property
    def test_predictions(self) -> pl.DataFrame | None:
        """test_predictions.parquet (every model's score of each test lesion), or None for a
        run trained without a test file."""
        path = inside(self.path, TEST_PREDICTIONS, TEST_PREDICTIONS)
        return _read_parquet(path, self.model_names) if path.is_file() else None

    def predict(
        self,
        frame: DataInput,
        image_scores: DataInput | ScoreFile | None = None,
        *,
        batch_rows: int | None = None,
        allow_missing_scores: bool = False,
    ) -> pl.DataFrame:
        """Score the lesions of `frame` (test-layout metadata: a Polars or pandas DataFrame or a
        CSV or Parquet path), checked and cast as the test file's reader does. Returns a Polars
        frame: `isic_id`, one score per model, the ensemble and (when the run has a calibrator)
        its calibrated `probability`, one row per lesion, in `frame`'s order. A run trained with
        image scores needs `image_scores` (a score file's path or frame) for these lesions;
        `batch_rows` and `allow_missing_scores` are `predict`'s flags (see `score`)."""
        scores = image_scores
        if scores is not None and not isinstance(scores, ScoreFile):
            scores = read_score_file(as_source(scores, IMAGE_SCORES_FRAME))
        return self.score(read_test(frame), batch_rows, scores, allow_missing_scores)

    def score(
        self,
        frame: pl.DataFrame,
        batch_rows: int | None = None,
        image_scores: ScoreFile | None = None,
        allow_missing: bool = False,
    ) -> pl.DataFrame:
        """`predict` for a frame the test reader has already checked: `isic_id`, one score per
        model, the ensemble and (when the run has a calibrator)
        its calibrated `probability`, one row per row of `frame`, in its order. Lesions are
        scored in batches of whole patients of about `batch_rows` rows (default: the config's
        `[predict] batch_rows`); the scores do not depend on it. A run trained with image
        scores needs `image_scores` for `frame`'s lesions (`allow_missing`: a lesion without
        one gets null image features instead of a user error); a run without refuses them.

        A model's score is on the scale of its out-of-fold column: with one CV repeat the mean
        probability of its fold models; with several, the mean over repeats of the percentile
        rank of repeat r's fold-model mean against repeat r's out-of-fold probabilities. In an
        additive run the mean log-odds of every fold model (repeats and bags), and the
        ensemble its logistic, which the run's curves (`shape`) explain exactly."""
        missing = [c for c in schema.TEST_COLUMN_NAMES if c not in frame.columns]
        if missing:
            raise UserError(f"frame to score: required column '{missing[0]}' is missing")
        if batch_rows is None:
            batch_rows = load_config().predict.batch_rows
        frame = self._with_image_scores(frame, image_scores, allow_missing)
        faults.reached("predict")
        additive = self.form == ADDITIVE
        means = fold_model_means(
            frame,
            self.spec,
            self.feature_names,
            self.categorical,
            self.models,
            batch_rows,
            raw=additive,
        )
        scores, probabilities = {}, {}
        for name in self.model_names:
            by_repeat = means[name]
            probabilities[name] = by_repeat.mean(axis=0)
            if additive or by_repeat.shape[0] == 1 or self.references_by_repeat is None:
                scores[name] = probabilities[name]
            else:
                scores[name] = rank_across_repeats(self.references_by_repeat[name], by_repeat)
        spec = self.ensemble or {"method": "rank_mean"}
        if additive:
            ensemble = additive_ensemble(scores)
        else:
            ensemble = combine(
                spec["method"], scores, self.references, probabilities, spec.get("weights")
            )
        columns = {"isic_id": frame["isic_id"], **scores, ENSEMBLE_COLUMN: ensemble}
        if spec.get("calibrator") is not None:
            columns["probability"] = Calibrator.from_dict(spec["calibrator"])(ensemble)
        return pl.DataFrame(columns)

    def _with_image_scores(
        self, frame: pl.DataFrame, scores: ScoreFile | None, allow_missing: bool
    ) -> pl.DataFrame:
        wanted = self.spec.image_columns
        given = None if scores is None else scores.path
        require_matching_image_scores(
            self.path, wanted, given, "a test score file (predict --image-scores FILE)"
        )
        if not wanted:
            return frame
        return attach(frame, scores, allow_missing=allow_missing, columns=list(wanted))


def require_matching_image_scores(
    run_dir: Path, wanted: Sequence[str], given: Path | None, expected: str
) -> None:
    """A run trained with image scores (`wanted`, its score columns) needs a score file for the
    lesions it scores, `expected` says which; a run trained without refuses one."""
    if wanted and given is None:
        raise UserError(
            f"{run_dir}: the run was trained with image scores ({', '.join(wanted)}); "
            f"expected {expected}"
        )
    if not wanted and given is not None:
        raise UserError(
            f"{given}: the run {run_dir} was trained without image scores; expected no "
            "--image-scores"
        )


def load_run(run_dir: Path) -> Run:
    """Load a run folder written by `train_gbdt`; model files are checked against their hashes.
    A folder still being built, or left by a killed run, is refused: its name ends in
    `.partial`, or it lacks `metrics.json` (the last file a run writes). Returns the `Run`,
    as `train` does."""
    return load_unfinished(_finished(run_dir))


def finished_manifest(run_dir: Path) -> dict[str, Any]:
    """The checked manifest of a finished run folder (refused as `load_run` refuses it), read
    without loading a model: what a command checks its inputs against before it scores."""
    path = inside(_finished(run_dir), MANIFEST, MANIFEST)
    manifest = _read_json(path)
    check_manifest(manifest, path)
    return manifest


def _finished(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    if run_dir.name.endswith(PARTIAL_SUFFIX):
        finished = run_dir.with_name(run_dir.name.removesuffix(PARTIAL_SUFFIX))
        raise UserError(
            f"{run_dir}: an unfinished run folder; expected a finished one (finish it with "
            f"train_gbdt --resume --out {finished})"
        )
    if not (run_dir / MANIFEST).is_file():
        raise UserError(f"{run_dir}: not a run folder (no {MANIFEST})")
    if not (run_dir / METRICS).is_file():
        raise UserError(
            f"{run_dir}: an incomplete run folder (no {METRICS}, the file a run writes last)"
        )
    return run_dir


def load_unfinished(run_dir: Path) -> Run:
    """`load_run` without the check that the run finished: the run writer scores the test
    lesions with the models of the folder it is still building."""
    run_dir = Path(run_dir)
    manifest_path = inside(run_dir, MANIFEST, MANIFEST)
    if not manifest_path.is_file():
        raise UserError(f"{run_dir}: not a run folder (no {MANIFEST})")
    manifest = _read_json(manifest_path)
    check_manifest(manifest, manifest_path)
    _warn_on_version_change(run_dir, manifest.get("versions", {}))
    models = []
    for i, entry in enumerate(manifest["models"]):
        path = inside(run_dir, entry["file"], f"models[{i}].file")
        if not path.is_file() or file_sha256(path) != entry["sha256"]:
            raise UserError(f"{path}: model file missing or changed since the run wrote it")
        models.append(
            LoadedModel(
                entry["model"],
                entry["repeat"],
                entry["fold"],
                _model(entry, path),
                entry.get("bag", 0),
            )
        )
    artifacts = {
        name: _artifact(run_dir, name, digest)
        for name, digest in manifest.get("artifacts", {}).items()
    }
    names = manifest["config"]["models"]["names"]
    oof_path = inside(run_dir, OOF, OOF)
    oof = _read_parquet(oof_path, names)
    keys = ["isic_id", "patient_id"]
    if any(key not in oof.columns for key in keys):
        raise UserError(f"{oof_path}: expected the columns {', '.join(keys)}")
    by_repeat = None
    if (run_dir / OOF_REPEATS).is_file():
        path = inside(run_dir, OOF_REPEATS, OOF_REPEATS)
        repeats = _read_parquet(path, [f"{name}_r0" for name in names])
        by_repeat = {
            name: np.vstack(
                [repeats[c].to_numpy() for c in repeats.columns if c.rsplit("_r", 1)[0] == name]
            )
            for name in names
        }
    ensemble = None
    if (run_dir / ENSEMBLE).is_file():
        ensemble_path = inside(run_dir, ENSEMBLE, ENSEMBLE)
        ensemble = check_ensemble(_read_json(ensemble_path), names, ensemble_path)
    return Run(
        path=run_dir,
        manifest=manifest,
        spec=FeatureSpec.from_dict(manifest["feature_spec"]),
        feature_names=manifest["feature_names"],
        categorical=manifest["categorical_features"],
        models=models,
        oof=oof,
        references_by_repeat=by_repeat,
        ensemble=ensemble,
        form=manifest.get("form", "trees"),
        shape=_read_curves(artifacts.get(SHAPE_FUNCTIONS)),
        shape_by_fold=_read_curves(artifacts.get(SHAPE_FUNCTIONS_BY_FOLD)),
    )


def _artifact(run_dir: Path, name: str, digest: str) -> Path:
    """A file the manifest hashes beside the models, refused as a model file is when it is
    missing or changed."""
    path = inside(run_dir, name, f"artifacts.{name}")
    if not path.is_file() or file_sha256(path) != digest:
        raise UserError(f"{path}: missing or changed since the run wrote it")
    return path


def _read_curves(path: Path | None) -> pl.DataFrame | None:
    if path is None:
        return None
    try:
        return pl.read_parquet(path)
    except READ_ERRORS as error:
        raise UserError(f"{path}: not a readable Parquet file ({type(error).__name__})") from error


def _model(entry: dict[str, Any], path: Path) -> Any:
    try:
        return booster(entry["model"]).load(path)
    except Exception as error:
        # Each library raises its own type for a file it cannot read. The hash matched the
        # manifest, so the file and the manifest were replaced together: the folder is bad.
        raise UserError(
            f"{path}: not a {entry['model']} model file the library can read "
            f"({first_line(error)[:120]})"
        ) from error


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid JSON ({error})") from error


def _read_parquet(path: Path, columns: list[str]) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except READ_ERRORS as error:
        raise UserError(f"{path}: not a readable Parquet file ({type(error).__name__})") from error
    for column in columns:
        if column not in frame.columns:
            raise UserError(f"{path}: score column '{column}' is missing")
        if not frame.schema[column].is_numeric():
            raise UserError(
                f"{path}: score column '{column}' expected numbers, got {frame.schema[column]}"
            )
    return frame


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
