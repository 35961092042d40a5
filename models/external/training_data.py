"""The cohort against the run's training data: the train-versus-cohort shift test
(`models.shift`) on the training data that the run's manifest records. A recorded file is used
only when it is still at its path with the same SHA-256 (the embedded synthetic data is drawn
again from its recorded settings); otherwise, or when the cohort is too small, the shift is a
reason in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from features import synthetic
from features.build import FeatureSpec
from features.image_scores import attach
from features.io import file_sha256, read_train
from features.score_files import read_score_file
from models import shift
from models.boosters import Matrix


def cohort_shift(
    manifest: dict[str, Any], spec: FeatureSpec, cohort: pl.DataFrame, seed: int
) -> dict[str, Any]:
    """`{"auc", "n_train", "n_cohort", "importance", "ks"}` of the shift test between the run's
    training lesions and `cohort` (raw metadata, image scores attached when the run used
    them), or `{"reason": ...}` when it cannot be run."""
    small = shift.too_small(cohort.height, cohort["patient_id"].n_unique(), "the cohort")
    if small is not None:
        return {"reason": small}
    train = training_frame(manifest, spec)
    if isinstance(train, str):
        return {"reason": train}
    # The two sides must not share a patient: the classifier would learn patients, not shift.
    train = train.filter(~pl.col("patient_id").is_in(cohort["patient_id"].unique().implode()))
    names, categorical = manifest["feature_names"], manifest["categorical_features"]
    train_side = shift.shift_sample(train, seed, spec)
    cohort_side = shift.shift_sample(cohort, seed + 1, spec)
    result = shift.shift_test(
        Matrix(train_side, names, categorical),
        train_side["patient_id"].to_numpy(),
        Matrix(cohort_side, names, categorical),
        cohort_side["patient_id"].to_numpy(),
        seed,
    )
    return {
        "auc": result.auc,
        "n_train": result.n_train,
        "n_cohort": result.n_test,
        "importance": [list(pair) for pair in result.importance],
        "ks": [list(row) for row in result.ks],
    }


def training_frame(manifest: dict[str, Any], spec: FeatureSpec) -> pl.DataFrame | str:
    """The run's training lesions as it read them (image scores attached when it used them),
    or why they are not at hand."""
    inputs = manifest.get("inputs")
    inputs = inputs if isinstance(inputs, dict) else {}
    recorded = inputs.get("files")
    if isinstance(recorded, dict) and "train" in recorded:
        path = Path(str(recorded["train"]))
        hashes = inputs.get("sha256") if isinstance(inputs.get("sha256"), dict) else {}
        why = _not_at_hand(path, hashes.get(str(path)), "training file")
        if why is not None:
            return why
        train = read_train(path)
    elif isinstance(inputs.get("embedded_synthetic"), dict):
        settings = inputs["embedded_synthetic"]
        train, _ = synthetic.generate(
            settings["train_rows"],
            settings["test_rows"],
            settings["seed"],
            settings["malignant_rate"],
        )
    elif isinstance(inputs.get("frames"), dict) and "train" in inputs["frames"]:
        # Not the embedded data in its place: the frame is gone with the session that had it.
        return "the run trained on a DataFrame (a train frame), which is not at hand"
    else:
        return "the run's manifest records no training data"
    if not spec.image_columns:
        return train
    scores = inputs.get("image_scores", {}).get("train") if isinstance(inputs, dict) else None
    if not isinstance(scores, dict):
        return "the run's manifest records no training image-score file"
    path = Path(str(scores.get("file")))
    why = _not_at_hand(path, scores.get("sha256"), "training image-score file")
    if why is not None:
        return why
    allow = bool(inputs["image_scores"].get("allow_missing", False))
    return attach(
        train, read_score_file(path), allow_missing=allow, columns=list(spec.image_columns)
    )


def _not_at_hand(path: Path, recorded: Any, what: str) -> str | None:
    if not path.is_file():
        return f"the run's {what} {path} is not there any more"
    if recorded is None:
        return f"the run's manifest records no SHA-256 of its {what} {path} to check it against"
    if file_sha256(path) != recorded:
        return f"the run's {what} {path} has changed since the run read it (another SHA-256)"
    return None
