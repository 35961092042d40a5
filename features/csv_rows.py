"""Where a CSV's rows are, checked before it is read: each row's field count, and the blank
lines between rows.

Polars reads a row with fewer fields than the header as if the missing cells were empty, and a
blank line as a row of nulls, without a word. So every reader of a user's CSV first scans the
file's lines with Polars string expressions (one streaming pass; a quoted cell may hold commas
and line breaks) and refuses a row whose field count is not the header's.

"Data row N" in every reader message counts rows as a CSV reader does: the header is row 0, a
quoted cell's line break does not start a row, and a blank line keeps its number although it is
not read, so that N is the same whether or not the blank lines were there when it was counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features.errors import UserError

log = logging.getLogger(__name__)

# One physical line per value: a separator byte that text files do not hold, and no quoting.
_LINE_SEPARATOR = "\x1f"
# A quoted section and its closing quote, or an unclosed one to the end of the line. An escaped
# quote ("") reads as two adjacent sections, which removes the same text.
_QUOTED = r'"[^"]*"?'
# The rest of a cell that a quote opened on an earlier line, up to its closing quote.
_OPEN_CELL_REST = r'^[^"]*"?'


@dataclass(frozen=True)
class Rows:
    """A CSV's row layout. `blank`: data-row numbers (1-based) of the blank lines, sorted;
    `continued`: 1-based line numbers that go on a row begun on an earlier line (a quoted line
    break), sorted. Both are empty for nearly every file. `first`: the number of the first data
    row, 1 in a file (the header is row 0)."""

    blank: np.ndarray
    continued: np.ndarray
    first: int = 1

    @classmethod
    def plain(cls) -> Rows:
        """A file without blank lines or quoted line breaks (a Parquet file)."""
        return cls(np.empty(0, np.int64), np.empty(0, np.int64))

    @classmethod
    def for_frame(cls) -> Rows:
        """A DataFrame's rows: numbered by their 0-based index, as `frame[i]` finds them."""
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), first=0)

    def data_row(self, index: int) -> int:
        """The data-row number of the `index`-th row (0-based) of the frame read without the
        blank lines."""
        kept_before_blank = self.blank - np.arange(1, self.blank.size + 1)
        return int(index) + self.first + int(np.searchsorted(kept_before_blank, index, "right"))

    def row_of_line(self, line: int) -> int:
        """The data-row number of a 1-based physical line of the file (line 1 is the header)."""
        return line - 1 - int(np.searchsorted(self.continued, line, "right"))

    def without_blank(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`frame` as Polars read it from the file (a blank line is a row of nulls there) without
        the blank lines' rows."""
        if not self.blank.size:
            return frame
        keep = np.ones(frame.height, dtype=bool)
        keep[self.blank[self.blank <= frame.height] - 1] = False
        return frame.filter(pl.Series(keep))


def check_rows(path: Path, fields: int) -> Rows:
    """Refuse a row with fewer or more fields than the header's `fields`, naming it; warn once
    about blank lines between rows (trailing ones are silently not rows)."""
    path = Path(path)
    lines = _scan_lines(path)
    open_before = ((pl.col("quotes").cum_sum() - pl.col("quotes")) % 2 == 1).alias("open_before")
    lines = lines.with_columns(open_before)
    if lines["open_before"].any():
        lines = lines.with_columns(
            pl.when("open_before")
            .then(_scan_lines(path, _OPEN_CELL_REST)["outside"])
            .otherwise("outside")
            .alias("outside")
        )
    lines = lines.with_row_index("line", offset=1)
    rows = (
        lines.with_columns((~pl.col("open_before")).cum_sum().sub(1).alias("row"))
        .group_by("row", maintain_order=True)
        .agg(
            pl.col("outside").sum().add(1).alias("fields"),
            (pl.col("blank").first() & (pl.len() == 1)).alias("blank"),
        )
        .filter(pl.col("row") > 0)
    )
    ends_with_newline = _ends_with_newline(path)
    filled = rows.filter(~pl.col("blank"))
    _check_field_counts(filled, fields, path, ends_with_newline)
    if not ends_with_newline and filled.height and not rows["blank"][-1]:
        log.warning(
            "%s: data row %d (the last line) has no line break after it; if the file was cut "
            "short, its last value may be too",
            path,
            filled["row"][-1],
        )
    blank = rows.filter("blank")["row"]
    trailing = _trailing_count(rows["blank"])
    middle = blank.head(blank.len() - trailing)
    if middle.len():
        log.warning(
            "%s: data row %d is a blank line; skipped it%s (blank lines are not rows)",
            path,
            middle[0],
            f" and {middle.len() - 1} more" if middle.len() > 1 else "",
        )
    continued = lines.filter("open_before")["line"]
    return Rows(blank.to_numpy().astype(np.int64), continued.to_numpy().astype(np.int64))


def _scan_lines(path: Path, open_cell_rest: str | None = None) -> pl.DataFrame:
    """Per physical line: its quote count, the commas outside quoted cells (as if the line
    began outside a cell, or inside one when `open_cell_rest` is given) and whether it is
    blank. A streaming pass: the lines themselves are never held at once."""
    line = pl.col("line").fill_null("")
    outside = line if open_cell_rest is None else line.str.replace(open_cell_rest, "")
    scan = pl.scan_csv(
        path,
        has_header=False,
        separator=_LINE_SEPARATOR,
        quote_char=None,
        infer_schema=False,
        new_columns=["line"],
        # A line holding the separator byte is still one line: only its tail is cut off, and
        # the tail's commas with it; such a file is not text a reader takes anyway.
        truncate_ragged_lines=True,
        encoding="utf8-lossy",
    )
    return scan.select(
        line.str.count_matches('"', literal=True).cast(pl.Int64).alias("quotes"),
        outside.str.replace_all(_QUOTED, "")
        .str.count_matches(",", literal=True)
        .cast(pl.Int64)
        .alias("outside"),
        (line.str.strip_chars() == "").alias("blank"),
    ).collect(engine="streaming")


def _check_field_counts(rows: pl.DataFrame, fields: int, path: Path, ends_with_newline: bool):
    wrong = rows.filter(pl.col("fields") != fields)
    if not wrong.height:
        return
    row, found = wrong["row"][0], wrong["fields"][0]
    if found > fields:
        raise UserError(
            f"{path}: data row {row} has {found} fields; expected {fields}, one per column of "
            "the header"
        )
    if row == rows["row"][-1] and not ends_with_newline:
        raise UserError(
            f"{path}: data row {row} (the last line) has {found} of {fields} fields; "
            "the file looks cut short"
        )
    raise UserError(
        f"{path}: data row {row} has {found} of {fields} fields; expected one per column of the "
        "header (a cell is missing, not empty)"
    )


def _trailing_count(blank: pl.Series) -> int:
    """How many rows at the end are blank lines."""
    flags = blank.to_numpy()
    non_blank = np.flatnonzero(~flags)
    return int(flags.size if not non_blank.size else flags.size - 1 - non_blank[-1])


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return True
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"
