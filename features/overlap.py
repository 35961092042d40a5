"""Test lesions that are training lesions. A test file holding the train file's lesions is
scored as if they were new: the files were mixed up, or the cohort is not held out. Patients
never span train and test in the Kaggle data, so a shared patient is worth a line too. Both are
warnings, not errors: scoring such a file is still possible, only its scores are not what they
seem."""

from __future__ import annotations

import logging

import polars as pl

log = logging.getLogger(__name__)


def warn_train_overlap(test: pl.DataFrame, train: pl.DataFrame, test_source, train_source) -> None:
    """One WARNING line for test lesions (`isic_id`) that are also in `train`, with their count
    and the first one, and one for test patients (`patient_id`) who also have lesions there."""
    shared = test.filter(pl.col("isic_id").is_in(train["isic_id"].implode()))["isic_id"]
    if shared.len():
        log.warning(
            "%s: %d of its lesions are also training lesions in %s (first: %s); their scores "
            "are in-sample, not predictions for unseen lesions",
            test_source,
            shared.len(),
            train_source,
            shared[0],
        )
    patients = (
        test.select("patient_id")
        .unique(maintain_order=True)
        .filter(pl.col("patient_id").is_in(train["patient_id"].implode()))["patient_id"]
    )
    if patients.len():
        log.warning(
            "%s: %d of its patients also have lesions in %s (first: %s); in the Kaggle data no "
            "patient spans train and test, so the files may be mixed up or the cohort not held "
            "out",
            test_source,
            patients.len(),
            train_source,
            patients[0],
        )
