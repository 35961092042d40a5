"""The model adapters by the names used in `--models` and the config."""

from __future__ import annotations

from models.cat import Cat
from models.gbdt import Booster
from models.lgbm import Lgbm
from models.xgb import Xgb

BOOSTERS: dict[str, type] = {"lgbm": Lgbm, "xgb": Xgb, "cat": Cat}


def booster(name: str) -> Booster:
    return BOOSTERS[name]()
