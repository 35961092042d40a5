"""The training data a command reads: the Kaggle layout in `--data-dir`, files or frames given as
`--train` and `--test`, else the embedded synthetic data; with what the manifest or a study
records about where it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features import synthetic
from features.errors import UserError
from features.frames import FrameSource, as_source, describe_frame
from features.io import (
    TEST_FRAME,
    TRAIN_FRAME,
    Dataset,
    file_sha256,
    read_dataset,
    read_test,
    read_train,
    require_both_classes,
)
from models.config import Config


def dataset_and_inputs(
    data_dir: Path | None, config: Config, train: Any = None, test: Any = None
) -> tuple[Dataset, dict[str, Any]]:
    """The dataset, and its description: file paths and hashes, frames' content hashes, or the
    generator's settings. `train` and `test` are paths or DataFrames, instead of `data_dir`."""
    if data_dir is not None and (train is not None or test is not None):
        given = "--train" if train is not None else "--test"
        raise UserError(f"--data-dir {data_dir}: goes without {given}; give one or the other")
    if test is not None and train is None:
        raise UserError("--test: expected --train FILE with it (or --data-dir)")
    if data_dir is not None:
        dataset = read_dataset(data_dir)
        require_both_classes(dataset.train, dataset.files["train"])
        return dataset, {"files": dataset.files, "sha256": dataset.hashes}
    if train is not None:
        test_source = None if test is None else as_source(test, TEST_FRAME)
        return _given(as_source(train, TRAIN_FRAME), test_source)
    return _embedded(config)


def _given(train: Path | FrameSource, test: Path | FrameSource | None) -> tuple[Dataset, dict]:
    """Files and frames named one by one: files recorded by path and SHA-256 as in a data
    folder, frames by their rows, columns and content hash (`inputs.frames.<role>`)."""
    dataset = Dataset(read_train(train))
    require_both_classes(dataset.train, train)
    if test is not None:
        dataset.test = read_test(test)
    inputs: dict[str, Any] = {}
    for role, source, frame in (("train", train, dataset.train), ("test", test, dataset.test)):
        if source is None:
            continue
        dataset.files[role] = str(source)  # what messages call it
        if isinstance(source, FrameSource):
            inputs.setdefault("frames", {})[role] = describe_frame(frame)
        else:
            inputs.setdefault("files", {})[role] = str(source)
            inputs.setdefault("sha256", {})[str(source)] = file_sha256(source)
    return dataset, inputs


def _embedded(config: Config) -> tuple[Dataset, dict[str, Any]]:
    s = config.synthetic
    train_frame, test_frame = synthetic.generate(
        s.train_rows, s.test_rows, config.seed, s.malignant_rate
    )
    dataset = Dataset(train_frame, test_frame if test_frame.height else None)
    inputs = {
        "embedded_synthetic": {
            "train_rows": s.train_rows,
            "test_rows": s.test_rows,
            "malignant_rate": s.malignant_rate,
            "seed": config.seed,
        }
    }
    return dataset, inputs
