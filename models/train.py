"""The main job's chain: features, cross-validation, metrics, and the run folder."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import tomli_w

from features.build import build_features, describe, fit_spec
from features.io import Dataset
from models import artifacts
from models.blend import rank_mean
from models.config import Config
from models.cv import CVResult, cross_validate, fold_scores, split_seeds
from models.gbdt import Matrix
from models.metric import isic_pauc, patient_bootstrap_ci, top15_retrieval

log = logging.getLogger(__name__)
ENSEMBLE = "ensemble"


@dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]


def train(dataset: Dataset, config: Config, run_dir: Path, inputs: dict[str, Any]) -> TrainResult:
    """Train every configured model on `dataset.train` and write a complete run folder.

    `inputs` describes where the data came from (file paths and hashes, or the generator),
    for the manifest."""
    started = time.perf_counter()
    partial = artifacts.start_run(run_dir)
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
    result = cross_validate(
        Matrix(built.frame, built.names, built.categorical, y), patients, config
    )
    model_entries = [
        {
            **dataclasses.asdict(m.task),
            **artifacts.save_model(partial, m.task.stem, m.model, m.fitted),
        }
        for m in result.models
    ]
    oof = _oof_frame(built.frame, result)
    artifacts.write_parquet(partial / artifacts.OOF, oof)
    artifacts.write_csv(partial / artifacts.FOLDS, _folds_frame(built.frame, result))
    (partial / artifacts.CONFIG).write_text(tomli_w.dumps(config.to_dict()))
    artifacts.write_json(
        partial / artifacts.MANIFEST,
        {
            "versions": artifacts.package_versions(),
            "config": config.to_dict(),
            "threads": config.training.n_threads,
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
    metrics["seconds"] = round(time.perf_counter() - started, 2)
    artifacts.write_json(partial / artifacts.METRICS, metrics)
    return TrainResult(artifacts.finish_run(run_dir), metrics)


def _oof_frame(frame: pl.DataFrame, result: CVResult) -> pl.DataFrame:
    return frame.select("isic_id", "patient_id", "target").with_columns(
        pl.Series("fold", result.folds[0]),
        *(pl.Series(name, values) for name, values in result.oof.items()),
        pl.Series(ENSEMBLE, rank_mean(result.oof, result.oof)),
    )


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
    for scores in by_repeat:
        scores[ENSEMBLE] = rank_mean({n: scores[n] for n in names}, {n: scores[n] for n in names})
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
