"""A partial run folder's kept fits: one loads back as it was saved; a marker that is damaged,
names a model file outside the folder, or does not match its file is not trusted (the fit is
run again), never an error or a read outside the folder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.artifacts import TaskFolder
from models.cv import FitTask, TaskOutput


@pytest.fixture
def kept(tmp_path):
    (tmp_path / "run.partial").mkdir()
    folder = TaskFolder(tmp_path / "run.partial")
    task = FitTask("lgbm", 0, 1, 0, 123)
    output = TaskOutput(task, np.array([0.1, 0.7]), 17, b"tree model", rows=np.array([4, 9]))
    folder.save(output)
    return folder, task


def test_a_kept_fit_loads_back_as_saved(kept):
    folder, task = kept
    loaded = folder.load(task)
    assert (loaded.task, loaded.rounds, loaded.model) == (task, 17, b"tree model")
    np.testing.assert_array_equal(loaded.scores, [0.1, 0.7])
    np.testing.assert_array_equal(loaded.rows, [4, 9])


@pytest.mark.parametrize(
    "damage",
    [
        lambda entry, outside: "{not json",
        lambda entry, outside: json.dumps({**entry, "file": "../elsewhere.txt"}),
        lambda entry, outside: json.dumps({**entry, "file": str(outside)}),
        lambda entry, outside: json.dumps({k: v for k, v in entry.items() if k != "rounds"}),
        lambda entry, outside: json.dumps({**entry, "rounds": "many"}),
        lambda entry, outside: json.dumps({**entry, "sha256": "0" * 64}),
        lambda entry, outside: json.dumps({**entry, "fold": 2}),
    ],
)
def test_a_damaged_or_foreign_marker_means_fit_again(kept, damage, caplog):
    folder, task = kept
    # The same bytes outside the folder, hash and all: only the place gives it away.
    outside = folder.partial.parent / "elsewhere.txt"
    outside.write_bytes(b"tree model")
    marker = folder.partial / "tasks" / f"{task.stem}.json"
    marker.write_text(damage(json.loads(marker.read_text()), outside))
    assert folder.load(task) is None
    assert "fitting it again" in caplog.text
