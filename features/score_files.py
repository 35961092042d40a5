"""Read a score file: an image model's (or any other model's) scores per lesion, CSV or Parquet
with `isic_id` and one or more numeric score columns.

Train score files hold out-of-fold scores, test score files plain ones; both are read the same
way, validated as `features.io` validates the metadata: every problem a user can fix is one
`UserError` naming the file, the column or row and what was expected. A missing value (empty,
`NA`, NaN) is read as null; what a null means is the caller's decision. A Polars or pandas frame
given instead is checked the same way; its scores must already be numbers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from features import schema
from features.csv_rows import Rows
from features.errors import UserError, first_line
from features.frames import DataInput, FrameSource, as_source, frame_sha256
from features.io import NULL_VALUES, READ_ERRORS, csv_rows, file_sha256, unreadable

ID = "isic_id"
SCORE_FRAME = "score frame"
IMAGE_SCORES_FRAME = "image-scores frame"  # a test or cohort's image-model scores
# A column with one of these names is metadata, a label or a fold, never a score: taking
# `target` for a score would hand the label to the model.
_NOT_SCORES = frozenset({*schema.TRAIN_COLUMN_NAMES, "fold"}) - {ID}


@dataclass(frozen=True)
class ScoreFile:
    """A score file as read: `frame` is `isic_id` (String) and each score column (Float64).
    For a frame given instead, `path` is its `FrameSource` and `sha256` the content hash of
    `frame`."""

    path: Path | FrameSource
    frame: pl.DataFrame
    sha256: str
    rows: Rows = field(default_factory=Rows.plain)  # where the frame's rows are in the file

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ID]


def read_score_file(path: DataInput, columns: list[str] | None = None) -> ScoreFile:
    """Read and validate a score file; its SHA-256 comes along for the run's input hashes.

    `columns` reads only those score columns (each must be there) and ignores the rest; a
    column named like a label (a submission's `target`) is then taken, since the caller asked
    for it by name."""
    path = as_source(path, SCORE_FRAME)
    header = _header(path)
    if ID not in header:
        raise UserError(f"{path}: required column '{ID}' is missing")
    scores = [c for c in header if c != ID]
    if "" in header:
        raise UserError(f"{path}: column {header.index('') + 1} of the header has no name")
    if columns is not None:
        absent = [c for c in columns if c not in scores]
        if absent:
            raise UserError(f"{path}: required column '{absent[0]}' is missing")
        scores = list(columns)
    if not scores:
        raise UserError(f"{path}: expected '{ID}' and at least one numeric score column")
    taken = [] if columns is not None else [c for c in scores if c in _NOT_SCORES]
    if taken:
        raise UserError(
            f"{path}: column '{taken[0]}' is a metadata, label or fold column, not a score; "
            "a score file holds isic_id and score columns only"
        )
    repeated = [c for c in scores if header.count(c) > 1]
    if repeated or header.count(ID) > 1:
        raise UserError(f"{path}: column '{(repeated or [ID])[0]}' appears more than once")
    rows = csv_rows(path, header)
    raw = _read_raw(path, rows)
    if raw.columns != header:  # quoting that the csv module and Polars read differently
        raise UserError(f"{path}: cannot read the header {header!r} as plain column names")
    if raw.height == 0:
        framed = isinstance(path, FrameSource)
        raise UserError(f"{path}: {'has no rows' if framed else 'file has a header but no rows'}")
    numbers = (_as_number(raw, c, path, rows) for c in scores)
    frame = pl.DataFrame([_as_ids(raw, path), *numbers])
    _check_finite(frame, scores, path, rows)
    _check_ids(frame, path, rows)
    return ScoreFile(path, frame, _sha256(path, frame), rows)


def _header(path: Path | FrameSource) -> list[str]:
    if isinstance(path, FrameSource):
        return path.frame.columns
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: file is empty")
    try:
        if _is_parquet(path):
            return list(pl.read_parquet_schema(path))
        # The csv module, not Polars: Polars renames a repeated name instead of showing it.
        with open(path, "rb") as handle:
            header = next(csv.reader([handle.readline().decode("utf-8")]), [])
    except UnicodeDecodeError:
        raise UserError(f"{path}: the header holds bytes that are not UTF-8 text") from None
    except (*READ_ERRORS, csv.Error) as error:
        raise UserError(f"{path}: cannot read the header ({first_line(error)})") from None
    return header


def _read_raw(path: Path | FrameSource, rows: Rows) -> pl.DataFrame:
    """Parquet and a frame as stored; CSV as text, so that a value that is not a number can be
    named."""
    if isinstance(path, FrameSource):
        return path.frame
    try:
        if _is_parquet(path):
            return pl.read_parquet(path)
        return rows.without_blank(pl.read_csv(path, infer_schema=False, null_values=NULL_VALUES))
    except READ_ERRORS as error:
        raise unreadable(path, error, rows) from None


def _sha256(path: Path | FrameSource, frame: pl.DataFrame) -> str:
    """A file's bytes; a frame's scores as read, as nothing else of it is used."""
    return frame_sha256(frame) if isinstance(path, FrameSource) else file_sha256(path)


def _as_ids(raw: pl.DataFrame, path: Path | FrameSource) -> pl.Series:
    """The ids as text: a Parquet file's or a frame's integer ids read as a CSV's would be."""
    try:
        return raw[ID].cast(pl.String)
    except pl.exceptions.PolarsError:
        raise UserError(
            f"{path}: column '{ID}' holds {raw[ID].dtype}; expected text or integer ids"
        ) from None


def _as_number(raw: pl.DataFrame, column: str, path: Path | FrameSource, rows: Rows) -> pl.Series:
    values = raw[column]
    if values.dtype == pl.String and _is_csv(path):  # CSV: every column is read as text
        text = values.str.strip_chars()
        parsed = text.cast(pl.Float64, strict=False)
        failed = (parsed.is_null() & text.is_not_null() & (text != "")).arg_true()
        if failed.len():
            row = int(failed[0])
            raise UserError(
                f"{path}: column '{column}', data row {rows.data_row(row)}: "
                f"cannot read {values[row]!r} as a number"
            )
        return parsed.fill_nan(None)
    if (values.dtype.is_numeric() and values.dtype != pl.Boolean) or values.dtype == pl.Null:
        return values.cast(pl.Float64).fill_nan(None)
    raise UserError(f"{path}: column '{column}' holds {values.dtype}; expected numeric scores")


def _check_finite(
    frame: pl.DataFrame, columns: list[str], path: Path | FrameSource, rows: Rows
) -> None:
    for column in columns:
        infinite = frame[column].is_infinite().arg_true()
        if infinite.len():
            raise UserError(
                f"{path}: column '{column}', data row {rows.data_row(infinite[0])}: expected a "
                f"finite number, got {frame[column][infinite[0]]}"
            )


def _check_ids(frame: pl.DataFrame, path: Path | FrameSource, rows: Rows) -> None:
    nulls = frame[ID].is_null().arg_true()
    if nulls.len():
        raise UserError(
            f"{path}: column '{ID}', data row {rows.data_row(nulls[0])}: value is missing"
        )
    duplicated = frame[ID].is_duplicated().arg_true()
    if duplicated.len():
        value = frame[ID][duplicated[0]]
        numbers = ", ".join(str(rows.data_row(i)) for i in duplicated[:2])
        raise UserError(
            f"{path}: column '{ID}': {value!r} appears more than once (data rows {numbers})"
        )


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet"


def _is_csv(path: Path | FrameSource) -> bool:
    return isinstance(path, Path) and not _is_parquet(path)
