"""Tests for reports/univariate.py: the lossless summary scores exactly as the full column does
(scikit-learn and the project's metric on every row), and each feature's direction, median fill
and level rates."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from features.registry import CATEGORICAL, Feature
from models.evaluation import isic_pauc
from reports.univariate import BY_LEVEL, HIGHER, LOWER, lossless_summary, univariate_scores


@pytest.mark.parametrize("seed", range(25))
def test_summary_scores_like_every_row(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 4000))
    y = (rng.random(n) < rng.uniform(0.005, 0.3)).astype(np.int64)
    y[:2] = [0, 1]
    # Rounded, so that malignant and benign values tie often.
    s = np.round(rng.normal(size=n) + rng.uniform(0, 2) * y, int(rng.integers(0, 3)))
    s = s.astype(np.float32)
    labels, values, weights = lossless_summary(y, s)
    assert labels.size <= 3 * np.unique(s[y == 1]).size + 1
    assert weights.sum() == n
    for sign in (1, -1):
        assert isic_pauc(labels, sign * values, sample_weight=weights) == pytest.approx(
            isic_pauc(y, sign * s), abs=1e-12
        )
        assert roc_auc_score(labels, sign * values, sample_weight=weights) == pytest.approx(
            roc_auc_score(y, sign * s), abs=1e-12
        )


def _feature(name: str, kind: str = "numeric") -> Feature:
    return Feature(name, "test", pl.col(name), f"doc of {name}", kind)


def test_scores_direction_fill_and_levels():
    rng = np.random.default_rng(3)
    n = 3000
    y = (rng.random(n) < 0.05).astype(np.int64)
    up = rng.normal(size=n) + 1.5 * y
    down = rng.normal(size=n) - 1.0 * y
    with_nulls = np.where(rng.random(n) < 0.2, np.nan, up)
    site = np.where(y == 1, rng.choice(["a", "b"], n, p=[0.8, 0.2]), rng.choice(["a", "b"], n))
    frame = pl.DataFrame(
        {
            "up": up.astype(np.float32),
            "down": down.astype(np.float32),
            "with_nulls": pl.Series(with_nulls.astype(np.float32)).fill_nan(None),
            "site": pl.Series(site).cast(pl.Enum(["a", "b"])),
            "empty": pl.Series([None] * n, dtype=pl.Float32),
        }
    )
    features = [
        _feature("up"),
        _feature("down"),
        _feature("with_nulls"),
        _feature("site", CATEGORICAL),
        _feature("empty"),
    ]
    scores = {s.name: s for s in univariate_scores(frame, features, y)}

    up32 = frame["up"].to_numpy()
    assert scores["up"].direction == HIGHER
    assert scores["up"].auc == pytest.approx(roc_auc_score(y, up32), abs=1e-12)
    assert scores["up"].pauc == pytest.approx(isic_pauc(y, up32), abs=1e-12)
    assert scores["down"].direction == LOWER
    down32 = frame["down"].to_numpy()
    assert scores["down"].auc == pytest.approx(roc_auc_score(y, -down32), abs=1e-12)
    assert scores["down"].pauc == pytest.approx(isic_pauc(y, -down32), abs=1e-12)

    # A missing value counts as the column's median.
    column = frame["with_nulls"]
    filled = column.fill_null(column.median()).to_numpy()
    assert scores["with_nulls"].missing == pytest.approx(column.null_count() / n)
    assert scores["with_nulls"].auc == pytest.approx(roc_auc_score(y, filled), abs=1e-12)

    # A level scores as its malignant rate: a plain loop over the levels.
    rate = {level: y[site == level].mean() for level in ("a", "b")}
    by_rate = np.array([rate[level] for level in site])
    assert scores["site"].direction == BY_LEVEL
    assert scores["site"].auc == pytest.approx(roc_auc_score(y, by_rate), abs=1e-12)

    assert scores["empty"].pauc is None and scores["empty"].missing == 1.0


def test_the_feature_table_puts_a_feature_without_a_score_last():
    from features.build import Built
    from reports.features import features_section

    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(np.int64)
    frame = pl.DataFrame(
        {
            "target": y,
            "empty": pl.Series([None] * y.size, dtype=pl.Float32),
            "weak": rng.normal(size=y.size).astype(np.float32),
            "strong": (rng.normal(size=y.size) + 2 * y).astype(np.float32),
        }
    )
    names = ["empty", "weak", "strong"]
    section = features_section(Built(frame, names, []), [_feature(n) for n in names], seed=0)
    # An all-missing column has no score: it used to sort above every scored feature.
    assert [row["name"] for row in section.tables["features"]] == ["strong", "weak", "empty"]
    assert dict(section.facts)["strongest alone"].startswith("strong (")
