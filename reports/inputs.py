"""What the feature report reads: the data (a Kaggle-layout folder, the files a run's manifest
records, or the embedded synthetic data), the run folder when one is given, and the tile images
beside the training file. An input that is missing becomes a one-line note, never an error:
the sections that need it say so instead of drawing a plot."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from features import synthetic
from features.image_scores import attach
from features.io import file_sha256, read_dataset, read_test, read_train
from features.score_files import read_score_file
from models.artifacts import Run, load_run
from models.config import load_config

log = logging.getLogger(__name__)

IMAGE_FILE = "train-image.hdf5"


@dataclass
class ReportInputs:
    train: pl.DataFrame | None
    test: pl.DataFrame | None
    run: Run | None
    source: str  # where the data came from, in words, for the page's header
    seed: int  # every random choice of the report (samples, the shift classifier) flows from it
    images: Path | None = None  # train-image.hdf5 beside the training file, when there is one
    notes: dict[str, str] = field(default_factory=dict)  # "train" / "test" -> why it is absent


def resolve_inputs(data_dir: Path | None, run_dir: Path | None) -> ReportInputs:
    """The report's inputs: with `data_dir` that folder; with only `run_dir` the data files its
    manifest records (or the embedded data, for an embedded run); with neither the embedded
    data. A bad folder or run is a `UserError`; a missing test file is a note."""
    run = load_run(run_dir) if run_dir is not None else None
    seed = run.manifest["seeds"]["seed"] if run is not None else load_config().seed
    recorded = run.manifest.get("inputs", {}) if run is not None else {}
    if data_dir is not None:
        dataset = read_dataset(data_dir)
        inputs = ReportInputs(dataset.train, dataset.test, run, f"data folder {data_dir}", seed)
        if dataset.test is None:
            inputs.notes["test"] = f"no test-metadata file in {data_dir}"
        inputs.images = _image_file(Path(data_dir))
    elif "files" in recorded or "frames" in recorded:
        inputs = _from_manifest(run, recorded, seed)
    else:
        inputs = _embedded(run, recorded.get("embedded_synthetic"), seed)
    if run is not None and run.spec.image_columns:
        _attach_image_scores(inputs, recorded.get("image_scores", {}))
    return inputs


def _attach_image_scores(inputs: ReportInputs, recorded: dict) -> None:
    """A run trained with image-model scores builds features from them: the score files its
    manifest records are joined to the lesions, as `train_gbdt` joined them. Without its file,
    a side is left out with a note."""
    columns = list(inputs.run.spec.image_columns)
    for role in ("train", "test"):
        frame = getattr(inputs, role)
        if frame is None:
            continue
        path = Path(recorded[role]["file"]) if role in recorded else None
        if path is None or not path.is_file():
            setattr(inputs, role, None)
            inputs.notes[role] = (
                f"the run's features need image-model scores for the {role} lesions, and its "
                f"{role} score file ({path or 'none recorded'}) is not at hand"
            )
            continue
        scores = read_score_file(path)
        allow = bool(recorded.get("allow_missing", False))
        setattr(inputs, role, attach(frame, scores, allow_missing=allow, columns=columns))


def _from_manifest(run: Run, recorded: dict, seed: int) -> ReportInputs:
    files, hashes = recorded.get("files", {}), recorded.get("sha256", {})
    frames = recorded.get("frames", {})
    inputs = ReportInputs(None, None, run, f"the files recorded in {run.path}/manifest.json", seed)
    for role, reader in (("train", read_train), ("test", read_test)):
        path = Path(files[role]) if role in files else None
        if role in frames:
            # Not the embedded data in its place: the frame is gone with the session that had it.
            inputs.notes[role] = (
                f"the run read its {role} lesions from a DataFrame, which is not at hand "
                "(give --data-dir)"
            )
        elif path is None:
            inputs.notes[role] = f"the run's manifest records no {role} file"
        elif not path.is_file():
            inputs.notes[role] = f"the run's {role} file {path} is not there any more"
        else:
            if hashes.get(str(path)) not in (None, file_sha256(path)):
                log.warning("%s: changed since the run read it", path)
                inputs.source += f" ({path.name} changed since the run read it)"
            setattr(inputs, role, reader(path))
    if "train" in files:
        inputs.images = _image_file(Path(files["train"]).parent)
    return inputs


def _embedded(run: Run | None, recorded: dict | None, seed: int) -> ReportInputs:
    """The embedded synthetic data: as the run generated it, else as `train_gbdt` would."""
    if recorded is None:
        s = load_config().synthetic
        recorded = {
            "train_rows": s.train_rows,
            "test_rows": s.test_rows,
            "malignant_rate": s.malignant_rate,
            "seed": seed,
        }
    train, test = synthetic.generate(
        recorded["train_rows"], recorded["test_rows"], recorded["seed"], recorded["malignant_rate"]
    )
    source = (
        f"the embedded synthetic data ({recorded['train_rows']:,} train rows, "
        f"seed {recorded['seed']})"
    )
    inputs = ReportInputs(train, test if test.height else None, run, source, seed)
    if inputs.test is None:
        inputs.notes["test"] = "the embedded data has no test rows"
    return inputs


def _image_file(folder: Path) -> Path | None:
    path = folder / IMAGE_FILE
    return path if path.is_file() else None
