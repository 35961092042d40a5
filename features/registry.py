"""One registry of named, documented features, so the build, the manifest, the report and the
ablation all read the same list."""

from __future__ import annotations

from dataclasses import dataclass

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


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """A quotient that is null, not inf or NaN, where the denominator is zero or missing."""
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(None)
