"""Read the Kaggle layout (CSV or Parquet) with the SLICE-3D schema, and validate it.

Every problem a user can fix becomes one `UserError` line naming the file, the column or row,
and what was expected. Softer faults (extra columns, a column that repeats another) are logged.
A Polars or pandas frame given instead of a train or test file is cast and checked as a Parquet
file is, its messages naming the frame and its 0-based rows.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from features import schema
from features.csv_rows import Rows, check_rows
from features.errors import UserError, first_line
from features.frames import DataInput, FrameSource, as_source

log = logging.getLogger(__name__)

TRAIN_FRAME, TEST_FRAME = "train frame", "test frame"
TRAIN_FILE = "train-metadata"
TEST_FILE = "test-metadata"
SAMPLE_FILE = "sample_submission"
NULL_VALUES = ["NA", ""]
# What reading a damaged file raises: Polars' errors, the OS's, and a panic inside Polars (a
# corrupt Parquet page can trip one of its assertions; it is not an Exception subclass).
READ_ERRORS = (pl.exceptions.PolarsError, OSError, pl.exceptions.PanicException)


@dataclass
class Dataset:
    """A train frame, an optional test frame, and where they came from."""

    train: pl.DataFrame
    test: pl.DataFrame | None = None
    sample_ids: pl.Series | None = None
    files: dict[str, str] = field(default_factory=dict)  # role -> path
    hashes: dict[str, str] = field(default_factory=dict)  # path -> sha256


def read_dataset(data_dir: Path) -> Dataset:
    """Read `train-metadata` (required), `test-metadata` and `sample_submission` (optional)
    from a folder; a `.parquet` twin wins over the CSV."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise UserError(f"{data_dir}: data folder not found")
    train_path = _locate(data_dir, TRAIN_FILE)
    if train_path is None:
        raise UserError(f"{data_dir}: no {TRAIN_FILE}.csv or {TRAIN_FILE}.parquet in the folder")
    dataset = Dataset(train=read_train(train_path), files={"train": str(train_path)})
    test_path = _locate(data_dir, TEST_FILE)
    if test_path is not None:
        dataset.test = read_test(test_path)
        dataset.files["test"] = str(test_path)
        sample_path = _locate(data_dir, SAMPLE_FILE)
        if sample_path is not None:
            dataset.sample_ids = read_sample_ids(sample_path)
            dataset.files["sample"] = str(sample_path)
            check_sample_matches(dataset.test, dataset.sample_ids, test_path, sample_path)
    dataset.hashes = {path: file_sha256(Path(path)) for path in dataset.files.values()}
    return dataset


def read_train(path: DataInput) -> pl.DataFrame:
    """A train file or frame: every test column plus `target`; other train-only columns when
    present."""
    return read_train_rows(path)[0]


def read_train_rows(path: DataInput) -> tuple[pl.DataFrame, Rows]:
    """`read_train`, and where the frame's rows are in the file: for a message about a row
    found later, by a check of the caller's."""
    source = as_source(path, TRAIN_FRAME)
    required = (*schema.TEST_COLUMN_NAMES, "target")
    frame, rows = _read_table(source, required, optional=schema.TRAIN_ONLY_COLUMNS)
    _check_ids(frame, source, rows)
    bad = frame.with_row_index("_row").filter(
        ~pl.col("target").is_in([0, 1]) | pl.col("target").is_null()
    )
    if bad.height:
        row = bad.row(0, named=True)
        raise UserError(
            f"{source}: column 'target', data row {rows.data_row(row['_row'])}: "
            f"expected 0 or 1, got {row['target']!r}"
        )
    return frame, rows


def read_test(path: DataInput) -> pl.DataFrame:
    """A test file or frame: the 44 test columns; train-only columns are dropped with a
    warning."""
    return read_test_rows(path)[0]


def read_test_rows(path: DataInput) -> tuple[pl.DataFrame, Rows]:
    """`read_test`, and where the frame's rows are in the file."""
    source = as_source(path, TEST_FRAME)
    header = _header(source)
    leaked = [c for c in header if c in schema.TRAIN_ONLY_COLUMNS]
    if leaked:
        log.warning(
            "%s: dropping train-only columns from the test %s: %s",
            source,
            "frame" if isinstance(source, FrameSource) else "file",
            ", ".join(leaked),
        )
    frame, rows = _read_table(source, schema.TEST_COLUMN_NAMES, optional=(), ignore=leaked)
    _check_ids(frame, source, rows)
    return frame, rows


