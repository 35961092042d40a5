"""Compose the feature builders into one lazy Polars plan.

`fit_spec` learns, on train only, what must be fixed across patients (category levels) and is
stored in the run; `build_features` applies it to any frame, train or test, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from features import encode, lesion, patient, schema
from features.errors import UserError
from features.registry import CATEGORICAL, Feature

RAW_FAMILY = "raw"
FAMILIES = (RAW_FAMILY, lesion.FAMILY, patient.NORM_FAMILY, patient.COUNT_FAMILY)
KEY_COLUMNS = ("isic_id", "patient_id")
# Constant within a patient, so a within-patient z-score of it is always null.
_NOT_PATIENT_NORMALISED = ("age_approx",)


@dataclass(frozen=True)
class FeatureSpec:
    families: tuple[str, ...]
    categoricals: tuple[str, ...]
    levels: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "families": list(self.families),
            "categoricals": list(self.categoricals),
            "levels": self.levels,
        }

    @classmethod
    def from_dict(cls, table: dict) -> FeatureSpec:
        return cls(tuple(table["families"]), tuple(table["categoricals"]), dict(table["levels"]))


@dataclass(frozen=True)
class Built:
    frame: pl.DataFrame  # key columns, target when present, then the features
    names: list[str]  # every model input, categoricals included
    categorical: list[str]  # the pl.Enum columns among them


def registry(families: tuple[str, ...] | list[str]) -> list[Feature]:
    """Every feature of the enabled families, in build order."""
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise UserError(
            f"config features.families: unknown family '{unknown[0]}'; "
            f"expected some of {', '.join(FAMILIES)}"
        )
    features = [
        Feature(name, RAW_FAMILY, pl.col(name), f"The TBP measurement {name} as recorded.")
        for name in schema.NUMERIC_COLUMNS
    ]
    if lesion.FAMILY in families:
        features += lesion.LESION_FEATURES
    if patient.NORM_FAMILY in families:
        bases = [f.name for f in features if f.kind != CATEGORICAL]
        features += patient.norm_features([b for b in bases if b not in _NOT_PATIENT_NORMALISED])
    if patient.COUNT_FAMILY in families:
        features += patient.count_features()
    return features


def fit_spec(train: pl.DataFrame, families: list[str], categoricals: list[str]) -> FeatureSpec:
    """Learn on train what must be fixed across patients: the category levels."""
    for column in categoricals:
        if column not in schema.CATEGORY_LEVELS:
            raise UserError(
                f"config features.categoricals: '{column}' is not a categorical column of the "
                f"schema; expected some of {', '.join(schema.CATEGORY_LEVELS)}"
            )
    derived = [f for f in registry(families) if f.kind == CATEGORICAL]
    frame = train.select(*categoricals, *(f.expr.alias(f.name) for f in derived))
    levels = encode.fit_levels(frame, frame.columns)
    return FeatureSpec(tuple(families), tuple(categoricals), levels)


def build_features(frame: pl.DataFrame, spec: FeatureSpec) -> Built:
    """Model inputs for `frame` (train or test) under a fitted spec, in one lazy plan."""
    features = registry(spec.families)
    numeric = [f for f in features if f.kind != CATEGORICAL]
    derived_categorical = [f for f in features if f.kind == CATEGORICAL]
    stage_one = [f for f in numeric if f.family in (RAW_FAMILY, lesion.FAMILY)]
    stage_two = [f for f in numeric if f not in stage_one]
    keys = [c for c in (*KEY_COLUMNS, "target") if c in frame.columns]
    categorical = [*spec.categoricals, *(f.name for f in derived_categorical)]
    plan = (
        frame.lazy()
        .with_columns(
            f.expr.alias(f.name)
            for f in (*stage_one, *derived_categorical)
            if f.family != RAW_FAMILY
        )
        .with_columns(f.expr.alias(f.name) for f in stage_two)
        .select(
            *keys,
            *(_finite_float32(f.name) for f in numeric),
            *encode.encode({name: spec.levels[name] for name in categorical}),
        )
    )
    built = plan.collect()
    return Built(built, [f.name for f in numeric] + categorical, categorical)


def describe(families: tuple[str, ...] | list[str]) -> list[dict[str, str]]:
    """Name, family, kind and one-line doc of every feature, for manifests and reports."""
    return [f.describe() for f in registry(families)]


def _finite_float32(name: str) -> pl.Expr:
    value = pl.col(name).cast(pl.Float32)
    return pl.when(value.is_finite()).then(value).otherwise(None).alias(name)
