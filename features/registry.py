"""One registry of named, documented features, so the build, the manifest, the report and the
ablation all read the same list.

Most features are one Polars expression. A few need numpy or scikit-learn (a shrunk covariance,
a nearest-neighbour search): those come in a `FrameStep`, a function from the frame built so far
to new columns, whose columns are still registered one by one with a name and a doc.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

NUMERIC = "numeric"
CATEGORICAL = "categorical"


@dataclass(frozen=True)
class Feature:
    name: str
    family: str
    expr: pl.Expr
    doc: str
    kind: str = NUMERIC

    def describe(self) -> dict[str, str]:
        return {"name": self.name, "family": self.family, "kind": self.kind, "doc": self.doc}


@dataclass(frozen=True)
class FrameStep:
    """Columns that no single expression can build: `compute(frame, spec)` returns a frame of
    exactly `features`' columns, row-aligned with `frame`. It must use only each patient's own
    rows and what `spec` learned on train."""

    family: str
    features: tuple[Feature, ...]
    compute: Callable[[pl.DataFrame, Any], pl.DataFrame]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]


def frame_feature(name: str, family: str, doc: str) -> Feature:
    """A feature a `FrameStep` computes; after the step it is read as a plain column."""
    return Feature(name=name, family=family, expr=pl.col(name), doc=doc)


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """A quotient that is null, not inf or NaN, where the denominator is zero or missing."""
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(None)
