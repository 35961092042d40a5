"""Image-model scores as inputs of a run: the train and test score files, checked before anything
is written, the train file's own score checked for an in-fold leak, and their description for
the manifest and the run's input hashes.

Train scores must be out-of-fold on the GBDT's own patient folds (`train_gbdt --folds-file`
with the image model's folds, or the image model trained on a run's `folds.csv`): a score that
a model made for lesions it was trained on nearly reproduces the label, the trees lean on it,
and the run's out-of-fold score is optimistic while the test scores, made by models that never
saw those lesions, are not. Such a file is easy to recognise: its own ISIC score on the train
rows is higher than any out-of-fold score reached. In ISIC 2024 the best out-of-fold scores,
image models and metadata together, were about 0.183 to 0.187 (the 3rd and 4th places); an image
model alone scored less. A single score column above `IN_FOLD_PAUC` = 0.19 (of at most 0.2:
above 95 % sensitivity almost everywhere in the scored range) is therefore taken for in-fold
and gets a loud warning; the run goes on, since only the user knows how the scores were made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from features.image_scores import attach, feature_column
from features.score_files import ScoreFile
from models.evaluation import isic_pauc

log = logging.getLogger(__name__)

IN_FOLD_PAUC = 0.19


@dataclass(frozen=True)
class ImageScores:
    """`train_gbdt --image-scores-train/--image-scores-test [--allow-missing-scores]`."""

    train: ScoreFile
    test: ScoreFile | None = None
    allow_missing: bool = False

    def describe(self) -> dict[str, Any]:
        """The manifest's `inputs.image_scores`; its hashes are part of the run's fingerprint."""
        files = {"train": self.train, "test": self.test}
        return {
            **{
                role: {"file": str(f.path), "sha256": f.sha256, "columns": f.columns}
                for role, f in files.items()
                if f is not None
            },
            "allow_missing": self.allow_missing,
        }


def attach_train(train: pl.DataFrame, scores: ImageScores, test: pl.DataFrame | None):
    """The train frame with its image scores attached, after checking that the test frame (when
    there is one) has a score file with the same columns and a score for every lesion: a user
    error here ends the command before anything is written."""
    if test is not None and scores.test is None:
        raise UserError(
            "--image-scores-test: the data has a test file, and a run trained with image scores "
            "needs its lesions' scores too"
        )
    if test is None and scores.test is not None:
        log.warning("%s: no test file to score; the test scores are not used", scores.test.path)
    frame = attach(train, scores.train, allow_missing=scores.allow_missing)
    if test is not None:
        attach(test, scores.test, allow_missing=scores.allow_missing, columns=scores.train.columns)
    return frame


def log_use(scores: ImageScores) -> None:
    """Once training starts: the reminder that makes the scores honest."""
    log.info(
        "image scores %s from %s as features: the train scores must be out-of-fold on this "
        "run's folds (--folds-file with the image model's folds)",
        ", ".join(scores.train.columns),
        scores.train.path,
    )


def check_out_of_fold(frame: pl.DataFrame, scores: ImageScores) -> dict[str, Any]:
    """Each train score column's own ISIC score (lesions without a score left out) and how
    many lesions had none; a loud warning for a column that looks in-fold. For metrics.json."""
    y = frame["target"].to_numpy()
    own, missing, in_fold = {}, {}, []
    for column in scores.train.columns:
        values = frame[feature_column(column)].to_numpy().astype(np.float64)
        scored = ~np.isnan(values)
        missing[column] = int((~scored).sum())
        has_both = 0 < y[scored].sum() < scored.sum()
        own[column] = isic_pauc(y[scored], values[scored]) if has_both else None
        if own[column] is not None and own[column] > IN_FOLD_PAUC:
            in_fold.append(column)
            log.warning(
                "!!! %s: score column '%s' ranks its own train lesions with pAUC %.4f, above "
                "%.2f, higher than any out-of-fold score reached in ISIC 2024: these look like "
                "IN-FOLD scores. As features they leak the label, and this run's out-of-fold "
                "score will be optimistic. Use scores that are out-of-fold on this run's folds "
                "(--folds-file with the image model's folds). !!!",
                scores.train.path,
                column,
                own[column],
                IN_FOLD_PAUC,
            )
    return {"train_pauc": own, "missing_train": missing, "looks_in_fold": in_fold}
