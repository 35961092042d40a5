"""Patients as dense integer codes: what the metric's bootstrap and the folds both group by."""

from __future__ import annotations

import numpy as np
import polars as pl

from features.errors import UserError


def patient_codes(patient_ids) -> tuple[np.ndarray, int]:
    """Dense integer code per row, numbering the distinct patients in sorted id order.

    A hash join against the sorted distinct ids: far faster than sorting millions of strings.
    """
    ids = patient_ids if isinstance(patient_ids, pl.Series) else pl.Series(values=patient_ids)
    ids = ids.rename("patient_id")
    if ids.null_count():
        raise UserError(
            f"patient_id has {ids.null_count()} missing values; every row needs a patient_id"
        )
    distinct = ids.unique().sort().to_frame().with_row_index("code")
    codes = ids.to_frame().join(distinct, on="patient_id", how="left", maintain_order="left")
    return codes["code"].to_numpy().astype(np.int64, copy=False), distinct.height