def read_sample_ids(path: Path) -> pl.Series:
    """The sample submission's ids, in its order."""
    path = Path(path)
    header = _header(path)
    if header[:1] != ["isic_id"]:
        raise UserError(f"{path}: expected columns isic_id,target, got {','.join(header)!r}")
    rows = csv_rows(path, header)
    try:
        frame = _scan(path).select(pl.col("isic_id").cast(pl.String)).collect()
    except READ_ERRORS as error:
        raise unreadable(path, error, rows) from None
    frame = rows.without_blank(frame)
    nulls = frame["isic_id"].is_null().arg_true()
    if nulls.len():
        raise UserError(
            f"{path}: column 'isic_id', data row {rows.data_row(nulls[0])}: value is missing"
        )
    return frame["isic_id"]


def require_both_classes(train: pl.DataFrame, path) -> None:
    """Training and tuning learn to tell malignant from benign lesions: both must be there."""
    present = train["target"].unique().to_list()
    if len(present) < 2:
        raise UserError(
            f"{path}: column 'target': every row is {present[0]}; training needs benign (0) "
            "and malignant (1) lesions"
        )


def check_sample_matches(test: pl.DataFrame, sample_ids: pl.Series, test_path, sample_path) -> None:
    missing = test.filter(~pl.col("isic_id").is_in(sample_ids.implode()))["isic_id"]
    extra = sample_ids.filter(~sample_ids.is_in(test["isic_id"].implode()))
    if missing.len() or extra.len() or sample_ids.len() != test.height:
        detail = (
            f"test id {missing[0]} is not in it"
            if missing.len()
            else f"id {extra[0]} is not in the test file"
            if extra.len()
            else f"{sample_ids.len()} rows for {test.height} test rows"
        )
        raise UserError(f"{sample_path}: isic_id set does not match {test_path}: {detail}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _locate(data_dir: Path, stem: str) -> Path | None:
    parquet, csv = data_dir / f"{stem}.parquet", data_dir / f"{stem}.csv"
    if parquet.is_file():
        if csv.is_file():
            log.info("%s: using the Parquet twin over %s", parquet, csv.name)
        return parquet
    return csv if csv.is_file() else None


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet"


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
        header = pl.read_csv(path, n_rows=0, infer_schema=False).columns
    except READ_ERRORS as error:
        if located := not_utf8(path, error):
            raise located from None
        raise UserError(f"{path}: cannot read the header ({first_line(error)})") from None
    return header


def csv_rows(path: Path | FrameSource, header: list[str]) -> Rows:
    """Where a data file's rows are: a CSV's row layout, checked against its header (a short
    or long row is a UserError); a Parquet file has no blank lines; a frame's rows are its
    0-based index."""
    if isinstance(path, FrameSource):
        return Rows.for_frame()
    return Rows.plain() if _is_parquet(path) else check_rows(path, len(header))


def unreadable(path: Path, error: BaseException, rows: Rows | None = None) -> UserError:
    """The one line for a data file that reading `error` stopped: where its bytes that are not
    UTF-8 are, when that is what went wrong, else the library's first line."""
    if not _is_parquet(path) and (located := not_utf8(path, error, rows)):
        return located
    return UserError(f"{path}: cannot read the file ({first_line(error)})")


def not_utf8(path: Path, error: BaseException, rows: Rows | None = None) -> UserError | None:
    """The error to raise when `error` came from bytes that are not UTF-8: it names the first
    data row and column that hold them (`rows` maps a line to its data row where a quoted cell
    holds a line break). None when that is not what went wrong."""
    if "utf-8" not in str(error).lower() and not isinstance(error, UnicodeDecodeError):
        return None
    with open(path, "rb") as handle:
        try:
            header = next(csv.reader([handle.readline().decode("utf-8")]), [])
        except UnicodeDecodeError:
            return UserError(f"{path}: the header holds bytes that are not UTF-8 text")
        for number, line in enumerate(handle, start=2):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                text = line.decode("utf-8", errors="replace")
                cells = next(csv.reader([text]), [])
                bad = next((i for i, cell in enumerate(cells) if "\ufffd" in cell), 0)
                column = header[bad] if bad < len(header) else f"field {bad + 1}"
                row = (rows or Rows.plain()).row_of_line(number)
                return UserError(
                    f"{path}: column '{column}', data row {row}: bytes that are not UTF-8 "
                    "text; expected a UTF-8 CSV"
                )
    return None


def _scan(path: Path, dtypes: dict[str, pl.DataType] | None = None) -> pl.LazyFrame:
    if _is_parquet(path):
        return pl.scan_parquet(path)
    if dtypes is None:
        return pl.scan_csv(path, infer_schema=False, null_values=NULL_VALUES)
    return pl.scan_csv(path, schema_overrides=dtypes, null_values=NULL_VALUES, infer_schema=False)


def _read_table(
    path: Path | FrameSource,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    ignore: list[str] = (),
) -> tuple[pl.DataFrame, Rows]:
    """The frame and where its rows are in the file."""
    header = _header(path)
    missing = [c for c in required if c not in header]
    if missing:
        raise UserError(f"{path}: required column '{missing[0]}' is missing")
    rows = csv_rows(path, header)
    known = set(required) | set(optional) | set(ignore)
    extra = [c for c in header if c not in known]
    if extra:
        log.warning("%s: ignoring unknown columns: %s", path, ", ".join(extra))
    wanted = set(required) | set(optional)
    columns = [c for c in schema.TRAIN_COLUMN_NAMES if c in wanted and c in header]
    dtypes = schema.schema_for(columns)
    frame = _read_columns(path, header, columns, dtypes, rows)
    frame = _non_finite_to_null(frame, path)
    _warn_empty_columns(frame, path)
    _warn_repeated_columns(frame, path)
    return frame, rows


def _read_columns(
    source: Path | FrameSource,
    header: list[str],
    columns: list[str],
    dtypes: dict[str, pl.DataType],
    rows: Rows,
) -> pl.DataFrame:
    """The schema's `columns`, cast to its types: a frame's as given, a CSV's by the typed
    fast path when every value parses, else as text cast strictly."""
    if isinstance(source, FrameSource):
        return _read_frame(source, dtypes, rows)
    frame = None if _is_parquet(source) else _read_typed_csv(source, header, columns, dtypes, rows)
    return frame if frame is not None else _read_as_text(source, header, columns, dtypes, rows)


def _read_frame(source: FrameSource, dtypes: dict[str, pl.DataType], rows: Rows) -> pl.DataFrame:
    raw = source.frame.select(list(dtypes))
    if raw.height == 0:
        raise UserError(f"{source}: has no rows")
    return _cast_checked(raw, dtypes, source, rows)


def _read_typed_csv(
    path: Path, header: list[str], columns: list[str], dtypes: dict[str, pl.DataType], rows: Rows
) -> pl.DataFrame | None:
    """The fast path: parse with the schema's types; None when anything does not parse, so
    that the text path can name the bad value and its row."""
    # Integers are parsed as floats: "1.0" is a fine target value in a float-typed export.
    parsed = {c: pl.Float64 if dtypes[c].is_integer() else dtypes[c] for c in columns}
    types = {c: parsed.get(c, pl.String) for c in header}
    try:
        raw = rows.without_blank(_scan(path, types).select(columns).collect())
    except READ_ERRORS:
        return None
    if raw.height == 0:
        return None
    integers = [c for c in columns if dtypes[c].is_integer()]
    if integers:
        fractional = raw.select((pl.col(integers) != pl.col(integers).round()).any()).row(0)
        if any(fractional):
            return None
    frame = raw.select(pl.col(c).cast(dtypes[c], strict=False) for c in columns)
    if any(frame[c].null_count() != raw[c].null_count() for c in integers):
        return None  # out of the integer type's range
    return frame


def _read_as_text(
    path: Path, header: list[str], columns: list[str], dtypes: dict[str, pl.DataType], rows: Rows
) -> pl.DataFrame:
    # Every column is read as text and cast strictly, so a bad value can be named with its row.
    text = {c: pl.String for c in header}
    try:
        raw = _scan(path, None if _is_parquet(path) else text).select(columns).collect()
    except READ_ERRORS as error:
        raise unreadable(path, error, rows) from None
    raw = rows.without_blank(raw)
    if raw.height == 0:
        raise UserError(f"{path}: file has a header but no rows")
    return _cast_checked(raw, dtypes, path, rows)


def _cast_checked(
    raw: pl.DataFrame, dtypes: dict[str, pl.DataType], source: Path | FrameSource, rows: Rows
) -> pl.DataFrame:
    """`raw` (text, or a Parquet file's or a frame's own types) cast to the schema's `dtypes`;
    a value that is there but does not cast is named with its row."""
    try:
        frame = raw.select(_cast(c, raw.schema[c], dtypes[c]) for c in dtypes)
    except pl.exceptions.PolarsError:
        located = _uncastable(raw, dtypes, source)
        if located is None:
            raise
        raise located from None
    _check_parsed(raw, frame, source, rows)
    return frame


def _cast(name: str, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    # A categorical column (a frame's, a Parquet file's) holds text: it casts as its text does.
    text = source == pl.String or isinstance(source, pl.Categorical | pl.Enum)
    column = pl.col(name).cast(pl.String) if text else pl.col(name)
    if text and target != pl.String:
        column = column.str.strip_chars()
    if target.is_integer() and (text or source.is_float()):
        # "1.0" is a fine target value in a float-typed export; 0.5 is no whole number, and a
        # plain cast would truncate it to 0.
        as_float = column.cast(pl.Float64, strict=False)
        whole = as_float.cast(target, strict=False)
        return pl.when(as_float == as_float.round()).then(whole).otherwise(None).alias(name)
    return column.cast(target, strict=False).alias(name)


def _uncastable(
    raw: pl.DataFrame, dtypes: dict[str, pl.DataType], source: Path | FrameSource
) -> UserError | None:
    """The first column whose type cannot become the schema's at all (a list, an object)."""
    for name, target in dtypes.items():
        try:
            raw.select(_cast(name, raw.schema[name], target))
        except pl.exceptions.PolarsError:
            expected = "numbers" if target.is_numeric() else "text"
            return UserError(
                f"{source}: column '{name}' holds {raw.schema[name]}; expected {expected}"
            )
    return None


def _non_finite_to_null(frame: pl.DataFrame, path: Path | FrameSource) -> pl.DataFrame:
    """inf and NaN are no measurement: read as missing, as an empty field is, and counted."""
    floats = [c for c in frame.columns if frame.schema[c].is_float()]
    counts = frame.select((pl.col(floats).is_nan() | pl.col(floats).is_infinite()).sum()).row(0)
    changed = {c: n for c, n in zip(floats, counts, strict=True) if n}
    for column, n in changed.items():
        log.warning("%s: column '%s': %d inf or NaN values read as missing", path, column, n)
    return frame.with_columns(
        pl.when(pl.col(c).is_nan() | pl.col(c).is_infinite())
        .then(None)
        .otherwise(pl.col(c))
        .alias(c)
        for c in changed
    )


def _warn_empty_columns(frame: pl.DataFrame, path: Path | FrameSource) -> None:
    """A feature column with no value at all is worth a line; an empty train-only column (the
    real iddx_5 nearly always is) is not, as it never becomes a feature."""
    empty = [
        c
        for c in frame.columns
        if frame[c].null_count() == frame.height and c not in schema.TRAIN_ONLY_COLUMNS
    ]
    if empty:
        log.warning("%s: no value in any row of column %s", path, ", ".join(map(repr, empty)))


def _check_parsed(
    raw: pl.DataFrame, frame: pl.DataFrame, path: Path | FrameSource, rows: Rows
) -> None:
    """A value present in the file that became null did not parse."""
    lost = [c for c in frame.columns if frame[c].null_count() > raw[c].null_count()]
    for name in lost:
        failed = (frame[name].is_null() & raw[name].is_not_null()).arg_true()
        for index in failed:
            value = raw[name][index]
            if _is_infinite(value):
                continue
            expected = "a number" if frame.schema[name].is_numeric() else frame.schema[name]
            raise UserError(
                f"{path}: column '{name}', data row {rows.data_row(index)}: "
                f"cannot read {str(value)!r} as {expected}"
            )


def _is_infinite(value) -> bool:
    try:
        return abs(float(value)) == float("inf")
    except (TypeError, ValueError):
        return False


def _check_ids(frame: pl.DataFrame, path: Path | FrameSource, rows: Rows) -> None:
    for column in ("isic_id", "patient_id"):
        nulls = frame[column].is_null().arg_true()
        if nulls.len():
            raise UserError(
                f"{path}: column '{column}', data row {rows.data_row(nulls[0])}: value is missing"
            )
    duplicated = frame["isic_id"].is_duplicated().arg_true()
    if duplicated.len():
        value = frame["isic_id"][duplicated[0]]
        numbers = ", ".join(str(rows.data_row(i)) for i in duplicated[:2])
        raise UserError(
            f"{path}: column 'isic_id': {value!r} appears more than once (data rows {numbers})"
        )


def _warn_repeated_columns(frame: pl.DataFrame, path: Path | FrameSource) -> None:
    """Real files carry faults: the first test release had tbp_lv_stdLExt equal to tbp_lv_Lext."""
    numeric = [c for c in frame.columns if schema.BY_NAME[c].role == schema.NUMERIC]
    sums = frame.select(pl.col(numeric).sum()).row(0)
    candidates: dict[float, list[str]] = {}
    for name, total in zip(numeric, sums, strict=True):
        candidates.setdefault(total, []).append(name)
    for names in candidates.values():
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                if frame[first].equals(frame[second]):
                    log.warning(
                        "%s: column '%s' merely repeats column '%s'; its values are suspect",
                        path,
                        second,
                        first,
                    )
