"""How good a ranking is: the ISIC 2024 score (partial AUC above 80 % sensitivity), patient-
bootstrap intervals and paired differences, the verdict of one ranking against another, top-15
retrieval, and scores per fold or per group of rows. It imports nothing else of `models/`: every
other room scores through it."""

from models.evaluation.compare import (
    BETTER,
    KEY_COLUMNS,
    WITHIN_NOISE,
    WORSE,
    Comparison,
    aligned,
    compare_scores,
    verdict,
)
from models.evaluation.groups import (
    MISSING_GROUP,
    fold_scores,
    group_labels,
    pauc_or_none,
    scores_by_group,
)
from models.evaluation.metric import (
    isic_pauc,
    paired_bootstrap_diff,
    patient_bootstrap_ci,
    top15_retrieval,
)
from models.evaluation.patients import patient_codes
from models.evaluation.summary import oof_metrics

__all__ = [
    "BETTER",
    "KEY_COLUMNS",
    "MISSING_GROUP",
    "WITHIN_NOISE",
    "WORSE",
    "Comparison",
    "aligned",
    "compare_scores",
    "fold_scores",
    "group_labels",
    "isic_pauc",
    "oof_metrics",
    "paired_bootstrap_diff",
    "patient_bootstrap_ci",
    "patient_codes",
    "pauc_or_none",
    "scores_by_group",
    "top15_retrieval",
    "verdict",
]
