"""Test lesions that are training lesions: counted by hand on small frames."""

from __future__ import annotations

import logging

import polars as pl

from features.overlap import warn_train_overlap

TRAIN = pl.DataFrame({"isic_id": ["I1", "I2", "I3", "I4"], "patient_id": ["P1", "P1", "P2", "P3"]})


def _warnings(test: pl.DataFrame, caplog) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        warn_train_overlap(test, TRAIN, "test.csv", "train.csv")
    return [r.getMessage() for r in caplog.records]


def test_disjoint_files_say_nothing(caplog):
    test = pl.DataFrame({"isic_id": ["T1", "T2"], "patient_id": ["Q1", "Q2"]})
    assert _warnings(test, caplog) == []


def test_shared_lesions_and_patients_each_get_a_line(caplog):
    # T3 and I2 are train lesions (patients P1 and P2); T9 is a new lesion of train patient P3.
    test = pl.DataFrame(
        {"isic_id": ["T1", "I3", "I2", "T9"], "patient_id": ["Q1", "P2", "P1", "P3"]}
    )
    lesions, patients = _warnings(test, caplog)
    assert lesions.startswith(
        "test.csv: 2 of its lesions are also training lesions in train.csv (first: I3); "
        "their scores are in-sample"
    )
    assert patients.startswith(
        "test.csv: 3 of its patients also have lesions in train.csv (first: P2)"
    )


def test_a_new_lesion_of_a_train_patient_is_a_patient_line_only(caplog):
    test = pl.DataFrame({"isic_id": ["T1", "T2"], "patient_id": ["P3", "P3"]})
    (line,) = _warnings(test, caplog)
    assert line.startswith("test.csv: 1 of its patients also have lesions in train.csv (first: P3)")
