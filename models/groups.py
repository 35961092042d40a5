"""Where the models fail: out-of-fold scores per group of a categorical column, and
leave-one-group-out training (for `attribution`: train without each hospital in turn and score
it, since the real test set has a hospital that train never saw)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from models.blend import rank_mean
from models.config import Config
from models.cv import fit_one, fit_settings
from models.gbdt import Matrix
from models.metric import isic_pauc
from models.sampling import derive_seed

log = logging.getLogger(__name__)
MISSING_GROUP = "<missing>"
# Keys of the leave-one-group-out seeds, apart from the CV tasks' (repeat, fold) keys.
_LOO_KEY = 7_919


def group_labels(frame: pl.DataFrame, column: str, source: str) -> np.ndarray:
    """`column` of `frame` as strings, a null as its own group; a user error when it is absent
    or not categorical (a string, Enum, Categorical or Boolean column)."""
    if column not in frame.columns:
        raise UserError(f"{source}: column '{column}' is not in the training data")
    series = frame[column]
    if not (
        series.dtype in (pl.String, pl.Boolean)
        or isinstance(series.dtype, pl.Enum | pl.Categorical)
    ):
        raise UserError(
            f"{source}: column '{column}' is {series.dtype}; expected a categorical column "
            "(string or category)"
        )
    return series.cast(pl.String).fill_null(MISSING_GROUP).to_numpy()


def scores_by_group(
    y: np.ndarray, scores: dict[str, np.ndarray], groups: np.ndarray
) -> dict[str, dict[str, Any]]:
    """For every group (sorted): rows, malignant rows, and each score's ISIC pAUC on the
    group's rows (None for a group without both classes)."""
    out = {}
    for level in sorted(set(groups.tolist())):
        rows = groups == level
        out[level] = {
            "n_rows": int(rows.sum()),
            "n_positive": int(y[rows].sum()),
            "pauc": {name: _pauc_or_none(y[rows], values[rows]) for name, values in scores.items()},
        }
    return out


def leave_one_group_out(
    x: Matrix, patient_ids: np.ndarray, groups: np.ndarray, config: Config, ensemble: str
) -> dict[str, dict[str, Any]]:
    """Train every configured model (all bags) on all groups but one, score the held-out group,
    for each group in turn. The ensemble (`ensemble` is its name in the output) ranks each
    model's scores within the held-out group: a group's ISIC score depends only on the order
    inside it. Groups without a malignant row are listed but not trained for."""
    y = np.asarray(x.y)
    settings = fit_settings(config)
    names = list(config.models.names)
    out = {}
    for index, level in enumerate(sorted(set(groups.tolist()))):
        held = groups == level
        entry: dict[str, Any] = {"n_rows": int(held.sum()), "n_positive": int(y[held].sum())}
        out[level] = entry
        if entry["n_positive"] == 0 or entry["n_positive"] == entry["n_rows"]:
            entry["pauc"] = None
            log.info("leave-one-out %s: skipped, it has no malignant (or no benign) row", level)
            continue
        train_rows = np.flatnonzero(~held)
        valid = x.take(np.flatnonzero(held))
        scores = {}
        for m, name in enumerate(names):
            bags = []
            for bag in range(config.training.bags):
                seed = derive_seed(config.seed, _LOO_KEY, index, m, bag)
                shared = derive_seed(config.seed, _LOO_KEY, index, m)
                fitted = fit_one(
                    x,
                    patient_ids,
                    train_rows,
                    name,
                    seed,
                    config,
                    settings,
                    bag=bag,
                    partition_seed=shared,
                )
                bags.append(fitted.predict(valid))
            scores[name] = np.mean(bags, axis=0)
        scores[ensemble] = rank_mean(scores, scores)
        entry["pauc"] = {name: isic_pauc(y[held], values) for name, values in scores.items()}
        log.info(
            "leave-one-out %s: %d lesions, %d malignant, ensemble pAUC %.4f",
            level,
            entry["n_rows"],
            entry["n_positive"],
            entry["pauc"][ensemble],
        )
    return out


def _pauc_or_none(y: np.ndarray, scores: np.ndarray) -> float | None:
    if y.size == 0 or y.min() == y.max():
        return None
    return isic_pauc(y, scores)
