"""One evaluation from start to finish: the cohort read and every check passed before a model is
loaded or a lesion scored, then the scores, the figures, the shift, and the folder (for an
additive run, with what its page needs to draw the curves)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features.build import build_features
from models.additive import top_features
from models.artifacts import Run, load_run
from models.artifacts.scoring import patient_batches
from models.blend import ENSEMBLE_COLUMN
from models.config import ADDITIVE, load_config
from models.external.cohort import (
    TARGET,
    Cohort,
    check_eval_by,
    group_label_arrays,
    grouping_columns,
    read_cohort,
)
from models.external.figures import figures
from models.external.folder import SCORES, Page, refuse_existing, write_evaluation
from models.external.sources import (
    PROBABILITY,
    SCORES_COLUMN,
    check_run,
    join_scores,
    score_with_run,
)
from models.external.training_data import cohort_shift

log = logging.getLogger(__name__)

FORMAT = 1
# A score file carries no run: its intervals take these (a run's come from its manifest).
SCORES_BOOTSTRAP = 1000
SCORES_SEED = 0


@dataclass(frozen=True)
class Evaluation:
    """An evaluation folder: `path`, its evaluation.json as `results`, and `scores`."""

    path: Path
    results: dict[str, Any]  # evaluation.json

    def __repr__(self) -> str:
        r = self.results
        return (
            f"Evaluation('{self.path}': {r['n_rows']:,} lesions, {r['n_positive']:,} malignant, "
            f"{r['n_patients']:,} patients)"
        )

    @property
    def scores(self) -> pl.DataFrame:
        """scores.parquet: each cohort lesion's keys, label and scores."""
        return pl.read_parquet(self.path / SCORES)


def evaluate_run(
    run: Path,
    cohort: Path,
    out: Path,
    *,
    labels: Path | None = None,
    image_scores: Path | None = None,
    allow_missing_scores: bool = False,
    batch_rows: int | None = None,
    eval_by: list[str] | tuple[str, ...] = (),
    page: Page | None = None,
) -> Evaluation:
    """Score `cohort` (with `labels` when it is in the test layout) with the run folder `run`
    and write the evaluation folder `out`; `page` writes the page into it."""
    eval_by = list(eval_by)
    refuse_existing(out)
    data = read_cohort(cohort, labels)
    check_eval_by(data, eval_by)
    checked = check_run(run, data, image_scores, allow_missing_scores)
    warnings = []
    shared = checked.n_patients_in_training
    if shared:
        patients = "patient also has" if shared == 1 else "patients also have"
        warnings.append(
            f"{shared:,} cohort {patients} lesions in the run's training data "
            f"({checked.path / 'oof.parquet'}); the cohort is not fully external to the run"
        )
        log.warning("%s", warnings[-1])
    n_boot, seed = checked.bootstrap_samples, checked.seed
    loaded = load_run(run)
    scored, oof_y, oof_p = score_with_run(checked, loaded, data, batch_rows, allow_missing_scores)
    models = [*loaded.model_names, ENSEMBLE_COLUMN]
    results = {
        "format": FORMAT,
        "source": _source(data, run=run, image_scores=image_scores),
        "models": models,
        "probability_model": ENSEMBLE_COLUMN,
        "bootstrap_samples": n_boot,
        "seed": seed,
        **_counts(data.frame),
        "n_patients_in_training": checked.n_patients_in_training,
        "reasons": {},
    }
    results |= figures(
        data.frame[TARGET].to_numpy(),
        data.frame["patient_id"].to_numpy(),
        {name: scored[name].to_numpy() for name in models},
        probability=scored[PROBABILITY].to_numpy(),
        is_probability=True,
        oof=(oof_y, oof_p),
        groups=group_label_arrays(data.frame, eval_by, str(data.path)),
        n_boot=n_boot,
        seed=seed,
    )
    results["shift"] = cohort_shift(checked.manifest, checked.spec, checked.scored_frame, seed)
    if "reason" in results["shift"]:
        results["reasons"]["shift"] = results["shift"]["reason"]
    results["warnings"] = warnings
    curves = None
    if page is not None and loaded.form == ADDITIVE and loaded.shape is not None:
        curves = (loaded.shape, _curve_values(loaded, checked.scored_frame, batch_rows))
    return _write(out, results, data.frame, scored, eval_by, page, curves)


