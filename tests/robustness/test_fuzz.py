"""Fuzzed readers (issue 14 part 6): the real fixtures, mutated (bytes flipped, the file cut,
lines deleted or repeated, columns swapped, cells changed), fed to every reader. Each outcome is
a clean load or a `UserError` (the commands' exit 2), never another exception or a hang.

Bounded and repeatable: a fixed number of examples per reader, derandomised (tests/conftest.py),
about half a minute in all."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from features import io as metadata_io
from features.errors import UserError
from features.score_files import read_score_file
from models.config import load_config
from tests.conftest import FAST_TOML, REAL_DIR

TRAIN_ROWS = 300
# FUZZ_EXAMPLES=5000 for a longer hunt on a workstation; CI runs the default.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
# What a changed cell becomes: the values that real exports and broken files hold.
ODD_CELLS = [
    "",
    "NA",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-1",
    "2",
    "0.5",
    "abc",
    " ",
    '"',
    '""',
    "ISIC_0000000",
    "\u00e9",
    ",",
    "\n",
    "9" * 40,
]
# What editors and `cat` leave after the last line.
BLANK_ENDINGS = [b"\n", b"\n\n", b"\r\n", b"  \n\n"]
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=10_000,  # ms per example: a hang fails, a slow machine does not
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _fixture(name: str, rows: int | None = None) -> bytes:
    if not REAL_DIR.is_dir():
        pytest.skip(f"real SLICE-3D fixtures not found at {REAL_DIR}")
    lines = (REAL_DIR / name).read_bytes().splitlines(keepends=True)
    return b"".join(lines if rows is None else lines[: rows + 1])


def _score_file() -> bytes:
    """A score file made from the real train rows' ids: isic_id and one score column."""
    ids = pl.read_csv(io.BytesIO(_fixture("train-metadata-5k.csv", 100)), columns=["isic_id"])
    return ids.with_columns(image=pl.int_range(pl.len()) / 100).write_csv().encode()


@st.composite
def mutated(draw, original: bytes) -> bytes:
    """`original` with one to three mutations of the kinds a damaged file shows."""
    data = original
    for _ in range(draw(st.integers(1, 3))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return data


def _flip(draw, data: bytes) -> bytes:
    if not data:
        return data
    at = draw(st.integers(0, len(data) - 1))
    return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]


