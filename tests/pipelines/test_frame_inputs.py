"""Frames as a run's inputs: recorded in the manifest by rows, columns and content hash, and
checked by `--resume` as a file's SHA-256 is; the feature report and the evaluation say that a
frame-trained run's training rows are not at hand instead of using other data."""

from __future__ import annotations

import polars as pl
import pytest

from features import synthetic
from features.errors import UserError
from models.artifacts.folder import fingerprint, open_partial
from models.config import load_config
from models.external.training_data import training_frame
from pipelines._data import dataset_and_inputs


@pytest.fixture(scope="module")
def rows():
    return synthetic.generate(2_000, 300, seed=5, malignant_rate=0.02)


def _stamp(train, test=None):
    config = load_config()
    return fingerprint(config, dataset_and_inputs(None, config, train, test)[1])


def test_frames_are_recorded_by_content(rows):
    train, test = rows
    _, inputs = dataset_and_inputs(None, load_config(), train, test)
    assert set(inputs) == {"frames"}
    assert inputs["frames"]["train"]["rows"] == train.height
    assert inputs["frames"]["test"]["columns"] == test.columns
    assert inputs["frames"]["train"]["sha256"] != inputs["frames"]["test"]["sha256"]


def test_resume_accepts_the_same_rows_in_other_chunks_and_refuses_changed_ones(rows, tmp_path):
    train, test = rows
    chunked = pl.concat([train[:700], train[700:]], rechunk=False)
    assert chunked.n_chunks() > 1
    run_dir = tmp_path / "run"
    open_partial(run_dir, _stamp(chunked, test), resume=False)
    open_partial(run_dir, _stamp(train.rechunk(), test), resume=True)  # same content
    changed = train.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.col("age_approx") + 5)
        .otherwise(pl.col("age_approx"))
        .alias("age_approx")
    )
    with pytest.raises(UserError, match="the input data differs"):
        open_partial(run_dir, _stamp(changed, test), resume=True)


def test_a_file_and_a_frame_together_both_count(rows, tmp_path):
    train, test = rows
    path = tmp_path / "train.csv"
    train.write_csv(path)
    _, inputs = dataset_and_inputs(None, load_config(), path, test)
    assert inputs["files"] == {"train": str(path)}
    assert set(inputs["frames"]) == {"test"}
    other_test = test.head(test.height - 1)
    assert _stamp(path, test) != _stamp(path, other_test)


def test_data_dir_and_a_frame_are_one_too_many(rows, tmp_path):
    with pytest.raises(UserError, match="--data-dir .*: goes without --train"):
        dataset_and_inputs(tmp_path, load_config(), rows[0])
    with pytest.raises(UserError, match="--test: expected --train"):
        dataset_and_inputs(None, load_config(), None, rows[1])


def test_a_frame_trained_run_has_no_training_data_at_hand(rows):
    _, inputs = dataset_and_inputs(None, load_config(), rows[0])
    why = training_frame({"inputs": inputs}, spec=None)
    assert why == "the run trained on a DataFrame (a train frame), which is not at hand"
