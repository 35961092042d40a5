"""Acquisition context: a lesion imaged at another visit, or with another tile type, than the
rest of its patient's lesions.

On the real SLICE-3D rows a patient's lesions nearly always share one age and one tile type.
Where they do not, the odd ones out are nearly all malignant: in the 5,000 real train rows
(all 393 malignant lesions, 1 % of the benign ones), the lesions photographed at a younger
age than the patient's latest are 55 of 55 malignant, those in the patient's minority tile
type 19 of 21; together 17 % of all malignant lesions. Most likely this is how the data was
assembled (a lesion followed up or referred at another visit), not a property of the skin, so
a clinic's own data need not show it: the family is one switch (docs/features.md, "Acquisition
signals"; what it measured: benchmarks/RESULTS.md, "Real rows decide", rows 10-12).

Only the patient's own lesions in the frame enter, as for every patient feature.
"""

from __future__ import annotations

import polars as pl

from features.patient import PATIENT
from features.registry import Feature

FAMILY = "patient_visit"
_AGE = pl.col("age_approx")


def _f(name: str, expr: pl.Expr, doc: str) -> Feature:
    return Feature(name=name, family=FAMILY, expr=expr.cast(pl.Float64), doc=doc)


def visit_features() -> list[Feature]:
    tile = pl.col("tbp_tile_type")
    tile_share = pl.len().over(PATIENT, "tbp_tile_type") / pl.len().over(PATIENT)
    return [
        _f(
            "age_below_patient_latest",
            _AGE - _AGE.max().over(PATIENT),
            "Years the lesion's age lies below the patient's latest age in the file (0 at the "
            "latest visit; negative for a lesion imaged at an earlier one).",
        ),
        _f(
            "patient_visits",
            _AGE.drop_nulls().n_unique().over(PATIENT),
            "Number of distinct ages (visits) among the patient's lesions.",
        ),
        _f(
            "tile_type_share",
            pl.when(tile.is_not_null()).then(tile_share),
            "Share of the patient's lesions imaged with the lesion's tile type (3D: XP or "
            "3D: white); low for a lesion imaged unlike the patient's others.",
        ),
    ]
