"""Categorical columns as `pl.Enum` with fixed levels: the schema's levels plus any seen in
training, stored in the run. A level never seen in training (the real test set's
`FNQH Cairns`) becomes null rather than a new code, so codes mean the same at predict time."""

from __future__ import annotations

import logging

import polars as pl

from features import schema

log = logging.getLogger(__name__)


def fit_levels(train: pl.DataFrame, columns: list[str]) -> dict[str, list[str]]:
    """Levels per categorical column: the schema's first, then new ones from train, sorted."""
    levels = {}
    for column in columns:
        known = list(schema.CATEGORY_LEVELS.get(column, ()))
        seen = train[column].drop_nulls().unique().sort().to_list()
        levels[column] = known + [level for level in seen if level not in set(known)]
    return levels


def encode(columns: dict[str, list[str]]) -> list[pl.Expr]:
    """Expressions that turn each string column into its `pl.Enum`; unseen levels become null."""
    return [
        pl.when(pl.col(name).is_in(levels))
        .then(pl.col(name))
        .otherwise(None)
        .cast(pl.Enum(levels))
        .alias(name)
        for name, levels in columns.items()
    ]


def warn_unseen(frame: pl.DataFrame, columns: dict[str, list[str]]) -> None:
    """Log each level of `frame` that training never saw: such lesions are scored as if the
    value were missing, which a user scoring a new hospital should know."""
    for name, levels in columns.items():
        if name not in frame.columns:
            continue
        values = frame[name].drop_nulls()
        unseen = values.filter(~values.is_in(levels)).value_counts(sort=True)
        for level, count in unseen.iter_rows():
            log.warning(
                "%s '%s' (%d lesions) was never seen in training: scored as a missing value",
                name,
                level,
                count,
            )
