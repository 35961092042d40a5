"""The labelled cohort an evaluation scores: a train-layout file with `target`, or a test-layout
file with a labels file (`isic_id,target`, as ISIC 2020's GroundTruth.csv ships them) joined by
`isic_id`. Read with the metadata readers' schema and checks; each fault a user can fix is one
`UserError` naming the file, the column or row. Either may be a Polars or pandas frame instead of
a file ("cohort frame", "labels frame" in messages)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from features.csv_rows import Rows
from features.errors import UserError
from features.frames import DataInput, FrameSource, as_source
from features.io import read_test_rows, read_train_rows
from features.score_files import read_score_file
from models.evaluation import AGE_BAND, age_band, group_labels

log = logging.getLogger(__name__)

TARGET = "target"
COHORT_FRAME, LABELS_FRAME = "cohort frame", "labels frame"
# The groupings every evaluation reports, and the cohort columns they come from.
GROUPINGS = ("attribution", "anatom_site_general", "sex", AGE_BAND, "tbp_tile_type")
GROUP_COLUMNS = ("attribution", "anatom_site_general", "sex", "age_approx", "tbp_tile_type")


@dataclass(frozen=True)
class Cohort:
    frame: pl.DataFrame  # the cohort's columns with `target` (Int8), in the file's row order
    path: Path | FrameSource
    # The labels file (or frame), when the labels came apart from the metadata.
    labels: Path | FrameSource | None = None
    rows: Rows = field(default_factory=Rows.plain)  # where the frame's rows are in `path`

    def data_row(self, index: int) -> int:
        """The data-row number in the cohort file of the frame's `index`-th row."""
        return self.rows.data_row(index)

    @property
    def label_source(self) -> Path | FrameSource:
        """The file the labels were read from, to name in a message about them."""
        return self.labels if self.labels is not None else self.path


def read_cohort(path: DataInput, labels: DataInput | None = None) -> Cohort:
    """The cohort with its labels, both classes present. Without `labels`, `path` is in the
    train layout; with it, `path` is in the test layout and every lesion needs a label. Each
    is a file's path or a frame."""
    path = as_source(path, COHORT_FRAME)
    if labels is None:
        frame, rows = _read_train_layout(path)
        cohort = Cohort(frame, path, rows=rows)
    else:
        labels = as_source(labels, LABELS_FRAME)
        frame, rows = read_test_rows(path)
        frame = _join_labels(frame, path, rows, read_labels(labels), labels)
        cohort = Cohort(frame, path, labels, rows)
    require_both_classes(cohort.frame, cohort.label_source)
    return cohort


def read_labels(path: DataInput) -> pl.DataFrame:
    """A labels file or frame: `isic_id` and `target` (0 or 1) for each lesion, each id once;
    other columns are ignored."""
    path = as_source(path, LABELS_FRAME)
    read = read_score_file(path, columns=[TARGET])
    frame = read.frame
    bad = frame.with_row_index("_row").filter(~pl.col(TARGET).is_in([0.0, 1.0]).fill_null(False))
    if bad.height:
        row, value = read.rows.data_row(bad["_row"][0]), bad[TARGET][0]
        got = "no value" if value is None else f"{value:g}"
        raise UserError(f"{path}: column '{TARGET}', data row {row}: expected 0 or 1, got {got}")
    return frame.with_columns(pl.col(TARGET).cast(pl.Int8))


def require_both_classes(frame: pl.DataFrame, where: Path | FrameSource) -> None:
    """The figures need malignant and benign lesions: ISIC score, sensitivity, calibration."""
    positive = int(frame[TARGET].sum())
    missing = "malignant (1)" if positive == 0 else "benign (0)" if positive == frame.height else ""
    if missing:
        raise UserError(
            f"{where}: column '{TARGET}': the cohort has no {missing} lesion among its "
            f"{frame.height:,}; an evaluation needs malignant and benign lesions"
        )


def check_eval_by(cohort: Cohort, columns: list[str]) -> None:
    """Every `--eval-by` column is one of the cohort's, and categorical."""
    for column in columns:
        if column not in cohort.frame.columns:
            raise UserError(
                f"{cohort.path}: column '{column}' (--eval-by) is not in the cohort; expected "
                "one of its categorical columns"
            )
        group_labels(cohort.frame, column, str(cohort.path))


def grouping_columns(eval_by: list[str]) -> list[str]:
    """The cohort columns behind the groups: the usual ones and every `--eval-by`, once each."""
    return list(dict.fromkeys([*GROUP_COLUMNS, *eval_by]))


def group_label_arrays(
    frame: pl.DataFrame, eval_by: list[str], source: str
) -> dict[str, np.ndarray]:
    """Grouping -> each row's group (a null is its own group), for the usual groupings present
    in `frame` (the 10-year age band from `age_approx`) and every `--eval-by` column."""
    frame = frame.with_columns(age_band(pl.col("age_approx")).alias(AGE_BAND))
    names = list(dict.fromkeys([*GROUPINGS, *eval_by]))
    return {name: group_labels(frame, name, source) for name in names if name in frame.columns}


def _read_train_layout(path: Path | FrameSource) -> tuple[pl.DataFrame, Rows]:
    try:
        return read_train_rows(path)
    except UserError as error:
        if str(error) != f"{path}: required column '{TARGET}' is missing":
            raise
        raise UserError(
            f"{error}; expected a train-layout cohort with the labels in '{TARGET}', or a "
            "test-layout one with --labels FILE (isic_id,target)"
        ) from None


def _join_labels(
    frame: pl.DataFrame,
    path: Path | FrameSource,
    rows: Rows,
    labels: pl.DataFrame,
    labels_path: Path | FrameSource,
) -> pl.DataFrame:
    """The cohort's rows, in its order, each with its label; a lesion without one is an error."""
    joined = frame.join(labels, on="isic_id", how="left", maintain_order="left")
    unlabelled = joined[TARGET].is_null()
    if unlabelled.any():
        first = int(unlabelled.arg_true()[0])
        raise UserError(
            f"{labels_path}: isic_id {joined['isic_id'][first]} (data row "
            f"{rows.data_row(first)} of {path}) has no label ({int(unlabelled.sum()):,} of "
            f"{frame.height:,} cohort lesions without one); expected a label for every cohort "
            "lesion"
        )
    extra = labels.height - frame.height
    if extra:
        log.info("%s: %d labels of lesions not in the cohort are not used", labels_path, extra)
    return joined
