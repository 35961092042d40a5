"""The embedded default: a SLICE-3D-shaped generator calibrated to real summary statistics.

Every lesion carries a latent atypia `u` (benign about N(0, 1/D), malignant about N(1, 1/D)).
Each malignancy-related measurement moves with `u` on top of a patient baseline (skin colour,
typical nevus size, contrast and colour) and independent noise, so a lesion is suspicious
partly in absolute terms and partly by how it stands out from its own patient's lesions (the
"ugly duckling"). Benign lesions with high atypia are the look-alikes.

Two effects of real TBP data shape what "standing out" means:
- A patient's benign lesions are not all nevi: seborrhoeic keratoses and solar lentigines are
  larger, lighter, yellower and not nevus-like, grow more common with age and sit mostly on
  sun-exposed sites. Each patient has their own share of them and their own look for them.
- The tile type is a property of the patient's TBP machine (the real rows: white tiles come
  from Memorial Sloan Kettering), and white-light tiles read far lighter, less yellow and
  less nevus-like than cross-polarised (XP) ones.

Priors on which rows are malignant follow the real site, hospital and age effects. Only summary
numbers of the real data (medians, rates, counts, level names) live in the package, in
`facts`; no real row does. `cohort` draws the patients, their lesion counts and locations and
which rows are malignant, `measurements` the measured columns, `train_only` the train-only
columns that agree with the label, `image` an image model's scores of the lesions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features import schema
from features.errors import UserError, first_line
from features.synthetic import cohort, image, measurements, series, train_only

EMBEDDED_TRAIN_ROWS = 120_000
EMBEDDED_TEST_ROWS = 10_000
DEFAULT_MALIGNANT_RATE = 0.001
IMAGE_FILES = ("train-image-scores.csv", "test-image-scores.csv", "image-folds.csv")
TEST_LABELS_FILE = "test-labels.csv"


def generate(
    train_rows: int,
    test_rows: int,
    seed: int,
    malignant_rate: float = DEFAULT_MALIGNANT_RATE,
    free_direction_sd: float = 0.0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A train frame (TRAIN_COLUMN_NAMES, train_schema()) with exactly
    round(malignant_rate * train_rows) malignant rows, and a test frame (TEST_COLUMN_NAMES,
    test_schema()) from other patients; test_rows may be 0.

    `free_direction_sd` (default 0: the calibrated data) is for experiments on what
    patient-context features can find: each malignant lesion also stands out from its patient
    in a random direction of colour and shape, that many within-patient SDs in all
    (`measurements.free_direction`). Every other value stays as it is."""
    frame = _draw(train_rows, test_rows, seed, malignant_rate, free_direction_sd)
    return _split(frame, train_rows)


def _draw(
    train_rows: int, test_rows: int, seed: int, malignant_rate: float, free_direction_sd: float
) -> pl.DataFrame:
    """Every row, train then test, with the latent atypia `u` and `target` on the test rows too."""
    if train_rows < 1 or test_rows < 0:
        raise ValueError(
            f"train_rows must be >= 1 and test_rows >= 0, got {train_rows}, {test_rows}"
        )
    if not 0.0 <= malignant_rate <= 1.0:
        raise ValueError(f"malignant_rate must lie in [0, 1], got {malignant_rate}")
    if not 0.0 <= free_direction_sd < float("inf"):
        raise ValueError(f"free_direction_sd must be finite and >= 0, got {free_direction_sd}")
    rng = np.random.default_rng(seed)
    n_train_patients = cohort.n_patients(train_rows)
    n_test_patients = cohort.n_patients(test_rows) if test_rows else 0
    counts = np.concatenate(
        [
            cohort.lesion_counts(rng, train_rows, n_train_patients),
            cohort.lesion_counts(rng, test_rows, n_test_patients),
        ]
    )
    pidx = np.repeat(np.arange(counts.size), counts)
    patients = cohort.patients(rng, counts.size)
    rows = cohort.locations(rng, pidx.size)
    malignant = np.zeros(pidx.size, dtype=bool)
    for lo, hi, lo_p, hi_p in (
        (0, train_rows, 0, n_train_patients),
        (train_rows, train_rows + test_rows, n_train_patients, counts.size),
    ):
        n_mal = round(malignant_rate * (hi - lo))
        if n_mal:
            malignant[lo:hi] = cohort.pick_malignant(
                rng, n_mal, pidx[lo:hi] - lo_p, counts[lo_p:hi_p], patients, lo_p, rows, lo, hi
            )
    frame = measurements.measurements(rng, pidx, patients, rows, malignant, free_direction_sd)
    frame = frame.with_columns(
        isic_id=series.ids(rng, "ISIC_", pidx.size),
        patient_id=pl.Series(series.ids(rng, "IP_", counts.size)).gather(pidx),
        target=pl.Series(malignant.astype(np.int8)),
    )
    return frame.with_columns(train_only.columns(rng, malignant, frame["u"].to_numpy()))


