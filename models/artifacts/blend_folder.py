"""The blend folder: run folders and score files joined, blended by every method, and written
as `DIR.partial/`, renamed to DIR when complete.

It holds `oof.parquet` (the keys, each component's out-of-fold scores, each method's honest
out-of-fold column, `blend` and `ensemble`: the chosen one), `metrics.json`, `blend.json` (the
method and its fit, to blend new lesions again) and, when every component has test scores,
`test_predictions.parquet` and `submission.csv` (the chosen blend, calibrated).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from features.frames import FrameSource
from features.io import check_sample_matches, read_sample_ids
from features.score_files import read_score_file
from models.artifacts.blend_inputs import read_run_scores
from models.artifacts.files import (
    METRICS,
    OOF,
    SUBMISSION,
    TEST_PREDICTIONS,
    write_json,
    write_parquet,
)
from models.artifacts.folder import partial_dir
from models.artifacts.submission import write_submission
from models.blend import (
    BEST,
    BLEND_COLUMN,
    ENSEMBLE_COLUMN,
    BlendResult,
    Components,
    ScoreFile,
    blend,
    calibration_report,
    cross_fitted,
    join_components,
    method_scores,
)
from models.evaluation import oof_metrics

log = logging.getLogger(__name__)

BLEND = "blend.json"


@dataclass(frozen=True)
class ScoreSpec:
    """`--scores NAME=TRAIN_FILE[,TEST_FILE]`."""

    name: str
    train: Path | FrameSource
    test: Path | FrameSource | None = None


@dataclass(frozen=True)
class FinishedBlend:
    """A blend folder: `path`, its metrics.json as `metrics`, and `oof`."""

    path: Path
    metrics: dict[str, Any]

    def __fspath__(self) -> str:
        # A blend goes wherever its folder's path does: compare(run, blend).
        return str(self.path)

    def __repr__(self) -> str:
        score = self.metrics["oof_pauc"].get(ENSEMBLE_COLUMN)
        shown = "" if score is None else f", out-of-fold pAUC {score:.4f}"
        return f"Blend('{self.path}': {self.metrics['method']}{shown})"

    @property
    def oof(self) -> pl.DataFrame:
        """oof.parquet: each training lesion's keys, label and every method's blended score."""
        return pl.read_parquet(self.path / OOF)


def make_blend(
    runs: list[Path],
    scores: list[ScoreSpec],
    out: Path,
    method: str = BEST,
    run_columns: str = ENSEMBLE_COLUMN,
    bootstrap_samples: int = 1000,
    seed: int = 0,
    predictions: list[Path | FrameSource] | None = None,
    sample: Path | None = None,
) -> FinishedBlend:
    """Blend `runs` (their `run_columns`) and score files by `method` into the folder `out`.
    `predictions[i]` replaces run i's test predictions (`predict --predictions` on another
    test file); `sample` orders the submission (default: the first run's test order)."""
    started = time.perf_counter()
    out = Path(out)
    if out.exists():
        raise UserError(f"{out}: blend folder already exists; choose another --out")
    components = _components(runs, scores, run_columns, predictions or [], sample)
    rows = components.rows
    y, patients = rows["target"].to_numpy(), rows["patient_id"].to_numpy()
    fold_of_row = rows["fold"].to_numpy()
    result = blend(components.oof, y, fold_of_row, patients, method, bootstrap_samples, seed)
    partial = _start(out)
    columns = {**components.oof, **result.oof, ENSEMBLE_COLUMN: result.oof[result.chosen]}
    write_parquet(
        partial / OOF,
        rows.with_columns(
            *(pl.Series(name, values) for name, values in components.oof.items()),
            *(pl.Series(name, values) for name, values in result.oof.items()),
            pl.Series(BLEND_COLUMN, result.oof[result.chosen]),
            pl.Series(ENSEMBLE_COLUMN, result.oof[result.chosen]),
        ),
    )
    write_json(partial / BLEND, {**result.stored(components.names), "origin": components.origin})
    if components.complete_test:
        scored = _test_predictions(components, result)
        write_parquet(partial / TEST_PREDICTIONS, scored)
        # the test ids are the first run's, already in the sample submission's order if given
        submission = scored.select("isic_id", target="probability")
        write_submission(partial / SUBMISSION, submission, components.test_ids)
    else:
        log.info("not every component has test scores: no submission.csv")
    metrics = _metrics(components, result, columns, bootstrap_samples, seed)
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    write_json(partial / METRICS, metrics)
    os.replace(partial, out)
    return FinishedBlend(out, metrics)


def _components(
    runs: list[Path],
    scores: list[ScoreSpec],
    run_columns: str,
    predictions: list[Path | FrameSource],
    sample: Path | None,
) -> Components:
    """The runs' and score files' columns joined and checked, test lesions in sample order."""
    if len(predictions) > len(runs):
        raise UserError(f"--predictions: {len(predictions)} files for {len(runs)} --run folders")
    predictions = predictions + [None] * (len(runs) - len(predictions))
    components = join_components(
        [
            read_run_scores(run, run_columns, file)
            for run, file in zip(runs, predictions, strict=True)
        ],
        [
            ScoreFile(
                spec.name,
                read_score_file(spec.train).frame,
                str(spec.train),
                None if spec.test is None else read_score_file(spec.test).frame,
                str(spec.test),
            )
            for spec in scores
        ],
    )
    if sample is not None:
        _order_by_sample(components, sample, predictions[0] or Path(runs[0]) / TEST_PREDICTIONS)
    return components


def _test_predictions(components: Components, result: BlendResult) -> pl.DataFrame:
    by_method = method_scores(result, components.oof, components.test)
    chosen = by_method[result.chosen]
    return pl.DataFrame(
        {
            "isic_id": components.test_ids,
            **by_method,
            ENSEMBLE_COLUMN: chosen,
            "probability": np.clip(result.calibrator(chosen), 0.0, 1.0),
        }
    )


def _metrics(
    components: Components,
    result: BlendResult,
    columns: dict[str, np.ndarray],
    bootstrap_samples: int,
    seed: int,
) -> dict[str, Any]:
    rows = components.rows
    y, patients = rows["target"].to_numpy(), rows["patient_id"].to_numpy()
    fold_of_row = rows["fold"].to_numpy()
    metrics = oof_metrics(
        y,
        patients,
        columns,
        [columns],
        fold_of_row[None, :],
        bootstrap_samples=bootstrap_samples,
        seed=seed,
    )
    honest = cross_fitted(result.oof[result.chosen], y, fold_of_row, result.calibrator.method)
    return {
        **metrics,
        "components": components.origin,
        "methods": list(result.oof),
        "asked": result.asked,
        "method": result.chosen,
        "fit": result.fits[result.chosen],
        "fits": result.fits,
        "fold_fits": result.fold_fits,
        "against_rank_mean": {name: c.to_dict() for name, c in result.comparisons.items()},
        "calibration": {
            "method": result.calibrator.method,
            "cross_fitted_on": "folds",
            **calibration_report(honest, y),
        },
        "submission": components.complete_test,
    }


def _order_by_sample(components: Components, sample: Path, test_label: Path) -> None:
    if components.test_ids is None:
        raise UserError(f"{sample}: the first run has no test predictions to order")
    ids = read_sample_ids(sample)
    check_sample_matches(components.test_ids.to_frame("isic_id"), ids, test_label, sample)
    components.test_in_order(ids)


def _start(out: Path) -> Path:
    partial = partial_dir(out)
    if partial.exists():
        log.warning("%s: removing the unfinished blend left there", partial)
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    return partial
