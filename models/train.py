"""The main job's chain: features, cross-validation, metrics, and the run folder."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import tomli_w

from features.build import build_features, describe, fit_spec
from features.errors import UserError
from features.io import Dataset
from models import artifacts, calibrate, execution, resume
from models.blend import (
    combine,
    fold_honest_weighted_rank,
    percentile_against,
    search_weights,
)
from models.config import Config
from models.cv import CVResult, cross_validate, fold_scores, split_seeds
from models.folds import read_folds_file
from models.gbdt import Matrix
from models.groups import group_labels, leave_one_group_out, scores_by_group
from models.metric import isic_pauc, patient_bootstrap_ci, top15_retrieval

log = logging.getLogger(__name__)
ENSEMBLE = "ensemble"


@dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


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
) -> TrainResult:
    """Train every configured model on `dataset.train` and write a complete run folder.

    `inputs` describes where the data came from (file paths and hashes, or the generator),
    for the manifest. `folds_file` imposes folds made elsewhere; `eval_by` adds each group's
    out-of-fold score to the metrics; `leave_one_out` also trains without each group of that
    column in turn and scores it (`metrics.json` "leave_one_out"). `resume_partial` continues the
    `.partial` folder an interrupted run left (`models.resume`); `cluster` runs the fits on the
    Dask scheduler at that address instead of locally (`models.execution`)."""
    started = time.perf_counter()
    groups = {
        column: group_labels(dataset.train, column, "train data")
        for column in dict.fromkeys(c for c in (eval_by, leave_one_out) if c is not None)
    }
    # Before anything is written: a bad folds file is a user error.
    imposed = None
    if folds_file is not None:
        imposed = read_folds_file(folds_file, dataset.train["patient_id"], config.cv.repeats)
    # Before anything is written: a missing GPU or an unreachable cluster is a user error.
    execution.check_target(config, cluster)
    partial = resume.open_partial(
        run_dir, resume.fingerprint(config, inputs, folds_file), resume=resume_partial
    )
    spec = fit_spec(dataset.train, config.features.families, config.features.categoricals)
    built = build_features(dataset.train, spec)
    y = built.frame["target"].to_numpy().astype(np.int8)
    patients = built.frame["patient_id"].to_numpy()
    log.info(
        "training on %d lesions, %d malignant, %d patients, %d features",
        y.size,
        int(y.sum()),
        len(set(patients)),
        len(built.names),
    )
    if imposed is not None:
        imposed = imposed[:, _row_order(dataset.train, built.frame)]
        config = _with_imposed_folds(config, imposed, folds_file)
    x = Matrix(built.frame, built.names, built.categorical, y)
    store = resume.TaskFolder(partial)
    row_groups = {c: v[_row_order(dataset.train, built.frame)] for c, v in groups.items()}
    with execution.open_executor(config, cluster, scratch=partial) as executor:
        result = cross_validate(x, patients, config, folds=imposed, executor=executor, store=store)
        held_out = None
        if leave_one_out is not None:
            held_out = leave_one_group_out(
                x, patients, row_groups[leave_one_out], config, ENSEMBLE, executor=executor
            )
    model_entries = [store.entry(m.task) for m in result.models]
    ensemble = _ensemble(result, y, config)
    oof = _oof_frame(built.frame, result, ensemble.pop("oof"))
    artifacts.write_parquet(partial / artifacts.OOF, oof)
    artifacts.write_parquet(
        partial / artifacts.OOF_REPEATS, _oof_repeats_frame(built.frame, result)
    )
    calibration = ensemble.pop("calibration")
    artifacts.write_json(partial / artifacts.ENSEMBLE, ensemble)
    artifacts.write_csv(partial / artifacts.FOLDS, _folds_frame(built.frame, result))
    (partial / artifacts.CONFIG).write_text(tomli_w.dumps(config.to_dict()))
    artifacts.write_json(
        partial / artifacts.MANIFEST,
        {
            "versions": artifacts.package_versions(),
            "config": config.to_dict(),
            "threads": config.training.n_threads,
            "cluster": cluster,
            "inputs": inputs,
            "seeds": {"seed": config.seed, "split_seeds": split_seeds(config)},
            "feature_spec": spec.to_dict(),
            "feature_names": built.names,
            "categorical_features": built.categorical,
            "features": describe(spec.families),
            "models": model_entries,
        },
    )
    if dataset.test is not None:
        predictions = artifacts.load_run(partial).predict(dataset.test)
        artifacts.write_parquet(partial / artifacts.TEST_PREDICTIONS, predictions)
        submission = artifacts.submission_frame(predictions, dataset.sample_ids)
        artifacts.write_csv(partial / artifacts.SUBMISSION, submission)
    metrics = _metrics(oof, result, config)
    metrics["calibration"] = calibration
    if eval_by is not None:
        scores = {name: oof[name].to_numpy() for name in [*result.oof, ENSEMBLE]}
        metrics["by_group"] = {
            "column": eval_by,
            "groups": scores_by_group(y, scores, row_groups[eval_by]),
        }
    if held_out is not None:
        in_cv = scores_by_group(y, {ENSEMBLE: oof[ENSEMBLE].to_numpy()}, row_groups[leave_one_out])
        for level, entry in held_out.items():
            entry["in_cv_ensemble_pauc"] = in_cv[level]["pauc"][ENSEMBLE]
        metrics["leave_one_out"] = {"column": leave_one_out, "groups": held_out}
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    artifacts.write_json(partial / artifacts.METRICS, metrics)
    resume.close_partial(partial)
    return TrainResult(artifacts.finish_run(run_dir), metrics)


def _oof_frame(frame: pl.DataFrame, result: CVResult, ensemble: np.ndarray) -> pl.DataFrame:
    return frame.select("isic_id", "patient_id", "target").with_columns(
        pl.Series("fold", result.folds[0]),
        *(pl.Series(name, values) for name, values in result.oof.items()),
        pl.Series(ENSEMBLE, ensemble),
    )


def _oof_repeats_frame(frame: pl.DataFrame, result: CVResult) -> pl.DataFrame:
    """Each repeat's own out-of-fold probabilities: with several repeats, a test lesion's
    score from repeat r's fold models is ranked against repeat r's column, as its rows were."""
    return frame.select("isic_id").with_columns(
        pl.Series(f"{name}_r{r}", values[r])
        for name, values in result.oof_by_repeat.items()
        for r in range(values.shape[0])
    )


def _ensemble(result: CVResult, y: np.ndarray, config: Config) -> dict[str, Any]:
    """The out-of-fold ensemble column, what predicting needs to rebuild it on new lesions
    (method, weights, calibrator; written as ensemble.json), and the calibration report.

    Choices fitted on labels (blend weights, the calibrator) are made for each fold's rows on
    the other folds' rows (folds of the first repeat), so the reported numbers stay honest;
    the weights and calibrator stored for test lesions are fit on every out-of-fold row."""
    method = config.ensemble.method
    fold_of_row = result.folds[0]
    ranks = {name: percentile_against(values, values) for name, values in result.oof.items()}
    out: dict[str, Any] = {"method": method, "repeats": int(result.folds.shape[0])}
    if method == "weighted_rank":
        oof, fold_weights = fold_honest_weighted_rank(ranks, y, fold_of_row)
        out["weights"] = search_weights(ranks, y)
        out["fold_weights"] = fold_weights
    else:
        oof = combine(method, result.oof, result.oof, result.oof_probability)
    kind = config.ensemble.calibration
    out["calibrator"] = calibrate.fit_calibrator(oof, y, kind).to_dict()
    report = calibrate.calibration_report(calibrate.cross_fitted(oof, y, fold_of_row, kind), y)
    out["calibration"] = {"method": kind, "cross_fitted_on": "folds of repeat 0", **report}
    out["oof"] = oof
    return out


def _with_imposed_folds(config: Config, folds: np.ndarray, path: Path) -> Config:
    counts = {int(f.max()) + 1 for f in folds}
    if len(counts) > 1:
        raise UserError(f"{path}: the fold columns have different numbers of folds {counts}")
    n_folds = counts.pop()
    if n_folds != config.cv.folds:
        log.info("%s: %d folds (the file's), not the config's %d", path, n_folds, config.cv.folds)
        config = config.replace(cv={"folds": n_folds})
    return config


def _row_order(raw: pl.DataFrame, built: pl.DataFrame) -> np.ndarray:
    """Positions in `raw` of `built`'s rows, by isic_id (the builders may reorder rows)."""
    index = raw.select("isic_id").with_row_index("position")
    joined = built.select("isic_id").join(index, on="isic_id", how="left", maintain_order="left")
    return joined["position"].to_numpy()


