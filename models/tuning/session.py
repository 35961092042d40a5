"""`tune` from start to end: one study per library on the run's features and folds, then
(unless this is an extra worker) the tuned libraries' ensemble method, the fresh-split verdict
and `best.toml` with its plots."""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import polars as pl
from optuna.exceptions import ExperimentalWarning

from features.errors import UserError
from models.config import Config, load_config, merge_tables
from models.cv import TrainingData, training_data
from models.progress import progress
from models.tuning.ensemble import EnsembleChoice, choose_ensemble
from models.tuning.objective import FoldObjective, cross_validate_folds
from models.tuning.output import plot_study, write_best_config
from models.tuning.space import SearchSpace, search_space
from models.tuning.storage import open_storage, open_study, redact
from models.tuning.verdict import Verdict, fresh_split_verdict
from models.tuning.worker import count, run_worker

log = logging.getLogger(__name__)
# Folds seen before the Wilcoxon test may prune: with fewer, no signed-rank test can say
# anything, and an early fold alone is too noisy to stop on.
PRUNER_STARTUP_FOLDS = 2


@dataclass(frozen=True)
class TuneRequest:
    models: list[str]
    out: Path | None  # best.toml; None (from Python): nothing written, the study in memory
    storage: str | None = None  # None: SQLite beside `out`
    study: str | None = None  # one library: the study's name; all: NAME-lgbm, ...
    n_trials: int = 50
    timeout: float | None = None  # seconds for this worker, shared among the libraries
    enqueue: Path | None = None
    space_file: Path | None = None
    heartbeat_seconds: int = 60
    finish: bool = True  # False: an extra worker, which only runs trials

    @property
    def storage_url(self) -> str | None:
        if self.storage is not None:
            return self.storage
        if self.out is None:
            return None
        return f"sqlite:///{self.out.with_suffix('.db').resolve()}"

    def check(self) -> None:
        """User errors found without reading data or touching a storage."""
        if self.n_trials < 1:
            raise UserError(f"--n-trials {self.n_trials}: a study needs at least 1 trial")
        if self.timeout is not None and self.timeout <= 0:
            raise UserError(f"--timeout {self.timeout}: expected a number of seconds > 0")
        if self.out is None:
            return
        if self.out.suffix != ".toml":
            raise UserError(f"--out {self.out}: expected a .toml file name")
        if not self.out.parent.is_dir():
            raise UserError(f"--out {self.out}: folder {self.out.parent} does not exist")

    def study_name(self, model: str) -> str:
        """`--study` itself when one library is tuned, else `--study`-library (by default
        tbp-library either way)."""
        if self.study is not None and len(self.models) == 1:
            return self.study
        return f"{self.study or 'tbp'}-{model}"


@dataclass
class TuneOutcome:
    studies: dict[str, optuna.Study]
    best: dict[str, optuna.trial.FrozenTrial] = field(default_factory=dict)
    ensemble: EnsembleChoice | None = None
    verdict: Verdict | None = None
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # The tuned partial config (best.toml's tables), and where it was written (None: nowhere)
    best_config: dict[str, Any] | None = None
    path: Path | None = None

    def __repr__(self) -> str:
        best = ", ".join(f"{m} best {t.value:.4f}" for m, t in self.best.items())
        verdict = "" if self.verdict is None else f"; tuned vs default: {self.verdict.word}"
        return f"TuneOutcome({best or 'trials only'}{verdict}; path {self.path})"


def tune(
    train: pl.DataFrame,
    config: Config,
    inputs: dict[str, Any],
    request: TuneRequest,
    folds_file: Path | None = None,
) -> TuneOutcome:
    """Run this worker's share of each library's study, then finish (see the module)."""
    request.check()
    with warnings.catch_warnings():
        # Heartbeats, the retry callback and the Wilcoxon pruner are marked experimental.
        warnings.simplefilter("ignore", ExperimentalWarning)
        return _tune(train, config, inputs, request, folds_file)


def _tune(
    train: pl.DataFrame,
    config: Config,
    inputs: dict[str, Any],
    request: TuneRequest,
    folds_file: Path | None,
) -> TuneOutcome:
    spaces = {m: search_space(m, config, request.space_file) for m in request.models}
    enqueued = load_config(request.enqueue) if request.enqueue is not None else None
    data = training_data(train, config, folds_file)
    folds = data.folds(config)[0]
    if folds_file is not None:
        # The file's fold count rules, as in train_gbdt (the verdict's split uses it too).
        config = config.replace(cv={"folds": int(folds.max()) + 1})
        log.info("trials use the %d folds of %s", config.cv.folds, folds_file)
    key = data_key(inputs, data, folds, config)
    storage = open_storage(request.storage_url, request.heartbeat_seconds)
    log.info("studies in %s", redact(request.storage_url))
    outcome = TuneOutcome(studies={})
    timeout = None if request.timeout is None else request.timeout / len(request.models)
    for model in request.models:
        space = spaces[model]
        study = open_study(
            storage,
            request.study_name(model),
            model,
            key,
            optuna.samplers.TPESampler(
                seed=config.seed + len(_trials_or_none(storage, request.study_name(model))),
                multivariate=True,
                constant_liar=True,
            ),
            optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=PRUNER_STARTUP_FOLDS),
        )
        _seed_study(study, space, config, enqueued)
        base = config.replace(models={"names": [model]}, cv={"repeats": 1})
        objective = FoldObjective(base, space, data, folds)
        with progress(request.n_trials, f"tune {model}") as bar:
            run_worker(
                study,
                objective,
                request.n_trials,
                timeout,
                on_trial=lambda s, t, bar=bar: bar.step(trial_line(s, t)),
            )
        outcome.studies[model] = study
    if request.finish:
        if folds_file is not None:
            outcome.notes.append(
                f"The trials used the folds of {folds_file}; the verdict's split is a seeded "
                "patient-grouped one, since every trial saw those folds."
            )
            log.info("%s", outcome.notes[-1])
        _finish(outcome, request, config, data, folds)
    return outcome


