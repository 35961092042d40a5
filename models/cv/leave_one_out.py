"""Leave-one-group-out training: every configured model trained without each group of a
column in turn and scored on it (for `attribution`: train without each hospital and score it,
since the real test set has a hospital that train never saw)."""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np

from models.blend import rank_mean
from models.boosters import Matrix
from models.config import Config
from models.cv.plan import Executor, TaskData, run_plan
from models.cv.sampling import derive_seed
from models.cv.tasks import FitTask, fit_settings, fit_task
from models.evaluation import MIN_MALIGNANT_FOR_SCORE, enough_to_score, isic_pauc

log = logging.getLogger(__name__)
# Keys of the leave-one-group-out seeds, apart from the CV tasks' (repeat, fold) keys.
_LOO_KEY = 7_919


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
    inside it. Groups with fewer than `MIN_MALIGNANT_FOR_SCORE` malignant rows (or no benign
    row) are listed with a null score and not trained for: a score on so few is meaningless.

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
        if not enough_to_score(y[held]):
            entry["pauc"] = None
            log.info(
                "leave-one-out %s: skipped, it has fewer than %d malignant rows (or no benign row)",
                level,
                MIN_MALIGNANT_FOR_SCORE,
            )
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
