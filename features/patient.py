"""Patient context: each lesion compared with the same patient's other lesions (the "ugly
duckling" a dermatologist looks for).

Statistics come only from the patient's own lesions in the frame being scored, as window
expressions over `patient_id`, so a lesion's features never depend on other patients.

A z-score is null, never NaN or inf, where it has no meaning: a patient with fewer than two
values, or whose values are all equal (no lesion stands out). Unlike the public recipe's
`(x - mean) / (std + 1e-5)` there is no guard that turns near-identical values into huge
z-scores or equal values into a 0 indistinguishable from "average"; with the sample standard
deviation |z| is bounded by (n - 1) / sqrt(n), so it stays finite.
"""

from __future__ import annotations

import polars as pl

from features.registry import Feature

PATIENT = "patient_id"
NORM_FAMILY = "patient_norm"
COUNT_FAMILY = "patient_count"
# Spreads this small against the mean are rounding noise of equal values, not a real spread.
_RELATIVE_NOISE = 1e-9


def zscore(column: str, over: str | list[str] = PATIENT) -> pl.Expr:
    """(x - mean) / std of `column` within each `over` group; null where undefined."""
    value = pl.col(column)
    mean = value.mean().over(over)
    std = value.std().over(over)
    spread = std > _RELATIVE_NOISE * (mean.abs() + 1.0)
    return pl.when(spread).then((value - mean) / std).otherwise(None)


def norm_features(base_columns: list[str]) -> list[Feature]:
    """A within-patient z-score for every numeric base column."""
    return [
        Feature(
            name=f"{column}_patient_z",
            family=NORM_FAMILY,
            expr=zscore(column),
            doc=f"{column} as a z-score among the same patient's lesions.",
        )
        for column in base_columns
    ]


def count_features() -> list[Feature]:
    return [
        Feature(
            name="patient_lesion_count",
            family=COUNT_FAMILY,
            expr=pl.len().over(PATIENT).cast(pl.Float64),
            doc="Number of lesions the patient has in the file.",
        )
    ]