def trial_line(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> str:
    """One progress line: this trial, the best so far and the study's counts."""
    folds = trial.user_attrs.get("fold_scores", [])
    shown = f"{trial.value:.4f}" if trial.value is not None else trial.state.name.lower()
    try:
        best = f"best {study.best_value:.4f} (trial {study.best_trial.number})"
    except ValueError:
        best = "no complete trial yet"
    return (
        f"{study.study_name} trial {trial.number} {trial.state.name.lower()}: {shown} over "
        f"{len(folds)} folds, {trial.user_attrs.get('seconds', 0):.0f} s | {best} | "
        f"{count(study).line()}"
    )


def data_key(inputs: dict[str, Any], data: TrainingData, folds: np.ndarray, config: Config) -> str:
    """A short hash of what a study's trials see: the input files (or the generator), the
    feature set, the labels and the folds."""
    digest = hashlib.sha256()
    digest.update(json.dumps(inputs, sort_keys=True, default=str).encode())
    digest.update(json.dumps(data.x.names).encode())
    digest.update(np.ascontiguousarray(data.y).tobytes())
    digest.update(np.ascontiguousarray(folds, dtype=np.int64).tobytes())
    digest.update(json.dumps(config.cv.folds).encode())
    return digest.hexdigest()[:16]


def _seed_study(
    study: optuna.Study, space: SearchSpace, config: Config, enqueued: Config | None
) -> None:
    """Today's default is trial 0 of every new study, so a study never ends worse than the
    default on its own folds; an `--enqueue` file's configuration is queued next."""
    if not study.get_trials(deepcopy=False):
        study.enqueue_trial(space.point_of(config), user_attrs={"source": "default"})
    if enqueued is not None:
        study.enqueue_trial(
            space.point_of(enqueued), user_attrs={"source": "enqueued"}, skip_if_exists=True
        )


def _finish(
    outcome: TuneOutcome, request: TuneRequest, config: Config, data: TrainingData, folds
) -> None:
    tuned_table: dict[str, Any] = {}
    oof = {}
    for model, study in outcome.studies.items():
        try:
            best = study.best_trial
        except ValueError:
            raise UserError(
                f"study '{study.study_name}' has no complete trial yet; run more trials"
            ) from None
        outcome.best[model] = best
        space = search_space(model, config, request.space_file)
        tuned_table = merge_tables(tuned_table, space.overlay(best.params))
    tuned = config.replace(**tuned_table)
    if len(request.models) > 1:
        for model in request.models:
            base = tuned.replace(models={"names": [model]}, cv={"repeats": 1})
            oof[model] = cross_validate_folds(base, model, data, folds).oof
        outcome.ensemble = choose_ensemble(
            oof,
            data.y,
            folds,
            data.patient_ids,
            bootstrap_samples=config.training.bootstrap_samples,
            seed=config.seed,
        )
        tuned_table["ensemble"] = {"method": outcome.ensemble.method}
        tuned = config.replace(**tuned_table)
    outcome.verdict = fresh_split_verdict(tuned, config, data, request.models)
    outcome.best_config = tuned_table
    if request.out is None:
        return
    write_best_config(request.out, tuned_table, _header(outcome, request))
    outcome.written.append(request.out)
    outcome.path = request.out
    stem = request.out.with_suffix("")
    for model, study in outcome.studies.items():
        outcome.written += plot_study(study, stem.with_name(f"{stem.name}_{model}"), config.seed)


def _header(outcome: TuneOutcome, request: TuneRequest) -> list[str]:
    lines = [
        "Tuned by `python -m pipelines.tune`: a partial config for `train_gbdt --config`.",
        f"Storage: {redact(request.storage_url)}",
        "",
    ]
    for model, study in outcome.studies.items():
        best = outcome.best[model]
        pooled = best.user_attrs.get("pooled_pauc", float("nan"))
        lines.append(
            f"{study.study_name}: {count(study).line()}; best trial {best.number}: mean fold "
            f"pAUC {best.value:.4f}, pooled out-of-fold {pooled:.4f} "
            "(chosen on these folds, so optimistic)"
        )
    if outcome.ensemble is not None:
        lines.append(outcome.ensemble.line())
    if outcome.verdict is not None:
        lines += ["", "Verdict: " + outcome.verdict.line(), *outcome.notes]
    return lines


def _trials_or_none(storage: optuna.storages.BaseStorage, name: str) -> list:
    """The trials of study `name` if it exists (the sampler's seed moves on with them, so two
    workers that start at different times do not draw the same points)."""
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        return []
    return storage.get_all_trials(study_id, deepcopy=False)
