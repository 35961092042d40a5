"""The objective: fold by fold on the folds `train_gbdt` uses, each fold's ISIC score
reported at its own step, the same out-of-fold scores as the cross-validation of a run, and a
losing trial pruned by the Wilcoxon test over the folds."""

from __future__ import annotations

import numpy as np
import optuna
import pytest

from models.cv import cross_validate, training_data
from models.evaluation import isic_pauc
from models.tuning import FoldObjective, cross_validate_folds, search_space
from tests.conftest import fast_config


@pytest.fixture(scope="module")
def tiny():
    """3,000 lesions with 60 malignant, their features and three patient-grouped folds."""
    from features import synthetic

    train, _ = synthetic.generate(3_000, 0, seed=5, malignant_rate=0.02)
    config = fast_config(
        cv={"folds": 3}, models={"names": ["lgbm"]}, training={"fixed_rounds": {"lgbm": 20}}
    )
    data = training_data(train, config)
    return config, data, data.folds(config)[0]


def test_fold_by_fold_equals_the_run_cross_validation(tiny):
    config, data, folds = tiny
    seen = []
    run = cross_validate_folds(config, "lgbm", data, folds, lambda f, r: seen.append(f))
    reference = cross_validate(data.x, data.patient_ids, config, folds=folds[np.newaxis, :])
    np.testing.assert_array_equal(run.oof, reference.oof["lgbm"])
    assert seen == [0, 1, 2]
    for fold, score in enumerate(run.fold_scores):
        rows = folds == fold
        assert score == pytest.approx(isic_pauc(data.y[rows], reference.oof["lgbm"][rows]))
    assert run.value == pytest.approx(np.mean(run.fold_scores))
    assert run.fold_rounds == [20.0, 20.0, 20.0]


def test_a_trial_reports_each_fold_at_its_step_and_stores_its_numbers(tiny):
    config, data, folds = tiny
    space = search_space("lgbm", config)
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(space.point_of(config))
    study.optimize(FoldObjective(config, space, data, folds), n_trials=1)
    trial = study.trials[0]
    assert sorted(trial.intermediate_values) == [0, 1, 2]
    assert [round(v, 6) for v in trial.intermediate_values.values()] == trial.user_attrs[
        "fold_scores"
    ]
    assert trial.value == pytest.approx(np.mean(list(trial.intermediate_values.values())))
    assert set(trial.user_attrs) >= {"fold_rounds", "fold_seconds", "seconds", "pooled_pauc"}
    # The drawn point is the config's own (it was enqueued): the run's pooled score.
    reference = cross_validate(data.x, data.patient_ids, config, folds=folds[np.newaxis, :])
    assert trial.user_attrs["pooled_pauc"] == pytest.approx(
        isic_pauc(data.y, reference.oof["lgbm"]), abs=1e-6
    )


def test_the_wilcoxon_pruner_stops_a_trial_worse_on_every_fold():
    pruner = optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=2)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    good = [0.16, 0.15, 0.17, 0.16, 0.15, 0.16, 0.17, 0.15]

    def objective(trial: optuna.Trial) -> float:
        shift = trial.suggest_float("shift", -0.05, 0.0)
        for fold, score in enumerate(good):
            trial.report(score + shift, step=fold)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return float(np.mean(good) + shift)

    study.enqueue_trial({"shift": 0.0})
    study.enqueue_trial({"shift": -0.04})
    study.optimize(objective, n_trials=2)
    assert study.trials[1].state == optuna.trial.TrialState.PRUNED
    # Pruned before its last fold: the time saved is what pruning is for.
    assert len(study.trials[1].intermediate_values) < len(good)