def _split(frame: pl.DataFrame, train_rows: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    train = frame.slice(0, train_rows).select(schema.TRAIN_COLUMN_NAMES).cast(schema.train_schema())
    test = frame.slice(train_rows).select(schema.TEST_COLUMN_NAMES).cast(schema.test_schema())
    return train, test


def generate_with_image_scores(
    train_rows: int,
    test_rows: int,
    seed: int,
    malignant_rate: float = DEFAULT_MALIGNANT_RATE,
    free_direction_sd: float = 0.0,
) -> tuple[pl.DataFrame, pl.DataFrame, image.ImageScores]:
    """`generate`'s train and test frames, the same bytes, with an image model's scores of
    their lesions and the image model's folds (`features.synthetic.image`)."""
    frame = _draw(train_rows, test_rows, seed, malignant_rate, free_direction_sd)
    return *_split(frame, train_rows), image.image_scores(frame, train_rows, seed)


@dataclass(frozen=True)
class Draw:
    """One draw of the generator: train and test frames of other patients, the test lesions'
    labels (`isic_id,target`: a labelled cohort for `evaluate --labels`), and an image model's
    scores when asked for."""

    train: pl.DataFrame
    test: pl.DataFrame
    test_labels: pl.DataFrame
    image_scores: image.ImageScores | None = None


def draw(
    train_rows: int,
    test_rows: int,
    seed: int,
    malignant_rate: float = DEFAULT_MALIGNANT_RATE,
    free_direction_sd: float = 0.0,
    image_scores: bool = False,
) -> Draw:
    """`generate`'s frames (the same bytes), with the test rows' labels and, with
    `image_scores`, `generate_with_image_scores`'s scores. Train and test ids are distinct
    within a draw; two draws may share ids."""
    frame = _draw(train_rows, test_rows, seed, malignant_rate, free_direction_sd)
    train, test = _split(frame, train_rows)
    labels = frame.slice(train_rows).select("isic_id", "target")
    scores = image.image_scores(frame, train_rows, seed) if image_scores else None
    return Draw(train, test, labels, scores)


def embedded(seed: int = 42) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The default data set: EMBEDDED_TRAIN_ROWS train and EMBEDDED_TEST_ROWS test rows."""
    return generate(EMBEDDED_TRAIN_ROWS, EMBEDDED_TEST_ROWS, seed)


def write_kaggle_layout(train: pl.DataFrame, test: pl.DataFrame, out_dir: Path) -> None:
    """Write train-metadata.csv, test-metadata.csv and sample_submission.csv (target 0.3) into
    out_dir, each to a temporary name first and then renamed into place."""
    sample = test.select("isic_id", target=pl.lit(0.3))
    _write_csvs(
        out_dir,
        {"train-metadata.csv": train, "test-metadata.csv": test, "sample_submission.csv": sample},
    )


def write_image_scores(scores: image.ImageScores, out_dir: Path) -> None:
    """Write IMAGE_FILES into out_dir: the train scores (out-of-fold), the test scores and the
    image model's folds (`patient_id,fold`, for `train_gbdt --folds-file`)."""
    frames = (scores.train, scores.test, scores.folds)
    _write_csvs(out_dir, dict(zip(IMAGE_FILES, frames, strict=True)))


def write_test_labels(labels: pl.DataFrame, out_dir: Path) -> None:
    """Write TEST_LABELS_FILE (`isic_id,target` of the test rows) into out_dir."""
    _write_csvs(out_dir, {TEST_LABELS_FILE: labels})


def _write_csvs(out_dir: Path, frames: dict[str, pl.DataFrame]) -> None:
    """Every frame to a temporary name first, renamed into place once all are written: a
    failure (a full disk) leaves none of them, and no folder that this call created."""
    out_dir = Path(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    staged: dict[Path, Path] = {}
    try:
        for name, frame in frames.items():
            tmp = out_dir / f".{name}.{os.getpid()}.tmp"
            staged[tmp] = out_dir / name
            try:
                frame.write_csv(tmp, null_value="")
            except (OSError, pl.exceptions.ComputeError) as error:
                raise UserError(
                    f"{out_dir / name}: cannot write it ({first_line(error)})"
                ) from None
        for tmp, final in staged.items():
            os.replace(tmp, final)
    finally:
        for tmp in staged:
            tmp.unlink(missing_ok=True)
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()
