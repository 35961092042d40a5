"""Per-group and per-fold scores, against the metric on hand-picked rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.errors import UserError
from models.evaluation import (
    MIN_MALIGNANT_FOR_SCORE,
    enough_to_score,
    fold_scores,
    group_labels,
    isic_pauc,
    scores_by_group,
)


def test_scores_by_group_are_the_metric_on_each_groups_rows():
    rng = np.random.default_rng(2)
    y = (rng.random(3_000) < 0.05).astype(np.int8)
    groups = np.array(["a", "b", "c"])[np.arange(3_000) % 3]
    y[groups == "c"] = 0  # one group with no malignant row
    s = rng.random(3_000) + y
    out = scores_by_group(y, {"m": s}, groups)
    assert list(out) == ["a", "b", "c"]
    a = groups == "a"
    assert out["a"]["pauc"]["m"] == isic_pauc(y[a], s[a])
    assert out["a"]["n_rows"] == 1_000 and out["a"]["n_positive"] == int(y[a].sum())
    assert out["c"]["pauc"]["m"] is None


def test_a_group_with_fewer_than_five_malignant_lesions_has_no_score():
    rng = np.random.default_rng(3)
    groups = np.repeat(np.array(["four", "five", "all malignant"]), [200, 200, 6])
    y = np.zeros(groups.size, dtype=np.int8)
    y[:4] = 1  # "four": four malignant lesions
    y[200:205] = 1  # "five": five
    y[400:] = 1  # "all malignant": six, and no benign one
    s = rng.random(groups.size) + y
    out = scores_by_group(y, {"m": s}, groups)
    assert MIN_MALIGNANT_FOR_SCORE == 5
    assert out["four"] == {"n_rows": 200, "n_positive": 4, "pauc": {"m": None}}
    assert out["five"]["pauc"]["m"] == isic_pauc(y[200:400], s[200:400])
    assert out["all malignant"]["pauc"]["m"] is None
    assert [enough_to_score(y[groups == g]) for g in ("four", "five", "all malignant")] == [
        False,
        True,
        False,
    ]


def test_group_column_must_exist_and_be_categorical():
    frame = pl.DataFrame({"site": ["x", None], "age": [1.0, 2.0]})
    assert group_labels(frame, "site", "train").tolist() == ["x", "<missing>"]
    with pytest.raises(UserError, match="column 'nope' is not in"):
        group_labels(frame, "nope", "train")
    with pytest.raises(UserError, match="expected a categorical column"):
        group_labels(frame, "age", "train")


def test_fold_scores_are_each_folds_metric_and_nan_for_a_one_class_fold():
    rng = np.random.default_rng(5)
    y = (rng.random(900) < 0.1).astype(np.int8)
    folds = np.arange(900) % 3
    y[folds == 2] = 0
    s = rng.random(900) + y
    values = fold_scores(y, s, folds)
    assert values[:2] == [isic_pauc(y[folds == f], s[folds == f]) for f in (0, 1)]
    assert np.isnan(values[2])
