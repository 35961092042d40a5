"""Where the models fail: out-of-fold scores per group of a categorical column, and
leave-one-group-out training (for `attribution`: train without each hospital in turn and score
it, since the real test set has a hospital that train never saw)."""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from models.blend import rank_mean
from models.config import Config
from models.cv import FitTask, fit_settings, fit_task
from models.execution import Executor, TaskData, run_plan
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
    x: Matrix,
    patient_ids: np.ndarray,
    groups: np.ndarray,
    config: Config,
    ensemble: str,
    *,
    executor: Executor | None = None,
) -> dict[str, dict[str, Any]]:
    """Train every configured model (all bags) on all groups but one, score the held-out group,
    for each group in turn. The ensemble (`ensemble` is its name in the output) ranks each
    model's scores within the held-out group: a group's ISIC score depends only on the order
    inside it. Groups without a malignant row are listed but not trained for.

    Each (group, library, bag) is a fit task like a cross-validation fold's, with the groups
    as the folds, so it runs wherever the run's `executor` runs them."""
    y = np.asarray(x.y)
    levels, codes = np.unique(groups, return_inverse=True)
    out: dict[str, dict[str, Any]] = {}
    trained = []
    for index, level in enumerate(levels.tolist()):
        held = codes == index
        entry: dict[str, Any] = {"n_rows": int(held.sum()), "n_positive": int(y[held].sum())}
        out[level] = entry
        if entry["n_positive"] in (0, entry["n_rows"]):
            entry["pauc"] = None
            log.info("leave-one-out %s: skipped, it has no malignant (or no benign) row", level)
        else:
            trained.append(index)
    names = list(config.models.names)
    # Seeds keyed apart from the CV tasks' (repeat, fold) keys.
    tasks = [
        FitTask(name, 0, index, bag, derive_seed(config.seed, _LOO_KEY, index, m, bag))
        for index in trained
        for m, name in enumerate(names)
        for bag in range(config.training.bags)
    ]
    work = functools.partial(fit_task, config=config, seed_key=_LOO_KEY)
    data = TaskData(x, patient_ids, codes[np.newaxis, :])
    # A task's "fold" is the group it holds out.
    outputs = run_plan(
        tasks, work, data, fit_settings(config), executor=executor, label="leave-one-out"
    )
    for index in trained:
        level, held = levels[index], codes == index
        scores = {
            name: np.mean(
                [outputs[t.stem].scores for t in tasks if t.fold == index and t.model == name],
                axis=0,
            )
            for name in names
        }
        scores[ensemble] = rank_mean(scores, scores)
        out[level]["pauc"] = {n: isic_pauc(y[held], values) for n, values in scores.items()}
        log.info(
            "leave-one-out %s: %d lesions, %d malignant, ensemble pAUC %.4f",
            level,
            out[level]["n_rows"],
            out[level]["n_positive"],
            out[level]["pauc"][ensemble],
        )
    return out


def _pauc_or_none(y: np.ndarray, scores: np.ndarray) -> float | None:
    if y.size == 0 or y.min() == y.max():
        return None
    return isic_pauc(y, scores)
