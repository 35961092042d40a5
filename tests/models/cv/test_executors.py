"""Where fits run: a local process pool and a Dask cluster give the same run as the
in-process loop, bit for bit, and models come back as native bytes."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from features.errors import UserError
from models.cv import DaskCluster, FitTask, TaskData, TaskOutput, fit_settings, run_plan
from pipelines import train_gbdt
from tests.conftest import FAST_TOML, fast_config

ARGS = ["--models", "lgbm,xgb,cat", "--folds", "2"]


def _same_run(first, second) -> None:
    assert (first / "oof.parquet").read_bytes() == (second / "oof.parquet").read_bytes()
    assert pl.read_parquet(first / "oof.parquet").equals(pl.read_parquet(second / "oof.parquet"))
    assert (first / "submission.csv").read_bytes() == (second / "submission.csv").read_bytes()


def _run(small_data_dir, tmp_path, toml: str, *extra: str):
    config = tmp_path / "config.toml"
    config.write_text(toml)
    out = tmp_path / "run"
    args = ["--data-dir", str(small_data_dir), "--out", str(out), "--config", str(config)]
    assert train_gbdt.main([*args, *ARGS, *extra]) == 0
    return out


def test_local_process_pool_matches_the_in_process_run(uninterrupted_run, small_data_dir, tmp_path):
    # Two workers of one thread each: the same threads per fit as the reference run.
    toml = FAST_TOML.replace("threads = 1", "threads = 2\nworkers = 2")
    _same_run(uninterrupted_run, _run(small_data_dir, tmp_path, toml))


def test_dask_cluster_matches_the_in_process_run(uninterrupted_run, small_data_dir, tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="the optional 'distributed' extra is not installed"
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        out = _run(small_data_dir, tmp_path, FAST_TOML, "--cluster", cluster.scheduler_address)
    _same_run(uninterrupted_run, out)


def test_unreachable_cluster_is_a_user_error():
    pytest.importorskip("distributed", reason="the optional 'distributed' extra is not installed")
    with pytest.raises(UserError, match="cannot reach the Dask scheduler"):
        DaskCluster("tcp://127.0.0.1:9", threads=1, timeout="1s")


class _Recorder:
    """An executor that runs tasks in reverse order and sends the models as bytes only."""

    def fit_settings(self, settings):
        return settings

    def run(self, tasks, work, data, settings, on_done):
        for task in reversed(tasks):
            output = work(task, data, settings)
            output.fitted = None
            on_done(output)

    def close(self):
        pass


def test_results_do_not_depend_on_completion_order_and_models_travel_as_bytes(small_data):
    from features.build import build_features, fit_spec
    from models.boosters import Matrix
    from models.cv import cross_validate

    config = fast_config(models={"names": ["lgbm", "cat"]}, cv={"folds": 2})
    train = small_data[0].head(8_000)
    spec = fit_spec(train, config.features.families, config.features.categoricals)
    built = build_features(train, spec)
    x = Matrix(built.frame, built.names, built.categorical, built.frame["target"].to_numpy())
    patients = built.frame["patient_id"].to_numpy()
    ordered = cross_validate(x, patients, config)
    reversed_ = cross_validate(x, patients, config, executor=_Recorder())
    for name in ordered.oof:
        np.testing.assert_array_equal(ordered.oof[name], reversed_.oof[name])
    for a, b in zip(ordered.models, reversed_.models, strict=True):
        assert a.task == b.task and a.fitted.rounds == b.fitted.rounds
        np.testing.assert_array_equal(a.fitted.predict(x), b.fitted.predict(x))


def test_a_stored_fit_for_other_folds_is_refused():
    task = FitTask("lgbm", 0, 0, 0, 1)
    x_frame = pl.DataFrame({"a": np.zeros(4, dtype=np.float32)})
    from models.boosters import Matrix

    data = TaskData(
        Matrix(x_frame, ["a"], [], np.array([0, 1, 0, 1])), np.arange(4), np.array([[0, 0, 1, 1]])
    )

    class Store:
        def load(self, task):
            return TaskOutput(task, np.zeros(2), 1, b"", rows=np.array([0, 2]))

        def save(self, output):
            raise AssertionError("nothing to run")

    with pytest.raises(UserError, match="held-out rows differ"):
        run_plan([task], None, data, fit_settings(fast_config()), store=Store())
