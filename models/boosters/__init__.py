"""The three gradient-boosting libraries behind one small protocol: `Booster.fit` on a
`Matrix` returns a `Fitted` model that predicts and saves its native file. One adapter per
library (its fixed parameters, input conversion, early stopping on the ISIC score, native
save and load), the registry by name, and the device check. Imports only `evaluation`."""

from models.boosters.device import check_device, device_problem
from models.boosters.early_stopping import (
    EveryKScore,
    choose_rounds,
    clamp_rounds,
    until_patience_runs_out,
)
from models.boosters.protocol import Booster, FitSettings, Fitted, Matrix
from models.boosters.registry import (
    BOOSTERS,
    SEARCH_SPACES,
    booster,
    load_model_bytes,
    model_bytes,
)

__all__ = [
    "BOOSTERS",
    "SEARCH_SPACES",
    "Booster",
    "EveryKScore",
    "FitSettings",
    "Fitted",
    "Matrix",
    "booster",
    "check_device",
    "choose_rounds",
    "clamp_rounds",
    "device_problem",
    "load_model_bytes",
    "model_bytes",
    "until_patience_runs_out",
]
