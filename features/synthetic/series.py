"""Column helpers of the generator: unique ids and strings from level codes."""

from __future__ import annotations

import numpy as np
import polars as pl


def ids(rng: np.random.Generator, prefix: str, n: int) -> pl.Series:
    """n unique ids: prefix + 7 digits."""
    if n > 10_000_000:
        raise ValueError(f"cannot draw {n} unique 7-digit ids")
    digits = rng.choice(10_000_000, n, replace=False)
    return pl.select(pl.lit(prefix) + pl.Series(digits).cast(pl.String).str.zfill(7)).to_series()


def strings(levels, codes: np.ndarray) -> pl.Series:
    """levels[codes] as a String series; a negative code is a missing value."""
    idx = pl.Series(codes, dtype=pl.Int64)
    return pl.Series(list(levels), dtype=pl.String).gather(idx.set(idx < 0, None))
