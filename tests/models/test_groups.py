"""Per-group scores and leave-one-group-out, against the metric on hand-picked rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.errors import UserError
from models.execution import ProcessPool
from models.groups import group_labels, leave_one_group_out, scores_by_group
from models.metric import isic_pauc
from tests.conftest import fast_config


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


def test_group_column_must_exist_and_be_categorical():
    frame = pl.DataFrame({"site": ["x", None], "age": [1.0, 2.0]})
    assert group_labels(frame, "site", "train").tolist() == ["x", "<missing>"]
    with pytest.raises(UserError, match="column 'nope' is not in"):
        group_labels(frame, "nope", "train")
    with pytest.raises(UserError, match="expected a categorical column"):
        group_labels(frame, "age", "train")


def test_leave_one_group_out_runs_on_a_pool_with_the_same_result(small_matrix, small_data):
    x, patients = small_matrix
    groups = small_data[0]["attribution"].to_numpy()
    config = fast_config(models={"names": ["lgbm", "xgb"]})
    here = leave_one_group_out(x, patients, groups, config, "ensemble")
    pooled = leave_one_group_out(
        x, patients, groups, config, "ensemble", executor=ProcessPool(2, 1)
    )
    assert pooled == here
    assert set(here) == set(groups.tolist())
    for level, entry in here.items():
        held = groups == level
        assert entry["n_rows"] == int(held.sum())
        assert entry["n_positive"] == int(x.y[held].sum())
        if entry["n_positive"] == 0:
            assert entry["pauc"] is None
        else:
            assert set(entry["pauc"]) == {"lgbm", "xgb", "ensemble"}
            assert all(0.0 <= v <= 0.2 for v in entry["pauc"].values())
