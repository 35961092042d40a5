"""Per-lesion colour and shape features: the public recipe's set (see ANCHORS.md), each a named,
documented Polars expression over one row's raw columns.

Divisions are null where the denominator is zero instead of the recipe's `+ 1e-5` guard: the
trees handle a missing value natively, while a guard turns it into an arbitrary huge number.
"""

from __future__ import annotations

import math

import polars as pl

from features.registry import CATEGORICAL, Feature, ratio

FAMILY = "lesion"


def _c(name: str) -> pl.Expr:
    return pl.col(f"tbp_lv_{name}")


_size = pl.col("clin_size_long_diam_mm")
_age = pl.col("age_approx")
_distance_3d = (_c("x") ** 2 + _c("y") ** 2 + _c("z") ** 2).sqrt()
_border_complexity = _c("norm_border") + _c("symm_2axis")
_shape_index = ratio(_c("areaMM2"), _c("perimeterMM") ** 2)
_border_color = _c("norm_border") * _c("norm_color")


def _f(name: str, expr: pl.Expr, doc: str) -> Feature:
    return Feature(name=name, family=FAMILY, expr=expr.cast(pl.Float64), doc=doc)


LESION_FEATURES: tuple[Feature, ...] = (
    _f(
        "lesion_size_ratio",
        ratio(_c("minorAxisMM"), _size),
        "Minor axis over the longest diameter: how elongated the lesion is.",
    ),
    _f(
        "lesion_shape_index",
        _shape_index,
        "Area over squared perimeter: compactness of the outline.",
    ),
    _f(
        "hue_contrast",
        (_c("H") - _c("Hext")).abs(),
        "Hue difference between the lesion and the skin around it.",
    ),
    _f(
        "luminance_contrast",
        (_c("L") - _c("Lext")).abs(),
        "Lightness difference between the lesion and the skin around it.",
    ),
    _f(
        "lesion_color_difference",
        (_c("deltaA") ** 2 + _c("deltaB") ** 2 + _c("deltaL") ** 2).sqrt(),
        "Euclidean colour distance (L*a*b*) between lesion and surrounding skin.",
    ),
    _f("border_complexity", _border_complexity, "Border irregularity plus two-axis asymmetry."),
    _f(
        "color_uniformity",
        ratio(_c("color_std_mean"), _c("radial_color_std_max")),
        "Mean colour variation over the largest radial colour variation.",
    ),
    _f(
        "position_distance_3d",
        _distance_3d,
        "Distance of the lesion from the origin of the 3D body model.",
    ),
    _f(
        "perimeter_to_area_ratio",
        ratio(_c("perimeterMM"), _c("areaMM2")),
        "Perimeter per unit area: ragged or small lesions score high.",
    ),
    _f(
        "area_to_perimeter_ratio",
        ratio(_c("areaMM2"), _c("perimeterMM")),
        "Area per unit perimeter, the inverse of the above.",
    ),
    _f(
        "lesion_visibility_score",
        _c("deltaLBnorm") + _c("norm_color"),
        "Contrast with the skin plus colour variation: how much the lesion stands out.",
    ),
    _f(
        "symmetry_border_consistency",
        _c("symm_2axis") * _c("norm_border"),
        "Asymmetry times border irregularity.",
    ),
    _f(
        "consistency_symmetry_border",
        ratio(_c("symm_2axis") * _c("norm_border"), _c("symm_2axis") + _c("norm_border")),
        "Harmonic-style combination of asymmetry and border irregularity.",
    ),
    _f(
        "color_consistency",
        ratio(_c("stdL"), _c("Lext")),
        "Lightness variation inside the lesion relative to the skin's lightness.",
    ),
    _f(
        "consistency_color",
        ratio(_c("stdL") * _c("Lext"), _c("stdL") + _c("Lext")),
        "Harmonic-style combination of lesion lightness variation and skin lightness.",
    ),
    _f(
        "size_age_interaction", _size * _age, "Diameter times age: large lesions in older patients."
    ),
    _f("hue_color_std_interaction", _c("H") * _c("color_std_mean"), "Hue times colour variation."),
    _f(
        "lesion_severity_index",
        (_c("norm_border") + _c("norm_color") + _c("eccentricity")) / 3,
        "Mean of border irregularity, colour variation and eccentricity.",
    ),
    _f(
        "shape_complexity_index",
        _border_complexity + _shape_index,
        "Border complexity plus compactness.",
    ),
    _f("normalized_lesion_size", ratio(_size, _age), "Diameter per year of age."),
    _f(
        "mean_hue_difference",
        (_c("H") + _c("Hext")) / 2,
        "Mean hue of the lesion and its surrounding skin.",
    ),
    _f(
        "std_dev_contrast",
        ((_c("deltaA") ** 2 + _c("deltaB") ** 2 + _c("deltaL") ** 2) / 3).sqrt(),
        "Root mean square of the three colour contrasts.",
    ),
    _f(
        "color_shape_composite_index",
        (_c("color_std_mean") + _c("area_perim_ratio") + _c("symm_2axis")) / 3,
        "Mean of colour variation, perimeter-area ratio and asymmetry.",
    ),
    _f(
        "lesion_orientation_3d",
        pl.arctan2(_c("y"), _c("x")),
        "Angle of the lesion around the body's vertical axis.",
    ),
    _f(
        "overall_asymmetry_index",
        (_c("symm_2axis") + _c("eccentricity")) / 2,
        "Mean of two-axis asymmetry and eccentricity.",
    ),
    _f(
        "color_contrast_index",
        _c("deltaA") + _c("deltaB") + _c("deltaL") + _c("deltaLBnorm"),
        "Sum of the colour contrasts with the surrounding skin.",
    ),
    _f("log_lesion_area", (_c("areaMM2") + 1).log(), "Log of the lesion area."),
    _f(
        "age_normalized_nevi_confidence",
        ratio(_c("nevi_confidence"), _age),
        "The TBP nevus classifier's confidence per year of age.",
    ),
    _f(
        "age_normalized_nevi_confidence_2",
        (_size**2 + _age**2).sqrt(),
        "Euclidean combination of diameter and age (the recipe's name kept).",
    ),
    _f(
        "color_asymmetry_index",
        _c("radial_color_std_max") * _c("symm_2axis"),
        "Largest radial colour variation times asymmetry.",
    ),
    _f(
        "volume_approximation_3d",
        _c("areaMM2") * _distance_3d,
        "Area times distance from the body model's origin.",
    ),
    _f(
        "color_range",
        (_c("L") - _c("Lext")).abs() + (_c("A") - _c("Aext")).abs() + (_c("B") - _c("Bext")).abs(),
        "Sum of absolute L*, a*, b* differences from the surrounding skin.",
    ),
    _f(
        "shape_color_consistency",
        _c("eccentricity") * _c("color_std_mean"),
        "Eccentricity times colour variation.",
    ),
    _f(
        "border_length_ratio",
        ratio(_c("perimeterMM"), 2 * math.pi * (_c("areaMM2") / math.pi).sqrt()),
        "Perimeter over the circumference of a circle of the same area (1 for a circle).",
    ),
    _f(
        "age_size_symmetry_index",
        _age * _size * _c("symm_2axis"),
        "Age times diameter times asymmetry.",
    ),
    _f(
        "index_age_size_symmetry",
        _age * _c("areaMM2") * _c("symm_2axis"),
        "Age times area times asymmetry.",
    ),
    _f("border_color_interaction", _border_color, "Border irregularity times colour variation."),
    _f(
        "border_color_interaction_2",
        ratio(_border_color, _c("norm_border") + _c("norm_color")),
        "Harmonic-style combination of border irregularity and colour variation.",
    ),
    _f(
        "size_color_contrast_ratio",
        ratio(_size, _c("deltaLBnorm")),
        "Diameter per unit of contrast with the skin.",
    ),
    _f(
        "color_variance_ratio",
        ratio(_c("color_std_mean"), _c("stdLExt")),
        "Colour variation inside the lesion over lightness variation of the skin around it.",
    ),
    Feature(
        name="site_location",
        family=FAMILY,
        kind=CATEGORICAL,
        expr=pl.concat_str(
            [pl.col("anatom_site_general"), pl.col("tbp_lv_location")], separator="_"
        ),
        doc="General anatomical site joined with the TBP location (one category).",
    ),
)
