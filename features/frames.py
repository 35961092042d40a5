"""DataFrames given where a data file is read: a Polars or pandas frame goes through the same
checks and casts as a file, and every message names it ("train frame") where it would name the
file.

A reader calls `as_source` on what it was given and reads a `Path` or a `FrameSource`; the
frame's content hash stands in for a file's SHA-256 in what a run records about its inputs.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import polars as pl

from features.errors import UserError, first_line

if TYPE_CHECKING:
    import pandas as pd

# What every reader takes: a CSV or Parquet path, or a frame of the file's rows.
DataInput: TypeAlias = "str | os.PathLike[str] | pl.DataFrame | pd.DataFrame | FrameSource"

# What converting a pandas frame raises for columns Arrow cannot type (mixed objects, repeated
# names); pyarrow's own errors subclass these.
_CONVERSION_ERRORS = (pl.exceptions.PolarsError, TypeError, ValueError, NotImplementedError)


@dataclass(frozen=True, eq=False)
class FrameSource:
    """A frame given instead of a file; `name` is what messages call it ("train frame")."""

    frame: pl.DataFrame
    name: str

    def __str__(self) -> str:
        return self.name


def as_source(value: Any, name: str) -> Path | FrameSource:
    """A path for a path (str or os.PathLike), a `FrameSource` called `name` for a Polars or
    pandas frame (pandas converted here, once), a `FrameSource` as given."""
    if isinstance(value, FrameSource):
        return value
    if isinstance(value, str | os.PathLike):
        return Path(value)
    if isinstance(value, pl.DataFrame):
        return FrameSource(value, name)
    if _is_pandas(value):
        return FrameSource(_from_pandas(value, name), name)
    raise UserError(
        f"{name}: expected a file path or a Polars or pandas DataFrame, got {type(value).__name__}"
    )


def is_frame(value: Any) -> bool:
    """Whether `value` is a frame a reader takes instead of a file."""
    return isinstance(value, pl.DataFrame | FrameSource) or _is_pandas(value)


def frame_sha256(frame: pl.DataFrame) -> str:
    """The SHA-256 of the frame's content: its height, and each column's name, type, missing
    values and values, in order. The same however the rows are split into chunks and wherever
    the frame came from: Arrow IPC bytes would not do, as they carry whatever a source left
    under a missing value (pandas NaN, Polars 0) and in the unused bits of a null mask."""
    digest = hashlib.sha256(f"rows {frame.height}\n".encode())
    for series in frame.rechunk().iter_columns():
        digest.update(f"{len(series.name)} {series.name} {series.dtype}\n".encode())
        digest.update(series.is_null().to_numpy().tobytes())
        for block in _value_bytes(series):
            digest.update(block)
    return digest.hexdigest()


def describe_frame(frame: pl.DataFrame) -> dict[str, Any]:
    """What a run records about a frame it read, as it records a file's path and hash."""
    return {"rows": frame.height, "columns": frame.columns, "sha256": frame_sha256(frame)}


def _value_bytes(series: pl.Series) -> list[bytes]:
    """A column's values as bytes that depend on them alone: 0, False or "" under a missing
    value; text as each value's byte length, then the bytes of them all."""
    dtype = series.dtype
    if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum):
        text = series.cast(pl.String).fill_null("")
        lengths = text.str.len_bytes().cast(pl.UInt64).to_numpy()
        return [lengths.tobytes(), text.str.join("").item().encode()]
    if dtype.is_integer() or dtype.is_float() or dtype.is_temporal() or dtype == pl.Boolean:
        return [series.to_physical().fill_null(strategy="zero").to_numpy().tobytes()]
    # No reader makes other types (lists, decimals); their Arrow IPC bytes are the best at hand.
    buffer = io.BytesIO()
    series.to_frame().write_ipc(
        buffer, compression="uncompressed", compat_level=pl.CompatLevel.oldest()
    )
    return [buffer.getvalue()]


def _is_pandas(value: Any) -> bool:
    # pandas is optional: when it was never imported, `value` cannot be one of its frames.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _from_pandas(frame: pd.DataFrame, name: str) -> pl.DataFrame:
    """A pandas frame as Polars reads it: a 'category' column becomes Categorical, strings
    String, NaN in a float column null; the index is not a column."""
    try:
        return pl.from_pandas(frame)
    except _CONVERSION_ERRORS as error:
        raise UserError(
            f"{name}: cannot convert the pandas DataFrame ({first_line(error)}); expected "
            "uniquely named columns of numbers or text"
        ) from None
