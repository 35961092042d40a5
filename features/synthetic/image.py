"""Synthetic image-model scores: what a CNN trained on the lesion crops on the image model's own
patient folds would hand over, out-of-fold for the train lesions and the mean of its fold
models for the test lesions (`make_synthetic --image-scores`).

A lesion's score is a probability whose logit adds up
- its visible atypia: the latent `u` that the TBP measurements follow too (the image sees what
  the metadata see, through its own noise),
- evidence that only the image carries (structure the TBP measurements miss): a latent of its
  own, a little higher for malignant lesions,
- an offset of the patient (skin, photo conditions) and of the tile type,
- the model's error,
and each fold model has its own calibration (an offset and a slope of the logit), as the fold
models of a real image model do. A train lesion gets the model of the fold its patient was held
out in; a test lesion the mean probability of all fold models.

The strengths are calibrated to what is published, not to what makes blending look good
(`../shared/ANCHORS.md`: the 4th place's metadata-only out-of-fold score about 0.178, about
0.1865 with image-score features). On 400,000 rows (`make_synthetic --seed 11`, every model on
the image folds; benchmarks/RESULTS.md, "Image-model scores"), the score alone is 0.145
against the metadata ensemble's 0.157 (the ratio of good image and metadata models in ISIC
2024), and as GBDT features it is worth +0.0083 (two model seeds). Stronger scores were tried
and rejected: one at 0.154 alone added +0.012 as features, more than any team reported,
because the image's errors are independent of the measurements'. Drawn from a stream of its
own (the seed and `STREAM`), so the metadata stay byte for byte what they are without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from features.synthetic import facts

FOLDS = 5
STREAM = 20_241  # tells the image scores' random stream apart from the metadata's
SCORE_COLUMN = "score"
BASE_LOGIT = -3.25  # about 1 % of lesions scored above one half, as a CNN on 0.1 % malignant
ATYPIA_WEIGHT = 1.0  # logit per benign SD of visible atypia
IMAGE_ONLY_SHIFT = 0.4  # the image-only latent of a malignant lesion, in benign SDs
IMAGE_ONLY_WEIGHT = 0.4  # logit per SD of the image-only latent
NOISE_SD = 0.8  # the model's error, logit
PATIENT_SD = 0.2  # the patient's offset, logit
WHITE_TILE_OFFSET = -0.12  # white-light tiles look less alarming to a model trained mostly on XP
FOLD_OFFSET_SD = 0.2  # each fold model's calibration: logit offset ...
FOLD_SLOPE_SD = 0.1  # ... and log slope


@dataclass(frozen=True)
class ImageScores:
    train: pl.DataFrame  # isic_id, score: out-of-fold on `folds`
    test: pl.DataFrame  # isic_id, score: the mean of the fold models
    folds: pl.DataFrame  # patient_id, fold: the image model's folds of the train patients


def image_scores(frame: pl.DataFrame, train_rows: int, seed: int) -> ImageScores:
    """Scores for every row of `frame` (train rows first, then test; with the generator's
    `u`, `target`, `isic_id`, `patient_id`, `tbp_tile_type`)."""
    rng = np.random.default_rng([seed, STREAM])
    malignant = frame["target"].to_numpy().astype(bool)
    patients, codes = np.unique(frame["patient_id"].to_numpy(), return_inverse=True)
    n_patients = patients.size
    atypia = frame["u"].to_numpy() * facts.ATYPIA_D  # in benign SDs
    image_only = IMAGE_ONLY_SHIFT * malignant + rng.standard_normal(frame.height)
    logit = (
        BASE_LOGIT
        + ATYPIA_WEIGHT * atypia
        + IMAGE_ONLY_WEIGHT * image_only
        + PATIENT_SD * rng.standard_normal(n_patients)[codes]
        + WHITE_TILE_OFFSET * (frame["tbp_tile_type"] == "3D: white").to_numpy()
        + NOISE_SD * rng.standard_normal(frame.height)
    )
    offset = FOLD_OFFSET_SD * rng.standard_normal(FOLDS)
    slope = np.exp(FOLD_SLOPE_SD * rng.standard_normal(FOLDS))
    fold_of_patient = _patient_folds(rng, codes[:train_rows], malignant[:train_rows], n_patients)
    fold = fold_of_patient[codes[:train_rows]]
    train_score = _sigmoid(slope[fold] * logit[:train_rows] + offset[fold])
    test_logit = logit[train_rows:, None] * slope[None, :] + offset[None, :]
    test_score = _sigmoid(test_logit).mean(axis=1)
    ids = frame["isic_id"]
    held = fold_of_patient >= 0
    return ImageScores(
        train=pl.DataFrame({"isic_id": ids.slice(0, train_rows), SCORE_COLUMN: train_score}),
        test=pl.DataFrame({"isic_id": ids.slice(train_rows), SCORE_COLUMN: test_score}),
        folds=pl.DataFrame({"patient_id": patients[held], "fold": fold_of_patient[held]}),
    )


def _patient_folds(
    rng: np.random.Generator, codes: np.ndarray, malignant: np.ndarray, n_patients: int
) -> np.ndarray:
    """A fold per patient code (-1 for patients without train rows): patients dealt round the
    folds in order of their malignant lesions, most first (ties in random order), so that the
    folds hold patients alike (stratified, as `models.cv` stratifies its own folds)."""
    present = np.bincount(codes, minlength=n_patients) > 0
    n_malignant = np.bincount(codes, weights=malignant, minlength=n_patients)
    order = np.lexsort((rng.random(n_patients), -n_malignant))
    order = order[present[order]]
    fold = np.full(n_patients, -1, dtype=np.int64)
    fold[order] = np.arange(order.size) % FOLDS
    return fold


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))
