"""Leave-one-group-out training: each group scored by models that never saw it."""

from __future__ import annotations

from models.cv import ProcessPool, leave_one_group_out
from models.evaluation import MIN_MALIGNANT_FOR_SCORE
from tests.conftest import fast_config


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
    # The small data hold a hospital with one malignant lesion: listed, with no score.
    assert any(0 < e["n_positive"] < MIN_MALIGNANT_FOR_SCORE for e in here.values())
    for level, entry in here.items():
        held = groups == level
        assert entry["n_rows"] == int(held.sum())
        assert entry["n_positive"] == int(x.y[held].sum())
        if entry["n_positive"] < MIN_MALIGNANT_FOR_SCORE:
            assert entry["pauc"] is None
        else:
            assert set(entry["pauc"]) == {"lgbm", "xgb", "ensemble"}
            assert all(0.0 <= v <= 0.2 for v in entry["pauc"].values())
