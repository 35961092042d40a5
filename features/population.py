"""Population norms: a lesion's colour and shape as a z-score among lesions of the same hospital
(`attribution`), body location and age band, so that hospitals and body sites are calibrated
against each other. The norms are learned on train without the label, stored in the run's
feature spec, and applied unchanged to any frame, so a lesion's value never depends on which
other patients share the file.

A group too small for a stable norm (fewer than `MIN_COUNT` train lesions) backs off to the
hospital x location norm, then the hospital's, then the whole training set's; a hospital never
seen in train (the real test set's `FNQH Cairns`) gets the whole training set's norm.
"""

from __future__ import annotations

import polars as pl

from features.patient import CONTEXT_COLUMNS
from features.registry import FrameStep, frame_feature

FAMILY = "population_norm"
AGE_BAND = "_age_band"
BAND_YEARS = 10
MIN_COUNT = 50
# From finest to coarsest; the last level (no keys) is the whole training set.
LEVELS: tuple[tuple[str, ...], ...] = (
    ("attribution", "tbp_lv_location", AGE_BAND),
    ("attribution", "tbp_lv_location"),
    ("attribution",),
    (),
)
_KEY_TYPES = {"attribution": pl.String, "tbp_lv_location": pl.String, AGE_BAND: pl.Float64}
_RELATIVE_NOISE = 1e-9


def population_step() -> FrameStep:
    return FrameStep(
        family=FAMILY,
        features=tuple(
            frame_feature(
                f"{column}_population_z",
                FAMILY,
                f"{column} as a z-score among train lesions of the same hospital, body "
                f"location and {BAND_YEARS}-year age band.",
            )
            for column in CONTEXT_COLUMNS
        ),
        compute=lambda frame, spec: apply_norms(frame, spec.population),
    )


def fit_norms(train: pl.DataFrame, columns: tuple[str, ...] = CONTEXT_COLUMNS) -> dict:
    """Count, mean and std of every one of `columns` (the context columns unless other ones
    are named) per group of every level; JSON-safe."""
    frame = train.with_columns(_age_band())
    tables = []
    for keys in LEVELS:
        stats = [pl.len().alias("n")]
        for column in columns:
            stats += [pl.col(column).mean().alias(f"mean:{column}")]
            stats += [pl.col(column).std().alias(f"std:{column}")]
        grouped = frame.group_by(keys).agg(stats) if keys else frame.select(stats)
        grouped = grouped.sort(keys, nulls_last=True) if keys else grouped
        tables.append({"by": list(keys), "rows": grouped.to_dict(as_series=False)})
    return {"min_count": MIN_COUNT, "band_years": BAND_YEARS, "tables": tables}


def apply_norms(
    frame: pl.DataFrame, norms: dict, columns: tuple[str, ...] = CONTEXT_COLUMNS
) -> pl.DataFrame:
    """`<column>_population_z` of every one of `columns` (those `norms` were fitted on),
    row-aligned with `frame`."""
    plan = frame.lazy().select(
        "attribution", "tbp_lv_location", _age_band(norms["band_years"]), *columns
    )
    for level, table in enumerate(norms["tables"]):
        keys = table["by"]
        schema = {k: _KEY_TYPES[k] for k in keys}
        schema.update({name: pl.Float64 for name in table["rows"] if name not in schema})
        stats = pl.DataFrame(table["rows"], schema=schema).rename(
            {name: f"{name}@{level}" for name in table["rows"] if name not in keys}
        )
        if keys:
            plan = plan.join(
                stats.lazy(), on=keys, how="left", nulls_equal=True, maintain_order="left"
            )
        else:
            plan = plan.join(stats.lazy(), how="cross", maintain_order="left")
    levels = range(len(norms["tables"]))
    # The whole training set's norm is the last resort, however few lesions it had.
    usable = [pl.col(f"n@{level}") >= norms["min_count"] for level in levels[:-1]]
    usable.append(pl.lit(True))

    def chosen(stat: str, column: str) -> pl.Expr:
        return pl.coalesce(
            pl.when(ok).then(pl.col(f"{stat}:{column}@{level}"))
            for level, ok in zip(levels, usable, strict=True)
        )

    def z(column: str) -> pl.Expr:
        mean, std = chosen("mean", column), chosen("std", column)
        spread = std > _RELATIVE_NOISE * (mean.abs() + 1.0)
        value = pl.when(spread).then((pl.col(column) - mean) / std).otherwise(None)
        return value.alias(f"{column}_population_z")

    return plan.select(z(column) for column in columns).collect()


def _age_band(years: int = BAND_YEARS) -> pl.Expr:
    return ((pl.col("age_approx") // years) * years).cast(pl.Float64).alias(AGE_BAND)