def _truncate(draw, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _delete_line(draw, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    del lines[draw(st.integers(0, len(lines) - 1))]
    return b"".join(lines)


def _duplicate_line(draw, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    at = draw(st.integers(0, len(lines) - 1))
    return b"".join([*lines[: at + 1], lines[at], *lines[at + 1 :]])


def _rows(data: bytes) -> list[list[str]] | None:
    try:
        return list(csv.reader(io.StringIO(data.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error):
        return None


def _write_rows(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _swap_columns(draw, data: bytes) -> bytes:
    """Two columns' values swapped in every row (the header keeps its order)."""
    rows = _rows(data)
    if not rows or len(rows[0]) < 2:
        return data
    i, j = draw(st.integers(0, len(rows[0]) - 1)), draw(st.integers(0, len(rows[0]) - 1))
    for row in rows[1:]:
        if max(i, j) < len(row):
            row[i], row[j] = row[j], row[i]
    return _write_rows(rows)


def _change_cell(draw, data: bytes) -> bytes:
    rows = _rows(data)
    if not rows:
        return data
    row = rows[draw(st.integers(0, len(rows) - 1))]
    if row:
        row[draw(st.integers(0, len(row) - 1))] = draw(st.sampled_from(ODD_CELLS))
    return _write_rows(rows)


def _drop_middle_cell(draw, data: bytes) -> bytes:
    """One cell of a data row (not the last row) removed, its comma with it."""
    rows = _rows(data)
    if not rows or len(rows) < 3:
        return data
    row = rows[draw(st.integers(1, len(rows) - 2))]
    if row:
        del row[draw(st.integers(0, len(row) - 1))]
    return _write_rows(rows)


def _append_blank_lines(draw, data: bytes) -> bytes:
    """Blank lines at the end, as editors and `cat` leave them."""
    ending = b"" if data.endswith(b"\n") else b"\n"
    return data + ending + draw(st.sampled_from(BLANK_ENDINGS))


MUTATIONS: list[Callable] = [
    _flip,
    _truncate,
    _delete_line,
    _duplicate_line,
    _swap_columns,
    _change_cell,
    _change_cell,
    _drop_middle_cell,
    _append_blank_lines,
]


def _read(reader: Callable[[Path], object], name: str, data: bytes) -> None:
    """The property: a clean load or a UserError with a message, nothing else."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            reader(path)
        except UserError as error:
            assert str(error).strip() and "\n" not in str(error).strip(), repr(error)
            event("refused")
        else:
            event("loaded")


TRAIN = _fixture("train-metadata-5k.csv", TRAIN_ROWS) if REAL_DIR.is_dir() else b""
TEST = _fixture("test-metadata.csv") if REAL_DIR.is_dir() else b""
SAMPLE = _fixture("sample_submission.csv") if REAL_DIR.is_dir() else b""
needs_real = pytest.mark.skipif(
    not REAL_DIR.is_dir(), reason=f"real SLICE-3D fixtures not found at {REAL_DIR}"
)


@needs_real
@FUZZ
@given(data=st.deferred(lambda: mutated(TRAIN)))
def test_train_reader(data):
    _read(metadata_io.read_train, "train-metadata.csv", data)


@needs_real
@FUZZ
@given(data=st.deferred(lambda: mutated(TEST)))
def test_test_reader(data):
    _read(metadata_io.read_test, "test-metadata.csv", data)


@needs_real
@FUZZ
@given(data=st.deferred(lambda: mutated(SAMPLE)))
def test_sample_reader(data):
    _read(metadata_io.read_sample_ids, "sample_submission.csv", data)


@needs_real
@FUZZ
@given(data=st.deferred(lambda: mutated(_score_file())))
def test_score_file_reader(data):
    _read(read_score_file, "scores.csv", data)


@needs_real
@FUZZ
@given(data=st.deferred(lambda: mutated(_parquet(TRAIN))))
def test_parquet_reader(data):
    """Byte-level damage to a Parquet file (the CSV mutations apply only where it decodes)."""
    _read(metadata_io.read_train, "train-metadata.parquet", data)


@needs_real
@FUZZ
@given(at=st.integers(1, TRAIN_ROWS - 1), cell=st.integers(0, 54))
def test_a_middle_row_without_a_cell_is_refused_by_name(at, cell):
    """Not only no crash: the short row is the one line's subject, with its data row."""
    rows = _rows(TRAIN)
    del rows[at][cell]
    with pytest.raises(UserError, match=rf"train-metadata.csv: data row {at} has 54 of 55 fields"):
        _read_or_raise(metadata_io.read_train, "train-metadata.csv", _write_rows(rows))


@needs_real
@pytest.mark.parametrize("ending", BLANK_ENDINGS)
def test_blank_lines_at_the_end_read_as_if_absent(ending):
    read = _read_or_raise(metadata_io.read_train, "train-metadata.csv", TRAIN + ending)
    assert read.equals(_read_or_raise(metadata_io.read_train, "train-metadata.csv", TRAIN))


@FUZZ
@given(data=mutated(FAST_TOML.encode()))
def test_config_loader(data):
    _read(load_config, "overlay.toml", data)


def _read_or_raise(reader: Callable[[Path], object], name: str, data: bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        return reader(path)


def _parquet(data: bytes) -> bytes:
    out = io.BytesIO()
    pl.read_csv(io.BytesIO(data), infer_schema=False).write_parquet(out)
    return out.getvalue()
