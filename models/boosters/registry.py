"""The adapters by the names used in `--models` and the config, and a fitted model as its
native file's bytes (how a model travels between processes: never a pickled booster)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from models.boosters import cat, lgbm, xgb
from models.boosters.cat import Cat
from models.boosters.lgbm import Lgbm
from models.boosters.protocol import Booster, Fitted
from models.boosters.xgb import Xgb

BOOSTERS: dict[str, type] = {"lgbm": Lgbm, "xgb": Xgb, "cat": Cat}
# Each library's tuning ranges, kept beside its adapter: name -> parameter -> range table.
SEARCH_SPACES: dict[str, dict[str, dict]] = {
    "lgbm": lgbm.SEARCH_SPACE,
    "xgb": xgb.SEARCH_SPACE,
    "cat": cat.SEARCH_SPACE,
}


def booster(name: str) -> Booster:
    return BOOSTERS[name]()


def model_bytes(name: str, fitted: Fitted) -> bytes:
    """The model's native file (`Booster.suffix`), as bytes."""
    return fitted.to_bytes()


def load_model_bytes(name: str, data: bytes, rounds: int) -> Fitted:
    """A model back from `model_bytes`, predicting with `rounds` rounds as when it was fitted."""
    model = booster(name)
    with tempfile.TemporaryDirectory(prefix="tbp-model-") as folder:
        path = Path(folder) / f"model{model.suffix}"
        path.write_bytes(data)
        fitted = model.load(path)
    fitted.rounds = rounds
    return fitted
