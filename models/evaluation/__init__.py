"""How good a ranking is: the ISIC 2024 score (partial AUC above 80 % sensitivity), patient-
bootstrap intervals and paired differences, the verdict of one ranking against another, top-15
retrieval, scores per fold or per group of rows, and a labelled cohort's clinical figures
(operating points, calibration, net benefit, subgroups). It imports nothing else of `models/`:
every other room scores through it."""

from models.evaluation.clinical import (
    LOGIT_CLIP,
    WANTED_SENSITIVITIES,
    calibration,
    decision_curve,
    discrimination,
    group_summary,
    operating_point,
    quantile_bins,
    reliability_table,
    threshold_for_sensitivity,
)
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
    AGE_BAND,
    MIN_MALIGNANT_FOR_SCORE,
    MISSING_GROUP,
    age_band,
    enough_to_score,
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
from models.evaluation.resample import PatientResamples
from models.evaluation.summary import oof_metrics

__all__ = [
    "AGE_BAND",
    "BETTER",
    "KEY_COLUMNS",
    "LOGIT_CLIP",
    "MIN_MALIGNANT_FOR_SCORE",
    "MISSING_GROUP",
    "WANTED_SENSITIVITIES",
    "WITHIN_NOISE",
    "WORSE",
    "Comparison",
    "PatientResamples",
    "age_band",
    "aligned",
    "calibration",
    "compare_scores",
    "decision_curve",
    "discrimination",
    "enough_to_score",
    "fold_scores",
    "group_labels",
    "group_summary",
    "isic_pauc",
    "oof_metrics",
    "operating_point",
    "paired_bootstrap_diff",
    "patient_bootstrap_ci",
    "patient_codes",
    "pauc_or_none",
    "quantile_bins",
    "reliability_table",
    "scores_by_group",
    "threshold_for_sensitivity",
    "top15_retrieval",
    "verdict",
]
