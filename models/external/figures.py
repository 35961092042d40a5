"""The evaluation's figures, each with its patient-bootstrap interval (`models.evaluation`):
discrimination of every score column, operating points at thresholds fixed on the run's
out-of-fold scores and chosen on the cohort, calibration and net benefit of the submitted
probability, and the score per subgroup."""

from __future__ import annotations

from typing import Any

import numpy as np

from models.evaluation import (
    WANTED_SENSITIVITIES,
    calibration,
    decision_curve,
    discrimination,
    group_summary,
    operating_point,
    threshold_for_sensitivity,
)

OOF = "oof"
COHORT = "cohort"


def figures(
    y: np.ndarray,
    patients: np.ndarray,
    scores: dict[str, np.ndarray],
    *,
    probability: np.ndarray,
    is_probability: bool,
    oof: tuple[np.ndarray, np.ndarray] | None,
    groups: dict[str, np.ndarray],
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    """`evaluation.json`'s figure keys. `scores`: column -> score of each row; `probability`:
    the column that operating points, calibration, net benefit and groups read (a probability
    when `is_probability`, else calibration and net benefit are left out); `oof`: the run's
    out-of-fold labels and probabilities on the same scale, to fix thresholds on (None: chosen
    on the cohort only); `groups`: grouping -> each row's group."""
    out: dict[str, Any] = dict(discrimination(y, scores, patients, n_boot, seed))
    out["operating_points"] = operating_points(y, probability, patients, oof, n_boot, seed)
    if is_probability:
        out["calibration"] = calibration(y, probability, patients, n_boot, seed)
        out["decision_curve"] = decision_curve(y, probability)
    else:
        out["calibration"], out["decision_curve"] = None, []
    p_or_none = probability if is_probability else None
    out["groups"] = {
        name: group_summary(y, probability, p_or_none, patients, labels, n_boot, seed)
        for name, labels in groups.items()
    }
    return out


def operating_points(
    y: np.ndarray,
    probability: np.ndarray,
    patients: np.ndarray,
    oof: tuple[np.ndarray, np.ndarray] | None,
    n_boot: int,
    seed: int,
) -> list[dict[str, Any]]:
    """For each wanted sensitivity, the cohort's operating point at the threshold the run's
    out-of-fold scores give it (what a deployment fixes before it meets the cohort), then at
    the one the cohort itself gives it."""
    points = []
    for wanted in WANTED_SENSITIVITIES:
        chosen = [] if oof is None else [(OOF, threshold_for_sensitivity(*oof, wanted))]
        chosen.append((COHORT, threshold_for_sensitivity(y, probability, wanted)))
        for where, threshold in chosen:
            point = operating_point(y, probability, patients, threshold, n_boot, seed)
            points.append({"wanted": wanted, "chosen_on": where, **point})
    return points
