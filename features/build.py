"""Compose the feature builders into one lazy Polars plan.

`fit_spec` learns, on train only, what must be fixed across patients (category levels,
population norms) and is stored in the run; `build_features` applies it to any frame, train or
test, the same way. Expression features run in one lazy plan (lesion features, then patient
windows over them); frame steps (numpy or scikit-learn) run on its result, and one final
select stores every numeric feature as finite-or-null Float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from features import encode, image_scores, lesion, neighbours, patient, population, schema, visit
from features.errors import UserError
from features.registry import CATEGORICAL, Feature, FrameStep

RAW_FAMILY = "raw"
FAMILIES = (
    RAW_FAMILY,
    lesion.FAMILY,
    patient.NORM_FAMILY,
    patient.COUNT_FAMILY,
    patient.GROUP_NORM_FAMILY,
    patient.RANK_FAMILY,
    patient.LOO_FAMILY,
    patient.OUTLIER_FAMILY,
    neighbours.FAMILY,
    patient.CONTEXT_FAMILY,
    visit.FAMILY,
    population.FAMILY,
)
_EXPRESSION_FAMILIES = {
    patient.GROUP_NORM_FAMILY: patient.group_norm_features,
    patient.RANK_FAMILY: patient.rank_features,
    patient.LOO_FAMILY: patient.loo_features,
    patient.OUTLIER_FAMILY: patient.outlier_features,
    patient.CONTEXT_FAMILY: patient.context_features,
    visit.FAMILY: visit.visit_features,
}
_FRAME_FAMILIES = {
    neighbours.FAMILY: neighbours.neighbour_step,
    population.FAMILY: population.population_step,
}
KEY_COLUMNS = ("isic_id", "patient_id")


@dataclass(frozen=True)
class FeatureSpec:
    families: tuple[str, ...]
    categoricals: tuple[str, ...]
    levels: dict[str, list[str]] = field(default_factory=dict)
    # Population norms (features.population), learned on train; empty when that family is off.
    population: dict = field(default_factory=dict)
    # Image-model scores (features.image_scores): the score columns and their population
    # norms, learned on train; empty for a run trained without scores.
    image: dict = field(default_factory=dict)

    @property
    def image_columns(self) -> tuple[str, ...]:
        """The score file columns the run's image features are built from."""
        return tuple(self.image.get("columns", ()))

    def to_dict(self) -> dict:
        return {
            "families": list(self.families),
            "categoricals": list(self.categoricals),
            "levels": self.levels,
            "population": self.population,
            "image": self.image,
        }

    @classmethod
    def from_dict(cls, table: dict) -> FeatureSpec:
        return cls(
            tuple(table["families"]),
            tuple(table["categoricals"]),
            dict(table["levels"]),
            dict(table.get("population") or {}),
            dict(table.get("image") or {}),
        )


@dataclass(frozen=True)
class Built:
    frame: pl.DataFrame  # key columns, target when present, then the features
    names: list[str]  # every model input, categoricals included
    categorical: list[str]  # the pl.Enum columns among them


def registry(
    families: tuple[str, ...] | list[str], image_columns: tuple[str, ...] | list[str] = ()
) -> list[Feature]:
    """Every feature of the enabled families, in build order; the `image` family's last, one
    set per score column, when the run has image scores."""
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise UserError(
            f"config features.families: unknown family '{unknown[0]}'; "
            f"expected some of {', '.join(FAMILIES)}"
        )
    features = [
        Feature(name, RAW_FAMILY, pl.col(name), f"{schema.DESCRIPTIONS[name]}, as recorded.")
        for name in schema.NUMERIC_COLUMNS
    ]
    if lesion.FAMILY in families:
        features += lesion.LESION_FEATURES
    if patient.NORM_FAMILY in families:
        bases = [f.name for f in features if f.kind != CATEGORICAL]
        features += patient.norm_features(bases)
    if patient.COUNT_FAMILY in families:
        features += patient.count_features()
    for family in FAMILIES:
        if family in families and family in _EXPRESSION_FAMILIES:
            features += _EXPRESSION_FAMILIES[family]()
        if family in families and family in _FRAME_FAMILIES:
            features += _FRAME_FAMILIES[family]().features
    if image_columns:
        features += image_scores.image_features(image_columns)
        features += image_scores.image_step(image_columns).features
    return features


