"""Every file of a finished run, written from one `RunResult`: out-of-fold scores, folds,
ensemble, config, an additive run's curves, manifest, test predictions with the submission,
and metrics (last). The
fits' model files are already in the folder: each was kept as it finished (`folder.py`)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl
import tomli_w

from features.build import describe
from features.io import file_sha256
from models.additive import fold_curves, run_curves
from models.artifacts.files import (
    CONFIG,
    ENSEMBLE,
    FOLDS,
    MANIFEST,
    METRICS,
    OOF,
    OOF_REPEATS,
    SHAPE_FUNCTIONS,
    SHAPE_FUNCTIONS_BY_FOLD,
    SUBMISSION,
    TEST_PREDICTIONS,
    package_versions,
    write_csv,
    write_json,
    write_parquet,
    write_text,
)
from models.artifacts.folder import TaskFolder, finish_run, partial_dir
from models.artifacts.loader import load_unfinished
from models.artifacts.manifest import ADDITIVE_FORMAT, FORMAT, FORMAT_KEY
from models.artifacts.result import FinishedRun, RunResult
from models.artifacts.submission import write_submission
from models.blend import ENSEMBLE_COLUMN
from models.config import ADDITIVE
from models.cv import CVResult, split_seeds


def write_run(run_dir: Path, result: RunResult) -> FinishedRun:
    """Write `result` into `run_dir`'s `.partial` folder and rename it to `run_dir`.

    Test lesions are scored by the run loaded back from the folder, the saved models alone,
    exactly as `predict` will score them."""
    partial = partial_dir(run_dir)
    cv = result.cv
    write_parquet(partial / OOF, oof_frame(result.rows, cv, result.ensemble.oof))
    write_parquet(partial / OOF_REPEATS, oof_repeats_frame(result.rows, cv))
    write_json(partial / ENSEMBLE, result.ensemble.stored)
    write_csv(partial / FOLDS, folds_frame(result.rows, cv))
    write_text(partial / CONFIG, tomli_w.dumps(result.config.to_dict()))
    curves = write_curves(partial, result) if result.config.models.form == ADDITIVE else {}
    write_json(partial / MANIFEST, _manifest(partial, result, curves))
    if result.test is not None:
        batch_rows = result.config.predict.batch_rows
        scores = result.image_scores
        predictions = load_unfinished(partial).score(
            result.test,
            batch_rows,
            image_scores=scores.test if scores is not None else None,
            allow_missing=scores is not None and scores.allow_missing,
        )
        write_parquet(partial / TEST_PREDICTIONS, predictions)
        submission = submission_frame(predictions, result.sample_ids)
        test_ids = result.test["isic_id"]
        write_submission(partial / SUBMISSION, submission, test_ids, result.sample_ids)
    metrics = {**result.metrics, "seconds": round(time.perf_counter() - result.started, 2)}
    write_json(partial / METRICS, metrics)
    return FinishedRun(finish_run(run_dir), metrics)


def write_curves(partial: Path, result: RunResult) -> dict[str, str]:
    """An additive run's curves (`models.additive`): the run's and each fold model's, each
    file's SHA-256 by name for the manifest. From the fold models in this process, fitted or
    read back from their files on resume: a LightGBM model file reads back to the same raw
    scores, so a resumed run writes the same bytes."""
    if result.x is None:
        raise ValueError("an additive run's result needs its training rows (RunResult.x)")
    by_fold = fold_curves(result.cv.models, result.x, result.cv.folds)
    hashes = {}
    for name, frame in ((SHAPE_FUNCTIONS, run_curves(by_fold)), (SHAPE_FUNCTIONS_BY_FOLD, by_fold)):
        write_parquet(partial / name, frame)
        hashes[name] = file_sha256(partial / name)
    return hashes


def oof_frame(rows: pl.DataFrame, cv: CVResult, ensemble: np.ndarray) -> pl.DataFrame:
    return rows.select("isic_id", "patient_id", "target").with_columns(
        pl.Series("fold", cv.folds[0]),
        *(pl.Series(name, values) for name, values in cv.oof.items()),
        pl.Series(ENSEMBLE_COLUMN, ensemble),
    )


def oof_repeats_frame(rows: pl.DataFrame, cv: CVResult) -> pl.DataFrame:
    """Each repeat's own out-of-fold probabilities: with several repeats, a test lesion's
    score from repeat r's fold models is ranked against repeat r's column, as its rows were."""
    return rows.select("isic_id").with_columns(
        pl.Series(f"{name}_r{r}", values[r])
        for name, values in cv.oof_by_repeat.items()
        for r in range(values.shape[0])
    )


def folds_frame(rows: pl.DataFrame, cv: CVResult) -> pl.DataFrame:
    """Each patient's fold in every repeat, so another model can be trained on the same folds."""
    folds = rows.select("patient_id").with_columns(
        pl.Series(f"fold_r{r}" if r else "fold", cv.folds[r]) for r in range(len(cv.folds))
    )
    return folds.unique("patient_id", keep="first", maintain_order=True).sort("patient_id")


def submission_frame(predictions: pl.DataFrame, order: pl.Series | None) -> pl.DataFrame:
    """`isic_id,target` with the ensemble as target, in sample-submission order when given."""
    # The calibrated probability when the run has one (same order as the ensemble).
    target = "probability" if "probability" in predictions.columns else ENSEMBLE_COLUMN
    submission = predictions.select("isic_id", pl.col(target).alias("target"))
    if order is None:
        return submission
    return order.rename("isic_id").to_frame().join(submission, on="isic_id", how="left")


def _manifest(partial: Path, result: RunResult, artifacts: dict[str, str]) -> dict:
    """`artifacts`: the SHA-256 of each file beside the models that loading checks (an
    additive run's curves)."""
    config = result.config
    store = TaskFolder(partial)
    additive = config.models.form == ADDITIVE
    manifest = {
        FORMAT_KEY: ADDITIVE_FORMAT if additive else FORMAT,
        "versions": package_versions(),
        "form": config.models.form,
        "config": config.to_dict(),
        "threads": config.training.n_threads,
        "cluster": result.cluster,
        "inputs": result.inputs,
        "seeds": {"seed": config.seed, "split_seeds": split_seeds(config)},
        "feature_spec": result.spec.to_dict(),
        "feature_names": result.feature_names,
        "categorical_features": result.categorical,
        "features": describe(result.spec.families, result.spec.image_columns),
        "models": [store.entry(m.task) for m in result.cv.models],
    }
    if artifacts:
        manifest["artifacts"] = artifacts
    return manifest
