"""The row layout of a CSV against Python's csv module, an independent reader that counts rows
the same way (a quoted line break stays in its cell; a blank line is a row of no fields)."""

from __future__ import annotations

import csv
import io
import logging

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.csv_rows import Rows, check_rows
from features.errors import UserError


def _write(tmp_path, text: str, name: str = "file.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def _reference(text: str) -> tuple[list[int], list[int]]:
    """(field count of each data row, data-row numbers of blank lines) by the csv module."""
    records = list(csv.reader(io.StringIO(text, newline="")))[1:]
    counts = [len(r) for r in records]
    blank = [i + 1 for i, r in enumerate(records) if not r]
    return counts, blank


def test_blank_lines_quoted_commas_and_line_breaks(tmp_path, caplog):
    text = 'a,b,c\n1,,3\n\n"x,\n\ny",7,8\n"q""uote",5,6\r\n\r\n9,10,11\n\n\n'
    path = _write(tmp_path, text)
    with caplog.at_level(logging.WARNING):
        rows = check_rows(path, 3)
    counts, blank = _reference(text)
    assert blank == [2, 5, 7, 8]
    np.testing.assert_array_equal(rows.blank, blank)
    assert [c for c in counts if c] == [3, 3, 3, 3]
    # Only the two middle blank lines are worth a word; the trailing ones are not rows.
    assert [r.getMessage() for r in caplog.records] == [
        f"{path}: data row 2 is a blank line; skipped it and 1 more (blank lines are not rows)"
    ]
    # The frame Polars reads, without the blank lines, row by row against their numbers.
    frame = rows.without_blank(pl.read_csv(path, infer_schema=False))
    assert frame["a"].to_list() == ["1", "x,\n\ny", 'q"uote', "9"]
    assert [rows.data_row(i) for i in range(frame.height)] == [1, 3, 4, 6]
    # Lines 5 and 6 of the file go on data row 3, begun on line 4.
    assert [rows.row_of_line(line) for line in (4, 5, 6, 7)] == [3, 3, 3, 4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c\n1,2,3\n4,5\n6,7,8\n", "data row 2 has 2 of 3 fields; expected one per column"),
        ('a,b,c\n"1,2",3\n4,5,6\n', "data row 1 has 2 of 3 fields"),
        ("a,b,c\n1,2,3\n\n4,5,6,7\n", "data row 3 has 4 fields; expected 3"),
        ('a,b,c\n"x\ny",2,3\n4,5\n', "data row 2 has 2 of 3 fields"),
        ("a,b,c\n1,2,3\n4,5", r"data row 2 \(the last line\) has 2 of 3 fields; .*cut short"),
    ],
)
def test_a_row_with_another_field_count_is_named(tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        check_rows(_write(tmp_path, text), 3)


def test_no_line_break_after_a_complete_last_line_is_a_warning(tmp_path, caplog):
    path = _write(tmp_path, "a,b\n1,2\n3,4")
    with caplog.at_level(logging.WARNING):
        check_rows(path, 2)
    assert "data row 2 (the last line) has no line break after it" in caplog.text


def test_data_rows_of_a_plain_file_are_the_frame_rows():
    rows = Rows.plain()
    assert [rows.data_row(i) for i in range(3)] == [1, 2, 3]
    assert rows.row_of_line(5) == 4


# Cells that make CSV hard: commas, quotes and line breaks inside a cell (never blank ones, so
# that a row of one blank cell cannot pass for a blank line).
_CELL = st.text(alphabet='ab,"\n', min_size=1, max_size=4).filter(lambda c: c.strip())


@settings(max_examples=150, deadline=None)
@given(
    table=st.lists(st.lists(_CELL, min_size=3, max_size=3), min_size=1, max_size=8),
    blanks=st.lists(st.integers(0, 8), max_size=4),
    short=st.one_of(st.none(), st.integers(0, 7)),
)
def test_row_layout_matches_the_csv_module(tmp_path_factory, table, blanks, short):
    rows = [list(r) for r in table]
    if short is not None and short < len(rows):
        rows[short] = rows[short][:2]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([["a", "b", "c"], *rows])
    lines = out.getvalue().split("\n")
    # A blank line goes between records only, never inside a quoted cell.
    starts = [0]
    for record in rows:
        piece = io.StringIO()
        csv.writer(piece, lineterminator="\n").writerow(record)
        starts.append(starts[-1] + piece.getvalue().count("\n"))
    for at in sorted(set(blanks), reverse=True):
        position = 1 + starts[min(at, len(rows))]
        lines[position:position] = [""]
    text = "\n".join(lines)
    path = _write(tmp_path_factory.mktemp("csv"), text)
    counts, blank = _reference(text)
    wrong = [i + 1 for i, c in enumerate(counts) if c and c != 3]
    if wrong:
        with pytest.raises(UserError, match=f"data row {wrong[0]} has 2 of 3 fields"):
            check_rows(path, 3)
        return
    layout = check_rows(path, 3)
    np.testing.assert_array_equal(layout.blank, blank)
    kept = [i + 1 for i, c in enumerate(counts) if c]
    assert [layout.data_row(i) for i in range(len(kept))] == kept
