"""Image-model scores as GBDT features, the `image` family: for every score column of a score
file (`features.score_files`), the raw score, the score over its patient's mean, its percentile
within the patient, and its z-score among lesions of the same hospital, body location and age
band (the 1st place's three image features, and a percentile within the patient as the 2nd
place ranked its features).

The scores enter the feature frame as columns `image_<column>`, joined by `isic_id` before the
build (`attach`). The population norms are learned on the train scores and stored in the run's
feature spec (`features.population`, the same back-off), so a test lesion's features depend
only on its own patient's lesions and on the run. Train scores must be out-of-fold on the
GBDT's own folds; scores a model made on the lesions it was trained on leak the label.
"""

from __future__ import annotations

import logging

import polars as pl

from features import population
from features.errors import UserError
from features.patient import PATIENT, percentile_rank
from features.registry import Feature, FrameStep, frame_feature, ratio
from features.score_files import ID, ScoreFile

log = logging.getLogger(__name__)

FAMILY = "image"
PREFIX = "image_"


def feature_column(score_column: str) -> str:
    """The frame column (and raw feature) that holds a score file's column."""
    return PREFIX + score_column


def image_features(score_columns: list[str] | tuple[str, ...]) -> list[Feature]:
    """The expression features of every score column: raw, over the patient mean, and the
    percentile within the patient."""
    features = []
    for score in score_columns:
        name = feature_column(score)
        value = pl.col(name)
        # Sums, not mean(): a windowed mean may differ in its last bit between runs, and a run
        # must rebuild its features bit for bit at predict time (see features.patient._sums).
        patient_mean = value.sum().over(PATIENT) / value.count().over(PATIENT)
        features += [
            Feature(name, FAMILY, value, f"The image model's score '{score}' as given."),
            Feature(
                f"{name}_patient_ratio",
                FAMILY,
                ratio(value, patient_mean),
                f"Image score '{score}' over the mean of the patient's lesions' scores.",
            ),
            Feature(
                f"{name}_patient_pct",
                FAMILY,
                percentile_rank(name),
                f"Percentile rank (0 to 1) of image score '{score}' among the patient's lesions.",
            ),
        ]
    return features


def image_step(score_columns: list[str] | tuple[str, ...]) -> FrameStep:
    """The population z-scores, from the norms the spec learned on train (`fit_norms`)."""
    columns = tuple(feature_column(s) for s in score_columns)
    return FrameStep(
        family=FAMILY,
        features=tuple(
            frame_feature(
                f"{column}_population_z",
                FAMILY,
                f"Image score '{score}' as a z-score among train lesions of the same hospital, "
                f"body location and {population.BAND_YEARS}-year age band.",
            )
            for score, column in zip(score_columns, columns, strict=True)
        ),
        compute=lambda frame, spec: population.apply_norms(frame, spec.image["norms"], columns),
    )


def fit_norms(train: pl.DataFrame, score_columns: list[str] | tuple[str, ...]) -> dict:
    """What the spec stores for this family: the score columns and their population norms,
    learned on `train` with the scores attached."""
    columns = tuple(feature_column(s) for s in score_columns)
    return {"columns": list(score_columns), "norms": population.fit_norms(train, columns)}


def attach(
    frame: pl.DataFrame,
    scores: ScoreFile,
    *,
    allow_missing: bool = False,
    columns: list[str] | None = None,
) -> pl.DataFrame:
    """`frame` with each score column joined by `isic_id` as `image_<column>`, in its row
    order. `columns` are the ones wanted (default: all of the file's); one the file lacks is a
    user error. A lesion without a score (its id absent, or its value empty) is a user error
    naming the file and the first such id, or with `allow_missing` a null, counted in the log.
    Ids of the file that `frame` lacks are ignored."""
    columns = scores.columns if columns is None else list(columns)
    absent = [c for c in columns if c not in scores.columns]
    if absent:
        raise UserError(
            f"{scores.path}: score column '{absent[0]}' is missing; expected the columns the "
            f"run was trained with: {', '.join(columns)}"
        )
    extra = [c for c in scores.columns if c not in columns]
    if extra:
        log.info("%s: ignoring score columns the run was not trained with: %s", scores.path, extra)
    taken = {c: feature_column(c) for c in columns}
    clash = [name for name in taken.values() if name in frame.columns]
    if clash:
        raise UserError(f"{scores.path}: the frame already has a column '{clash[0]}'")
    table = scores.frame.select(ID, *(pl.col(c).alias(taken[c]) for c in columns))
    joined = frame.join(table, on=ID, how="left", maintain_order="left")
    unscored = pl.any_horizontal(pl.col(list(taken.values())).is_null())
    missing = joined.select(pl.col(ID).filter(unscored))[ID]
    if missing.len() and not allow_missing:
        absent_id = not scores.frame[ID].is_in([missing[0]]).any()
        why = "is not in the file" if absent_id else "has no value in it"
        raise UserError(
            f"{scores.path}: isic_id {missing[0]} {why} ({missing.len()} of {frame.height} "
            "lesions without a score); expected a score for every lesion, or pass "
            "--allow-missing-scores to leave their image features null"
        )
    if missing.len():
        log.warning(
            "%s: %d of %d lesions have no score; their image features are null",
            scores.path,
            missing.len(),
            frame.height,
        )
    return joined