def _folds_frame(frame: pl.DataFrame, result: CVResult) -> pl.DataFrame:
    """Each patient's fold in every repeat, so another model can be trained on the same folds."""
    folds = frame.select("patient_id").with_columns(
        pl.Series(f"fold_r{r}" if r else "fold", result.folds[r]) for r in range(len(result.folds))
    )
    return folds.unique("patient_id", keep="first", maintain_order=True).sort("patient_id")


def _metrics(oof: pl.DataFrame, result: CVResult, config: Config) -> dict[str, Any]:
    y = oof["target"].to_numpy()
    patients = oof["patient_id"].to_numpy()
    names = list(result.oof)
    by_repeat = [
        {name: result.oof_by_repeat[name][r] for name in names} for r in range(len(result.folds))
    ]
    method = config.ensemble.method
    for r, scores in enumerate(by_repeat):
        models = {n: scores[n] for n in names}
        if method == "weighted_rank":
            ranks = {n: percentile_against(v, v) for n, v in models.items()}
            scores[ENSEMBLE] = fold_honest_weighted_rank(ranks, y, result.folds[r])[0]
        else:
            scores[ENSEMBLE] = combine(method, models, models, models)
    metrics: dict[str, Any] = {
        key: {} for key in ("oof_pauc", "oof_pauc_ci", "oof_top15", "fold_pauc", "repeat_pauc")
    }
    for name in [*names, ENSEMBLE]:
        scores = oof[name].to_numpy()
        metrics["oof_pauc"][name] = isic_pauc(y, scores)
        metrics["oof_pauc_ci"][name] = list(
            patient_bootstrap_ci(
                y, scores, patients, config.training.bootstrap_samples, config.seed
            )
        )
        metrics["oof_top15"][name] = top15_retrieval(y, scores, patients)
        metrics["fold_pauc"][name] = [
            value
            for r, repeat_scores in enumerate(by_repeat)
            for value in fold_scores(y, repeat_scores[name], result.folds[r])
        ]
        metrics["repeat_pauc"][name] = [isic_pauc(y, s[name]) for s in by_repeat]
    metrics.update(
        n_rows=int(y.size),
        n_positive=int(y.sum()),
        n_patients=int(oof["patient_id"].n_unique()),
    )
    return metrics
