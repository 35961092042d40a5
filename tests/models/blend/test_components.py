"""Joining runs' columns and score files by isic_id, and every mismatch refused by name."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.errors import UserError
from models.blend import RunScores, ScoreFile, component_names, join_components

IDS = [f"ISIC_{i}" for i in range(6)]


def _run(name="r1", scores=(0.1, 0.2, 0.3, 0.4, 0.5, 0.6), test=True, folds=None) -> RunScores:
    oof = pl.DataFrame(
        {
            "isic_id": IDS,
            "patient_id": ["P1", "P1", "P2", "P2", "P3", "P3"],
            "target": [0, 1, 0, 0, 1, 0],
            "fold": [0, 0, 1, 1, 2, 2],
            "lgbm": list(scores),
            "ensemble": list(scores),
        }
    )
    frame = pl.DataFrame({"isic_id": ["T2", "T1"], "lgbm": [0.5, 0.7], "ensemble": [0.5, 0.7]})
    return RunScores(
        name,
        f"{name}/oof.parquet",
        oof,
        ["ensemble"],
        frame if test else None,
        f"{name}/test_predictions.parquet",
        folds,
        f"{name}/folds.csv",
    )


def _scores(train_ids=None, test_ids=("T1", "T2"), values=None) -> ScoreFile:
    ids = list(reversed(IDS)) if train_ids is None else train_ids
    values = np.arange(len(ids), dtype=float) if values is None else values
    test = pl.DataFrame({"isic_id": list(test_ids), "p": np.arange(len(test_ids), dtype=float)})
    return ScoreFile("image", pl.DataFrame({"isic_id": ids, "p": values}), "tr.csv", test, "te.csv")


def test_score_files_join_by_isic_id_in_the_first_runs_order():
    joined = join_components([_run(), _run("r2", scores=range(6))], [_scores()])
    assert joined.names == ["r1", "r2", "image"]
    # The score file lists the ids backwards: row i of the run has value 5 - i.
    np.testing.assert_array_equal(joined.oof["image"], [5, 4, 3, 2, 1, 0])
    assert joined.test_ids.to_list() == ["T2", "T1"]
    np.testing.assert_array_equal(joined.test["image"], [1.0, 0.0])
    assert joined.complete_test
    assert joined.origin["image"] == {"source": "tr.csv", "column": "p"}


def test_component_names_stay_unique():
    taken = {"run"}
    assert component_names("run", ["ensemble"], taken, bare=True) == ["run_2"]
    assert component_names("run", ["lgbm", "xgb"], taken, bare=False) == ["run:lgbm", "run:xgb"]
    assert component_names("stack", ["ensemble"], set(), bare=True) == ["stack_2"]


def test_a_component_without_test_scores_means_no_submission():
    joined = join_components([_run(), _run("r2", test=False)], [])
    assert not joined.complete_test and set(joined.test) == {"r1"}


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        (_scores(train_ids=IDS[:5]), "tr.csv: isic_id ISIC_5 of the run rows is missing"),
        (_scores(train_ids=[*IDS, "ISIC_9"]), "tr.csv: isic_id ISIC_9 is not one of the run rows"),
        (_scores(train_ids=[*IDS, "ISIC_0"]), "tr.csv: isic_id ISIC_0 occurs more than once"),
        (_scores(test_ids=("T1",)), "te.csv: isic_id T2 of the test lesions is missing"),
        (
            _scores(values=[0.1, None, 0.3, 0.4, 0.5, 0.6]),
            "tr.csv: column 'p' has no finite number for isic_id ISIC_4",
        ),
    ],
)
def test_score_file_mismatches_name_the_file_and_the_id(scores, message):
    with pytest.raises(UserError, match=message):
        join_components([_run()], [scores])


def test_runs_on_other_folds_are_refused_naming_the_patient():
    moved = _run("r2")
    moved = RunScores(
        **{**moved.__dict__, "oof": moved.oof.with_columns(fold=pl.Series([0, 0, 2, 2, 1, 1]))}
    )
    with pytest.raises(UserError, match="r2/oof.parquet: patient P2 is in fold 2 there"):
        join_components([_run(), moved], [])


def test_runs_on_other_repeat_folds_are_refused_naming_the_patient():
    folds = pl.DataFrame(
        {"patient_id": ["P1", "P2", "P3"], "fold": [0, 1, 2], "fold_r1": [2, 1, 0]}
    )
    other = folds.with_columns(fold_r1=pl.Series([2, 0, 1]))
    with pytest.raises(UserError, match="r2/folds.csv: patient P2 is in fold_r1 0 there"):
        join_components([_run(folds=folds), _run("r2", folds=other)], [])


def test_a_missing_run_column_is_named():
    run = _run()
    run = RunScores(**{**run.__dict__, "columns": ["mlp"]})
    with pytest.raises(UserError, match="r1/oof.parquet: no score column 'mlp'"):
        join_components([run], [])
