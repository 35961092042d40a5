"""The one check every submission passes before it is written: exactly the columns
`isic_id,target`, one row per test lesion and no other, in the sample submission's order (the
test file's when there is no sample), every target a finite number in [0, 1].

`validate_submission` refuses a frame with one line (a `UserError` naming the id or row) and
returns it in the required order; `write_submission` is how our own writers use it: a frame
they made that fails is a bug, reported as one, and nothing is written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from features.errors import UserError
from models.artifacts.files import write_csv

COLUMNS = ("isic_id", "target")


def validate_submission(
    frame: pl.DataFrame,
    test_ids: pl.Series,
    sample_ids: pl.Series | None = None,
    source: str = "submission",
) -> pl.DataFrame:
    """`frame` checked against the test file's `test_ids` (and the sample submission's
    `sample_ids`, which fix the order when given) and returned in that order; a frame that
    breaks the contract raises a `UserError` whose one line starts with `source`."""
    if tuple(frame.columns) != COLUMNS:
        got = ",".join(frame.columns) or "no columns"
        raise UserError(f"{source}: expected exactly the columns isic_id,target, got {got}")
    if frame.schema["isic_id"] != pl.String:
        raise UserError(f"{source}: column 'isic_id' is {frame.schema['isic_id']}, expected text")
    if not frame.schema["target"].is_numeric():
        dtype = frame.schema["target"]
        raise UserError(f"{source}: column 'target' is {dtype}, expected numbers in [0, 1]")
    order, order_sorted = _required_order(test_ids, sample_ids, source)
    ids = frame["isic_id"]
    _no_missing_ids(ids, source)
    # Sorting, not hashing: a writer's frame is usually already in order (one comparison), and
    # two sorted copies compare in about a second at 2,000,000 rows where hash lookups took
    # several; the slower search for the offending id runs only once something is wrong.
    same_order = ids.equals(order)
    if not same_order and (ids.len() != order.len() or not ids.sort().equals(order_sorted)):
        _explain_mismatch(ids, order, source)
    _targets_in_range(frame, source)  # before reordering: its row numbers are the frame's
    if same_order:
        return frame
    rows = np.empty(order.len(), dtype=np.int64)
    rows[order.arg_sort().to_numpy()] = ids.arg_sort().to_numpy()
    return frame[rows]


def write_submission(
    path: Path, frame: pl.DataFrame, test_ids: pl.Series, sample_ids: pl.Series | None = None
) -> None:
    """Check `frame` (made by our own code) and write it to `path` atomically, in the required
    order. A failed check is a bug in the writer, not the user's doing: it raises a
    `RuntimeError` that keeps the traceback, before anything is written."""
    try:
        checked = validate_submission(frame, test_ids, sample_ids, str(path))
    except UserError as error:
        raise RuntimeError(f"bug: our own submission failed its check: {error}") from error
    write_csv(path, checked)


def _required_order(
    test_ids: pl.Series, sample_ids: pl.Series | None, source: str
) -> tuple[pl.Series, pl.Series]:
    """The sample's ids when given (they must be the test file's), else the test file's; and
    the same ids sorted."""
    test_ids = test_ids.cast(pl.String)
    _no_missing_ids(test_ids, f"{source}: the test file")
    test_sorted = test_ids.sort()
    if test_sorted.len() > 1 and (test_sorted.head(-1) == test_sorted.tail(-1)).any():
        _no_duplicates(test_ids, source, "the test file")
    if sample_ids is None:
        return test_ids, test_sorted
    sample_ids = sample_ids.cast(pl.String)
    _no_missing_ids(sample_ids, f"{source}: the sample submission")
    if sample_ids.len() == test_ids.len() and sample_ids.sort().equals(test_sorted):
        return sample_ids, test_sorted
    _no_duplicates(sample_ids, source, "the sample submission")
    outside = _first_outside(sample_ids, test_ids)
    if outside is not None:
        raise UserError(
            f"{source}: the sample submission's isic_id {sample_ids[outside]} is not a test lesion"
        )
    outside = _first_outside(test_ids, sample_ids)
    raise UserError(f"{source}: test lesion {test_ids[outside]} is not in the sample submission")


def _explain_mismatch(ids: pl.Series, order: pl.Series, source: str) -> None:
    """Raise the line that names the first duplicate, extra or missing id of `ids`."""
    _no_duplicates(ids, source, "the submission")
    extra = _first_outside(ids, order)
    if extra is not None:
        raise UserError(
            f"{source}: data row {extra + 1}: isic_id {ids[extra]} is not a test lesion"
        )
    missing = _first_outside(order, ids)
    raise UserError(
        f"{source}: test lesion {order[missing]} has no row "
        f"({order.len() - ids.len()} of {order.len()} missing)"
    )


def _first_outside(ids: pl.Series, allowed: pl.Series) -> int | None:
    """The index of the first of `ids` that `allowed` lacks, or None."""
    outside = (~ids.is_in(allowed.implode())).arg_true()
    return int(outside[0]) if outside.len() else None


def _no_missing_ids(ids: pl.Series, source: str) -> None:
    nulls = ids.is_null().arg_true()
    if nulls.len():
        raise UserError(f"{source}: column 'isic_id', data row {nulls[0] + 1}: value is missing")


def _no_duplicates(ids: pl.Series, source: str, what: str) -> None:
    duplicated = ids.is_duplicated().arg_true()
    if duplicated.len():
        rows = ids.eq(ids[duplicated[0]]).arg_true()
        raise UserError(
            f"{source}: isic_id {ids[duplicated[0]]} appears {rows.len()} times in {what} "
            f"(data rows {', '.join(str(r + 1) for r in rows.head(3))})"
        )


def _targets_in_range(frame: pl.DataFrame, source: str) -> None:
    target = frame["target"].cast(pl.Float64)
    # Polars orders NaN above every number, so NaN is tested on its own; a null is refused too
    bad = (~target.is_between(0.0, 1.0).fill_null(False) | target.is_nan()).arg_true()
    if bad.len():
        row = int(bad[0])
        value = "missing" if target[row] is None else target[row]
        raise UserError(
            f"{source}: data row {row + 1} (isic_id {frame['isic_id'][row]}): target is "
            f"{value}; expected a finite number in [0, 1]"
        )
