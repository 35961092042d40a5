"""make_synthetic: the test rows' labels (--test-labels) belong to the same draw; user errors
are one line, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from features import synthetic
from features.errors import UserError
from pipelines import make_synthetic
from tests.conftest import REPO


def test_bad_row_count_is_a_user_error(tmp_path):
    out = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.make_synthetic", "--out", str(out), "--rows", "0"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --rows: expected a whole number >= 1, got 0"
    assert not out.exists()


def test_test_labels_are_the_test_rows_of_the_same_draw(tmp_path):
    out = tmp_path / "data"
    argv = ["--out", str(out), "--rows", "2000", "--test-rows", "3000", "--seed", "5"]
    assert make_synthetic.main([*argv, "--test-labels"]) == 0
    train = pl.read_csv(out / "train-metadata.csv", infer_schema=False)
    test = pl.read_csv(out / "test-metadata.csv", infer_schema=False)
    labels = pl.read_csv(out / "test-labels.csv")
    assert labels.columns == ["isic_id", "target"]
    assert labels["isic_id"].to_list() == test["isic_id"].to_list()
    # The draw's own malignant share, and the test lesions are not the train ones.
    assert labels["target"].sum() == round(synthetic.DEFAULT_MALIGNANT_RATE * 3000)
    assert set(labels["target"]) <= {0, 1}
    assert not set(train["isic_id"]) & set(test["isic_id"])
    # The same draw without the flag writes the same metadata bytes.
    plain = tmp_path / "plain"
    assert make_synthetic.main([*argv[:1], str(plain), *argv[2:]]) == 0
    for name in ("train-metadata.csv", "test-metadata.csv"):
        assert (plain / name).read_bytes() == (out / name).read_bytes()
    assert not (plain / "test-labels.csv").exists()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_train_and_test_ids_and_patients_are_distinct_within_a_draw(seed):
    # Enough rows that two independent draws of 7-digit ids would almost surely share some.
    data = synthetic.draw(20_000, 20_000, seed, malignant_rate=0.01)
    assert not set(data.train["isic_id"]) & set(data.test["isic_id"])
    assert not set(data.train["patient_id"]) & set(data.test["patient_id"])
    assert data.test_labels["isic_id"].equals(data.test["isic_id"])
    assert data.test_labels["target"].sum() == 200
    # The same frames as generate(): the labels ride along without changing a byte.
    train, test = synthetic.generate(20_000, 20_000, seed, malignant_rate=0.01)
    assert data.train.equals(train) and data.test.equals(test)


def test_test_labels_need_test_rows(tmp_path):
    with pytest.raises(UserError, match="--test-labels: expected --test-rows >= 1"):
        make_synthetic.main(["--out", str(tmp_path / "x"), "--test-rows", "0", "--test-labels"])
    assert not (tmp_path / "x").exists()