def evaluate_scores(
    scores: Path,
    cohort: Path,
    out: Path,
    *,
    score_column: str = "target",
    probability: bool = False,
    labels: Path | None = None,
    allow_missing_scores: bool = False,
    eval_by: list[str] | tuple[str, ...] = (),
    page: Page | None = None,
) -> Evaluation:
    """Evaluate the score file `scores` (its `score_column`; a probability when `probability`
    says so) on `cohort` and write the evaluation folder `out`: thresholds are chosen on the
    cohort, and what needs a run (its training patients, the shift) is null with a reason."""
    eval_by = list(eval_by)
    refuse_existing(out)
    data = read_cohort(cohort, labels)
    check_eval_by(data, eval_by)
    frame, values, warnings = join_scores(
        data, scores, score_column, probability, allow_missing_scores
    )
    for warning in warnings:
        log.warning("%s", warning)
    reasons = {
        "n_patients_in_training": "a score file carries no record of the data its model trained on",
        "shift": "a score file carries no training data to compare the cohort with",
    }
    if not probability:
        reasons["calibration"] = (
            f"the scores in column '{score_column}' are not known to be probabilities (pass "
            "--probability if they are); ranks lie in [0, 1] too"
        )
    results = {
        "format": FORMAT,
        "source": _source(data, scores=scores, score_column=score_column),
        "models": [SCORES_COLUMN],
        "probability_model": SCORES_COLUMN,
        "bootstrap_samples": SCORES_BOOTSTRAP,
        "seed": SCORES_SEED,
        **_counts(frame),
        "n_patients_in_training": None,
        "reasons": reasons,
    }
    results |= figures(
        frame[TARGET].to_numpy(),
        frame["patient_id"].to_numpy(),
        {SCORES_COLUMN: values},
        probability=values,
        is_probability=probability,
        oof=None,
        groups=group_label_arrays(frame, eval_by, str(data.path)),
        n_boot=SCORES_BOOTSTRAP,
        seed=SCORES_SEED,
    )
    results["shift"] = {"reason": reasons["shift"]}
    results["warnings"] = warnings
    scored = pl.DataFrame({SCORES_COLUMN: values, PROBABILITY: values})
    return _write(out, results, frame, scored, eval_by, page)


def _curve_values(run: Run, frame: pl.DataFrame, batch_rows: int | None) -> pl.DataFrame:
    """The cohort lesions' values of the features an additive run's page draws (its
    `top_features`), row for row with `frame`, built in batches of whole patients as scoring
    builds them."""
    top = top_features(run.shape)
    if batch_rows is None:
        batch_rows = load_config().predict.batch_rows
    batches = patient_batches(frame["patient_id"], batch_rows)
    parts = [build_features(frame[rows], run.spec).frame.select(top) for rows in batches]
    return pl.concat(parts)[np.argsort(np.concatenate(batches), kind="stable")]


def _source(
    cohort: Cohort,
    run: Path | None = None,
    scores: Path | None = None,
    score_column: str | None = None,
    image_scores: Path | None = None,
) -> dict[str, str | None]:
    def text(path: Path | None) -> str | None:
        return None if path is None else str(path)

    return {
        "run": text(run),
        "scores": text(scores),
        "score_column": score_column,
        "cohort": str(cohort.path),
        "labels": text(cohort.labels),
        "image_scores": text(image_scores),
    }


def _counts(frame: pl.DataFrame) -> dict[str, int]:
    return {
        "n_rows": frame.height,
        "n_positive": int(frame[TARGET].sum()),
        "n_patients": frame["patient_id"].n_unique(),
    }


def _write(
    out: Path,
    results: dict[str, Any],
    frame: pl.DataFrame,
    scored: pl.DataFrame,
    eval_by: list[str],
    page: Page | None,
    curves: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> Evaluation:
    """scores.parquet's frame (keys, label, scores as Float64) and the grouping columns the
    page reads beside it (and an additive run's curves); then the folder."""
    scores = pl.concat(
        [
            frame.select("isic_id", "patient_id", TARGET),
            scored.select(pl.all().cast(pl.Float64)),
        ],
        how="horizontal",
    )
    context = frame.select(c for c in grouping_columns(eval_by) if c in frame.columns)
    return Evaluation(write_evaluation(out, results, scores, context, page, curves), results)
