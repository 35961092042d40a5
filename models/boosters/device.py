"""Where the boosting runs: `[training] device = "cpu" | "cuda"`, checked up front.

Asking for "cuda" on a machine without a usable GPU is a user error before anything is
written: XGBoost would otherwise fall back to the CPU with a warning and CatBoost would fail
deep inside the first fit. LightGBM's PyPI wheels are built without CUDA; when the installed
build lacks it, LightGBM stays on the CPU and a log line says so (the GPU still carries XGBoost
and CatBoost).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import warnings
from collections.abc import Iterator, Sequence

import numpy as np

from features.errors import UserError

log = logging.getLogger(__name__)

DEVICES = ("cpu", "cuda")


def check_device(device: str, model_names: Sequence[str]) -> None:
    """Raise a one-line UserError when `device` cannot be honoured here; log where each
    library will run otherwise."""
    problem = device_problem(device, model_names)
    if problem is not None:
        raise UserError(problem)
    if device == "cuda" and "lgbm" in model_names and not lgbm_has_cuda():
        log.info(
            "training.device = 'cuda': this LightGBM build has no CUDA support, so LightGBM "
            "trains on the CPU; XGBoost and CatBoost train on the GPU"
        )


def device_problem(device: str, model_names: Sequence[str]) -> str | None:
    """Why `device` cannot be used on this machine, or None. Cheap: a device count and, for
    XGBoost, a one-round fit on a tiny matrix."""
    if device == "cpu":
        return None
    if device not in DEVICES:
        return f"training.device is '{device}'; expected one of {', '.join(DEVICES)}"
    if cuda_device_count() == 0:
        return (
            "training.device = 'cuda' but no CUDA GPU is visible on this machine; "
            "set training.device = 'cpu' or run where a GPU is"
        )
    if "xgb" in model_names and not xgb_uses_cuda():
        return (
            "training.device = 'cuda' but this XGBoost cannot train on the GPU "
            "(CPU-only build or driver too old); install a CUDA build or set device = 'cpu'"
        )
    return None


def cuda_device_count() -> int:
    """GPUs CatBoost can see (CatBoost is always installed, and asks the CUDA driver)."""
    from catboost.utils import get_gpu_device_count

    with _quiet_stderr():
        return int(get_gpu_device_count())


@functools.cache
def xgb_uses_cuda() -> bool:
    """Whether XGBoost really trains on the GPU: it silently moves to the CPU when it cannot,
    so a one-round fit reports the device it ended up on."""
    import xgboost as xgb

    rows = np.arange(8, dtype=np.float32).reshape(4, 2)
    matrix = xgb.DMatrix(rows, label=[0, 1, 0, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitted = xgb.train({"device": "cuda", "tree_method": "hist"}, matrix, 1)
        except xgb.core.XGBoostError:
            return False
    used = json.loads(fitted.save_config())["learner"]["generic_param"]["device"]
    return used.startswith("cuda")


@functools.cache
def lgbm_has_cuda() -> bool:
    """Whether the installed LightGBM was built with its CUDA tree learner."""
    import lightgbm as lgb

    rows = np.arange(40, dtype=np.float64).reshape(20, 2)
    data = lgb.Dataset(rows, label=np.arange(20) % 2)
    params = {"device_type": "cuda", "verbosity": -1, "objective": "binary"}
    # A build without CUDA prints a fatal line on the C side before raising; that is the
    # answer we asked for, not something to show the user.
    with _quiet_stderr():
        try:
            lgb.train(params, data, num_boost_round=1)
        except lgb.basic.LightGBMError:
            return False
    return True


def lgbm_device(device: str) -> str:
    """LightGBM's `device_type` for a requested device (see the module docstring)."""
    return "cuda" if device == "cuda" and lgbm_has_cuda() else "cpu"


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (C libraries write there directly) for a probe."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
