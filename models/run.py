"""The main job's chain: features -> cross-validation -> ensemble -> metrics, handed as one
`RunResult` to the run folder (`models.artifacts`), which writes every file."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from features.build import build_features, fit_spec
from features.errors import UserError
from features.io import Dataset
from models import artifacts, faults
from models.artifacts import FinishedRun, RunResult
from models.blend import ENSEMBLE_COLUMN, RunEnsemble, repeat_ensemble, run_ensemble
from models.boosters import Matrix
from models.config import Config
from models.cv import (
    CVResult,
    check_target,
    cross_validate,
    leave_one_group_out,
    open_executor,
    read_folds_file,
    row_order,
)
from models.evaluation import group_labels, oof_metrics, scores_by_group
from models.image_inputs import ImageScores, attach_train, check_out_of_fold, log_use

log = logging.getLogger(__name__)


def train(
    dataset: Dataset,
    config: Config,
    run_dir: Path,
    inputs: dict[str, Any],
    *,
    folds_file: Path | None = None,
    eval_by: str | None = None,
    leave_one_out: str | None = None,
    resume_partial: bool = False,
    cluster: str | None = None,
    image_scores: ImageScores | None = None,
) -> FinishedRun:
    """Train every configured model on `dataset.train` and write a complete run folder.

    `inputs` describes where the data came from (file paths and hashes, or the generator),
    for the manifest. `folds_file` imposes folds made elsewhere; `eval_by` adds each group's
    out-of-fold score to the metrics; `leave_one_out` also trains without each group of that
    column in turn and scores it (`metrics.json` "leave_one_out"). `resume_partial` continues the
    `.partial` folder an interrupted run left; `cluster` runs the fits on the Dask scheduler at
    that address instead of locally (`models.cv.executors`). `image_scores` adds the image
    family of features (`features.image_scores`); their files must be in `inputs`
    ("image_scores": `ImageScores.describe()`), so that resuming with other scores is refused."""
    started = time.perf_counter()
    train_frame, image_check = dataset.train, None
    if image_scores is not None:
        # Before anything is written: a missing score is a user error, an in-fold file warned of.
        train_frame = attach_train(dataset.train, image_scores, dataset.test)
        image_check = check_out_of_fold(train_frame, image_scores)
    groups = {
        column: group_labels(dataset.train, column, "train data")
        for column in dict.fromkeys(c for c in (eval_by, leave_one_out) if c is not None)
    }
    # Before anything is written: a bad folds file is a user error.
    imposed = None
    if folds_file is not None:
        imposed = read_folds_file(folds_file, dataset.train["patient_id"], config.cv.repeats)
    # Before anything is written: a missing GPU or an unreachable cluster is a user error.
    check_target(config, cluster)
    partial = artifacts.open_partial(
        run_dir, artifacts.fingerprint(config, inputs, folds_file), resume=resume_partial
    )
    spec = fit_spec(
        train_frame,
        config.features.families,
        config.features.categoricals,
        image_scores.train.columns if image_scores is not None else (),
    )
    built = build_features(train_frame, spec)
    faults.reached("features")
    y = built.frame["target"].to_numpy().astype(np.int8)
    patients = built.frame["patient_id"].to_numpy()
    log.info(
        "training on %d lesions, %d malignant, %d patients, %d features",
        y.size,
        int(y.sum()),
        len(set(patients)),
        len(built.names),
    )
    if image_scores is not None:
        log_use(image_scores)
    order = row_order(dataset.train, built.frame)
    if imposed is not None:
        imposed = imposed[:, order]
        config = _with_imposed_folds(config, imposed, folds_file)
    x = Matrix(built.frame, built.names, built.categorical, y)
    row_groups = {c: v[order] for c, v in groups.items()}
    with open_executor(config, cluster, scratch=partial) as executor:
        cv = cross_validate(
            x,
            patients,
            config,
            folds=imposed,
            executor=executor,
            store=artifacts.TaskFolder(partial),
        )
        held_out = None
        if leave_one_out is not None:
            held_out = leave_one_group_out(
                x, patients, row_groups[leave_one_out], config, ENSEMBLE_COLUMN, executor=executor
            )
    e = config.ensemble
    ensemble = run_ensemble(
        cv.oof, cv.oof_probability, y, cv.folds, e.method, e.calibration, config.models.form
    )
    metrics = _metrics(y, patients, cv, ensemble, config)
    if eval_by is not None:
        columns = {**cv.oof, ENSEMBLE_COLUMN: ensemble.oof}
        metrics["by_group"] = {
            "column": eval_by,
            "groups": scores_by_group(y, columns, row_groups[eval_by]),
        }
    if held_out is not None:
        in_cv = scores_by_group(y, {ENSEMBLE_COLUMN: ensemble.oof}, row_groups[leave_one_out])
        for level, entry in held_out.items():
            entry["in_cv_ensemble_pauc"] = in_cv[level]["pauc"][ENSEMBLE_COLUMN]
        metrics["leave_one_out"] = {"column": leave_one_out, "groups": held_out}
    if image_check is not None:
        metrics["image_scores"] = image_check
    result = RunResult(
        config=config,
        inputs=inputs,
        cluster=cluster,
        spec=spec,
        feature_names=built.names,
        categorical=built.categorical,
        rows=built.frame.select("isic_id", "patient_id", "target"),
        cv=cv,
        ensemble=ensemble,
        metrics=metrics,
        started=started,
        test=dataset.test,
        sample_ids=dataset.sample_ids,
        image_scores=image_scores,
        x=x,
    )
    return artifacts.write_run(run_dir, result)


def _metrics(
    y: np.ndarray, patients: np.ndarray, cv: CVResult, ensemble: RunEnsemble, config: Config
) -> dict[str, Any]:
    """metrics.json's scores of every model and the ensemble (each repeat's ensemble formed
    from that repeat's own out-of-fold probabilities, or log-odds in an additive run), and
    the calibration report."""
    by_repeat = []
    for r, fold_of_row in enumerate(cv.folds):
        scores = {name: values[r] for name, values in cv.oof_by_repeat.items()}
        scores[ENSEMBLE_COLUMN] = repeat_ensemble(
            config.ensemble.method, scores, y, fold_of_row, config.models.form
        )
        by_repeat.append(scores)
    metrics = oof_metrics(
        y,
        patients,
        {**cv.oof, ENSEMBLE_COLUMN: ensemble.oof},
        by_repeat,
        cv.folds,
        bootstrap_samples=config.training.bootstrap_samples,
        seed=config.seed,
    )
    metrics["calibration"] = ensemble.calibration
    return metrics


def _with_imposed_folds(config: Config, folds: np.ndarray, path: Path) -> Config:
    counts = {int(f.max()) + 1 for f in folds}
    if len(counts) > 1:
        raise UserError(f"{path}: the fold columns have different numbers of folds {counts}")
    n_folds = counts.pop()
    if n_folds != config.cv.folds:
        log.info("%s: %d folds (the file's), not the config's %d", path, n_folds, config.cv.folds)
        config = config.replace(cv={"folds": n_folds})
    return config