def frame_steps(
    families: tuple[str, ...] | list[str], image_columns: tuple[str, ...] | list[str] = ()
) -> list[FrameStep]:
    """The enabled families' numpy and scikit-learn steps, in build order."""
    steps = [_FRAME_FAMILIES[f]() for f in FAMILIES if f in families and f in _FRAME_FAMILIES]
    return steps + ([image_scores.image_step(image_columns)] if image_columns else [])


def fit_spec(
    train: pl.DataFrame,
    families: list[str],
    categoricals: list[str],
    image_columns: tuple[str, ...] | list[str] = (),
) -> FeatureSpec:
    """Learn on train what must be fixed across patients: the category levels and, when that
    family is on, the population norms; with `image_columns` (score columns attached to
    `train` by `features.image_scores.attach`), their population norms. Never the label."""
    for column in categoricals:
        if column not in schema.CATEGORY_LEVELS:
            raise UserError(
                f"config features.categoricals: '{column}' is not a categorical column of the "
                f"schema; expected some of {', '.join(schema.CATEGORY_LEVELS)}"
            )
    derived = [f for f in registry(families) if f.kind == CATEGORICAL]
    frame = train.select(*categoricals, *(f.expr.alias(f.name) for f in derived))
    levels = encode.fit_levels(frame, frame.columns)
    norms = population.fit_norms(train) if population.FAMILY in families else {}
    image = image_scores.fit_norms(train, image_columns) if image_columns else {}
    return FeatureSpec(tuple(families), tuple(categoricals), levels, norms, image)


def build_features(frame: pl.DataFrame, spec: FeatureSpec) -> Built:
    """Model inputs for `frame` (train or test) under a fitted spec, in one lazy plan."""
    features = registry(spec.families, spec.image_columns)
    steps = frame_steps(spec.families, spec.image_columns)
    from_steps = {name for step in steps for name in step.names}
    numeric = [f for f in features if f.kind != CATEGORICAL]
    derived_categorical = [f for f in features if f.kind == CATEGORICAL]
    stage_one = [f for f in numeric if f.family in (RAW_FAMILY, lesion.FAMILY)]
    stage_two = [f for f in numeric if f not in stage_one and f.name not in from_steps]
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
    )
    if steps:
        built = plan.collect()
        plan = built.hstack([c for step in steps for c in _run_step(step, built, spec)]).lazy()
    final = plan.select(
        *keys,
        *(_finite_float32(f.name) for f in numeric),
        *encode.encode({name: spec.levels[name] for name in categorical}),
    )
    return Built(final.collect(), [f.name for f in numeric] + categorical, categorical)


def describe(
    families: tuple[str, ...] | list[str], image_columns: tuple[str, ...] | list[str] = ()
) -> list[dict[str, str]]:
    """Name, family, kind and one-line doc of every feature, for manifests and reports."""
    return [f.describe() for f in registry(families, image_columns)]


def _run_step(step: FrameStep, frame: pl.DataFrame, spec: FeatureSpec) -> list[pl.Series]:
    out = step.compute(frame, spec)
    if out.columns != step.names or out.height != frame.height:
        raise RuntimeError(f"frame step {step.family} returned {out.columns} x {out.height}")
    return out.get_columns()


def _finite_float32(name: str) -> pl.Expr:
    value = pl.col(name).cast(pl.Float32)
    return pl.when(value.is_finite()).then(value).otherwise(None).alias(name)
