"""The training data a command reads: the Kaggle layout in `--data-dir`, else the embedded
synthetic data; with what the manifest or a study records about where it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from features import synthetic
from features.io import Dataset, read_dataset, require_both_classes
from models.config import Config


def dataset_and_inputs(data_dir: Path | None, config: Config) -> tuple[Dataset, dict[str, Any]]:
    """The dataset, and its description: file paths and hashes, or the generator's settings."""
    if data_dir is not None:
        dataset = read_dataset(data_dir)
        require_both_classes(dataset.train, dataset.files["train"])
        return dataset, {"files": dataset.files, "sha256": dataset.hashes}
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
