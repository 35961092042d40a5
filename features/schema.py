"""The SLICE-3D columns: names, Polars dtypes, roles and categorical levels.

Column order follows the real Kaggle files. Categorical columns are read as strings; they
become `pl.Enum` in `features.encode`, with the levels listed here plus any seen in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

ID = "id"
PATIENT = "patient"
TARGET = "target"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
CONSTANT = "constant"
PROVENANCE = "provenance"
TRAIN_ONLY = "train_only"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    role: str
    in_test: bool = True
    levels: tuple[str, ...] = ()


SEX_LEVELS = ("female", "male")
SITE_LEVELS = (
    "anterior torso",
    "head/neck",
    "lower extremity",
    "posterior torso",
    "upper extremity",
)
TILE_TYPE_LEVELS = ("3D: XP", "3D: white")
LOCATION_LEVELS = (
    "Head & Neck",
    "Left Arm",
    "Left Arm - Lower",
    "Left Arm - Upper",
    "Left Leg",
    "Left Leg - Lower",
    "Left Leg - Upper",
    "Right Arm",
    "Right Arm - Lower",
    "Right Arm - Upper",
    "Right Leg",
    "Right Leg - Lower",
    "Right Leg - Upper",
    "Torso Back",
    "Torso Back Bottom Third",
    "Torso Back Middle Third",
    "Torso Back Top Third",
    "Torso Front",
    "Torso Front Bottom Half",
    "Torso Front Top Half",
    "Unknown",
)
LOCATION_SIMPLE_LEVELS = (
    "Head & Neck",
    "Left Arm",
    "Left Leg",
    "Right Arm",
    "Right Leg",
    "Torso Back",
    "Torso Front",
    "Unknown",
)
ATTRIBUTION_LEVELS = (
    "ACEMID MIA",
    "Department of Dermatology, Hospital Clínic de Barcelona",
    "Department of Dermatology, University of Athens, Andreas Syggros Hospital of Skin and "
    "Venereal Diseases, Alexander Stratigos, Konstantinos Liopyris",
    "Frazer Institute, The University of Queensland, Dermatology Research Centre",
    "Memorial Sloan Kettering Cancer Center",
    "University Hospital of Basel",
    "ViDIR Group, Department of Dermatology, Medical University of Vienna",
)
LICENSE_LEVELS = ("CC-0", "CC-BY", "CC-BY-NC")
IMAGE_TYPE = "TBP tile: close-up"

# The tbp_lv_* measurements in the order of the real files.
TBP_MEASUREMENTS = (
    "tbp_lv_A", "tbp_lv_Aext", "tbp_lv_B", "tbp_lv_Bext", "tbp_lv_C", "tbp_lv_Cext",
    "tbp_lv_H", "tbp_lv_Hext", "tbp_lv_L", "tbp_lv_Lext", "tbp_lv_areaMM2",
    "tbp_lv_area_perim_ratio", "tbp_lv_color_std_mean", "tbp_lv_deltaA", "tbp_lv_deltaB",
    "tbp_lv_deltaL", "tbp_lv_deltaLB", "tbp_lv_deltaLBnorm", "tbp_lv_eccentricity",
)  # fmt: skip
TBP_MEASUREMENTS_2 = (
    "tbp_lv_minorAxisMM", "tbp_lv_nevi_confidence", "tbp_lv_norm_border", "tbp_lv_norm_color",
    "tbp_lv_perimeterMM", "tbp_lv_radial_color_std_max", "tbp_lv_stdL", "tbp_lv_stdLExt",
    "tbp_lv_symm_2axis", "tbp_lv_symm_2axis_angle", "tbp_lv_x", "tbp_lv_y", "tbp_lv_z",
)  # fmt: skip

_F = pl.Float64
_S = pl.String

TRAIN_COLUMNS: tuple[Column, ...] = (
    Column("isic_id", _S, ID),
    Column("target", pl.Int8, TARGET, in_test=False),
    Column("patient_id", _S, PATIENT),
    Column("age_approx", _F, NUMERIC),
    Column("sex", _S, CATEGORICAL, levels=SEX_LEVELS),
    Column("anatom_site_general", _S, CATEGORICAL, levels=SITE_LEVELS),
    Column("clin_size_long_diam_mm", _F, NUMERIC),
    Column("image_type", _S, CONSTANT, levels=(IMAGE_TYPE,)),
    Column("tbp_tile_type", _S, CATEGORICAL, levels=TILE_TYPE_LEVELS),
    *(Column(name, _F, NUMERIC) for name in TBP_MEASUREMENTS),
    Column("tbp_lv_location", _S, CATEGORICAL, levels=LOCATION_LEVELS),
    Column("tbp_lv_location_simple", _S, CATEGORICAL, levels=LOCATION_SIMPLE_LEVELS),
    *(Column(name, _F, NUMERIC) for name in TBP_MEASUREMENTS_2),
    Column("attribution", _S, PROVENANCE, levels=ATTRIBUTION_LEVELS),
    Column("copyright_license", _S, PROVENANCE, levels=LICENSE_LEVELS),
    Column("lesion_id", _S, TRAIN_ONLY, in_test=False),
    Column("iddx_full", _S, TRAIN_ONLY, in_test=False),
    Column("iddx_1", _S, TRAIN_ONLY, in_test=False),
    Column("iddx_2", _S, TRAIN_ONLY, in_test=False),
    Column("iddx_3", _S, TRAIN_ONLY, in_test=False),
    Column("iddx_4", _S, TRAIN_ONLY, in_test=False),
    Column("iddx_5", _S, TRAIN_ONLY, in_test=False),
    Column("mel_mitotic_index", _S, TRAIN_ONLY, in_test=False),
    Column("mel_thick_mm", _F, TRAIN_ONLY, in_test=False),
    Column("tbp_lv_dnn_lesion_confidence", _F, TRAIN_ONLY, in_test=False),
)

BY_NAME: dict[str, Column] = {c.name: c for c in TRAIN_COLUMNS}
TRAIN_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in TRAIN_COLUMNS)
TEST_COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in TRAIN_COLUMNS if c.in_test)
TRAIN_ONLY_COLUMNS: tuple[str, ...] = tuple(c.name for c in TRAIN_COLUMNS if not c.in_test)
NUMERIC_COLUMNS: tuple[str, ...] = tuple(c.name for c in TRAIN_COLUMNS if c.role == NUMERIC)
# What each numeric column measures, in the words of the challenge's data description (L*A*B*
# colour space: L* lightness, A* green to red, B* blue to yellow); the registry, and through it
# the feature report and the manifest, show them.
DESCRIPTIONS: dict[str, str] = {
    "age_approx": "Approximate age of the patient at imaging",
    "clin_size_long_diam_mm": "Longest diameter of the lesion (mm)",
    "tbp_lv_A": "A* (green to red) inside the lesion",
    "tbp_lv_Aext": "A* (green to red) of the skin around the lesion",
    "tbp_lv_B": "B* (blue to yellow) inside the lesion",
    "tbp_lv_Bext": "B* (blue to yellow) of the skin around the lesion",
    "tbp_lv_C": "Chroma (colour saturation) inside the lesion",
    "tbp_lv_Cext": "Chroma (colour saturation) of the skin around the lesion",
    "tbp_lv_H": "Hue inside the lesion (about 25 red to 75 brown)",
    "tbp_lv_Hext": "Hue of the skin around the lesion",
    "tbp_lv_L": "L* (lightness) inside the lesion",
    "tbp_lv_Lext": "L* (lightness) of the skin around the lesion",
    "tbp_lv_areaMM2": "Area of the lesion (mm²)",
    "tbp_lv_area_perim_ratio": "Border jaggedness: perimeter against area (round lesions low)",
    "tbp_lv_color_std_mean": "Colour irregularity: colour variance within the lesion's border",
    "tbp_lv_deltaA": "A* contrast between the lesion and the skin around it",
    "tbp_lv_deltaB": "B* contrast between the lesion and the skin around it",
    "tbp_lv_deltaL": "L* contrast between the lesion and the skin around it",
    "tbp_lv_deltaLB": "Contrast in L* and B* between the lesion and the skin around it",
    "tbp_lv_deltaLBnorm": "Contrast with the skin around it (faint freckles low, dark moles high)",
    "tbp_lv_eccentricity": "Eccentricity of the lesion's outline (0 a circle)",
    "tbp_lv_minorAxisMM": "Smallest diameter of the lesion (mm)",
    "tbp_lv_nevi_confidence": "A neural network's confidence (0 to 100) that the lesion is a nevus",
    "tbp_lv_norm_border": "Border irregularity (0 to 10): jaggedness and asymmetry together",
    "tbp_lv_norm_color": "Colour variation (0 to 10): colour asymmetry and irregularity together",
    "tbp_lv_perimeterMM": "Perimeter of the lesion (mm)",
    "tbp_lv_radial_color_std_max": "Colour asymmetry (0 to 10) across rings from the centre",
    "tbp_lv_stdL": "Spread of L* (lightness) inside the lesion",
    "tbp_lv_stdLExt": "Spread of L* (lightness) of the skin around the lesion",
    "tbp_lv_symm_2axis": "Border asymmetry (0 to 10) about the second axis of symmetry",
    "tbp_lv_symm_2axis_angle": "Angle of the lesion's principal axis of symmetry",
    "tbp_lv_x": "x coordinate of the lesion on the 3D body model",
    "tbp_lv_y": "y coordinate of the lesion on the 3D body model",
    "tbp_lv_z": "z coordinate of the lesion on the 3D body model",
}

# Columns with a fixed vocabulary that may be model inputs (provenance only by config choice).
CATEGORY_LEVELS: dict[str, tuple[str, ...]] = {
    c.name: c.levels for c in TRAIN_COLUMNS if c.role in (CATEGORICAL, PROVENANCE)
}


def schema_for(names: tuple[str, ...] | list[str]) -> dict[str, pl.DataType]:
    """Polars dtypes for the given known column names, in the given order."""
    return {name: BY_NAME[name].dtype for name in names}


def train_schema() -> dict[str, pl.DataType]:
    return schema_for(TRAIN_COLUMN_NAMES)


def test_schema() -> dict[str, pl.DataType]:
    return schema_for(TEST_COLUMN_NAMES)
