"""The GPU switch: each adapter puts its library's device parameters in, `device = "cuda"`
without a GPU fails up front with one line, and CatBoost's GPU early stopping (staged
predictions after boosting) chooses its rounds as the metric hook does."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from features.errors import UserError
from models.boosters import FitSettings, Matrix, cat, device, lgbm, until_patience_runs_out, xgb
from models.config import load_config
from models.evaluation import isic_pauc
from tests.conftest import FAST_TOML, REPO, fast_config

NO_GPU = device.cuda_device_count() == 0


def _settings(device_name: str, **changes) -> FitSettings:
    values = dict(
        max_rounds=60,
        early_stopping_rounds=20,
        min_rounds=10,
        eval_every=5,
        smoothing_rounds=10,
        threads=1,
        device=device_name,
    )
    return FitSettings(**{**values, **changes})


def test_adapters_put_the_device_parameters_in(monkeypatch):
    on_gpu, on_cpu = _settings("cuda"), _settings("cpu")
    assert xgb.train_params({}, 1, on_gpu)["device"] == "cuda"
    assert "device" not in xgb.train_params({}, 1, on_cpu)
    assert cat.train_params({}, 1, on_gpu)["task_type"] == "GPU"
    assert "task_type" not in cat.train_params({}, 1, on_cpu)
    # LightGBM follows its build: CUDA when it has it, otherwise the CPU (and a log line).
    monkeypatch.setattr(device, "lgbm_has_cuda", lambda: True)
    assert lgbm.train_params({}, 1, on_gpu)["device_type"] == "cuda"
    assert "device_type" not in lgbm.train_params({}, 1, on_cpu)
    monkeypatch.setattr(device, "lgbm_has_cuda", lambda: False)
    assert "device_type" not in lgbm.train_params({}, 1, on_gpu)


def test_lightgbm_without_cuda_says_it_stays_on_the_cpu(monkeypatch, caplog):
    monkeypatch.setattr(device, "device_problem", lambda *_: None)
    monkeypatch.setattr(device, "lgbm_has_cuda", lambda: False)
    with caplog.at_level("INFO"):
        device.check_device("cuda", ["lgbm", "xgb"])
    assert "LightGBM trains on the CPU" in caplog.text


@pytest.mark.skipif(not NO_GPU, reason="a GPU is visible here")
def test_cuda_without_a_gpu_is_a_user_error_before_anything_is_written(tmp_path):
    with pytest.raises(UserError, match="no CUDA GPU is visible"):
        device.check_device("cuda", ["lgbm", "xgb", "cat"])
    config = tmp_path / "gpu.toml"
    config.write_text(FAST_TOML.replace("threads = 1", 'threads = 1\ndevice = "cuda"'))
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.train_gbdt", "--config", str(config), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "training.device = 'cuda'" in lines[0], result.stderr
    assert not out.exists() and not out.with_name("run.partial").exists()


def test_unknown_device_is_a_config_error(tmp_path):
    overlay = tmp_path / "tpu.toml"
    overlay.write_text('[training]\ndevice = "tpu"\n')
    with pytest.raises(UserError, match="training.device is 'tpu'"):
        load_config(overlay)


def test_patience_cut_matches_what_early_stopping_would_see():
    rounds = [5, 10, 15, 20, 25, 30, 35]
    values = [0.1, 0.3, 0.2, 0.25, 0.2, 0.28, 0.5]
    # Best at 10; 20 rounds later (30) patience has run out, so 30 is the last point seen.
    assert until_patience_runs_out(rounds, values, 20) == (rounds[:6], values[:6])
    assert until_patience_runs_out(rounds, values, 100) == (rounds, values)


def test_catboost_staged_early_stopping_picks_a_good_round(small_data):
    """The GPU path's round choice, run on the CPU (only the task type differs)."""
    from features.build import build_features, fit_spec

    config = fast_config()
    train = small_data[0]
    spec = fit_spec(train, config.features.families, config.features.categoricals)
    built = build_features(train, spec)
    x = Matrix(built.frame, built.names, built.categorical, built.frame["target"].to_numpy())
    patients = built.frame["patient_id"].to_numpy()
    first = np.isin(patients, np.unique(patients)[::2])
    fit_rows, valid_rows = x.take(np.flatnonzero(first)), x.take(np.flatnonzero(~first))
    settings = _settings("cpu")
    full = cat.train_params(config.models.params("cat"), 3, settings)
    staged = cat.fit_staged(full, fit_rows, valid_rows, settings)
    assert settings.min_rounds <= staged.rounds <= settings.max_rounds
    assert isic_pauc(valid_rows.y, staged.predict(valid_rows)) > 0.05
