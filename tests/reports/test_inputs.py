"""Tests for reports/inputs.py: where the report's data comes from (a folder, the files a run
recorded, the embedded data) and a missing input as a note, not an error."""

from __future__ import annotations

import json
import shutil

from models.config import load_config
from reports.inputs import resolve_inputs


def test_neither_reads_the_embedded_data():
    inputs = resolve_inputs(None, None)
    synthetic = load_config().synthetic
    assert inputs.train.height == synthetic.train_rows
    assert inputs.test.height == synthetic.test_rows
    assert inputs.run is None and "embedded synthetic data" in inputs.source


def test_only_a_run_reads_the_files_its_manifest_records(trained_run, small_data_dir):
    inputs = resolve_inputs(None, trained_run)
    manifest = json.loads((trained_run / "manifest.json").read_text())
    assert manifest["inputs"]["files"]["train"] == str(small_data_dir / "train-metadata.csv")
    assert inputs.train.height == 20_000 and inputs.test.height == 2_000
    assert inputs.notes == {} and inputs.images is None


def _copy_with_inputs(trained_run, tmp_path, recorded: dict):
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["inputs"] = recorded
    (run / "manifest.json").write_text(json.dumps(manifest))
    return run


def test_a_recorded_file_that_is_gone_is_a_note(trained_run, small_data_dir, tmp_path):
    gone = tmp_path / "moved" / "test-metadata.csv"
    files = {"train": str(small_data_dir / "train-metadata.csv"), "test": str(gone)}
    inputs = resolve_inputs(None, _copy_with_inputs(trained_run, tmp_path, {"files": files}))
    assert inputs.train.height == 20_000 and inputs.test is None
    assert inputs.notes == {"test": f"the run's test file {gone} is not there any more"}


def test_an_embedded_run_regenerates_its_data(trained_run, tmp_path):
    recorded = {
        "embedded_synthetic": {"train_rows": 500, "test_rows": 0, "malignant_rate": 0.02, "seed": 3}
    }
    inputs = resolve_inputs(None, _copy_with_inputs(trained_run, tmp_path, recorded))
    assert inputs.train.height == 500 and inputs.train["target"].sum() == 10
    assert inputs.test is None and inputs.notes["test"] == "the embedded data has no test rows"
