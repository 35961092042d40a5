"""Patient context: each lesion compared with the same patient's other lesions (the "ugly
duckling" a dermatologist looks for).

Statistics come only from the patient's own lesions in the frame being scored, as window
expressions over `patient_id`, so a lesion's features never depend on other patients.

A z-score is null, never NaN or inf, where it has no meaning: a patient with fewer than two
values, or whose values are all equal (no lesion stands out). Unlike the public recipe's
`(x - mean) / (std + 1e-5)` there is no guard that turns near-identical values into huge
z-scores or equal values into a 0 indistinguishable from "average"; with the sample standard
deviation |z| is bounded by (n - 1) / sqrt(n), so it stays finite. The other statistics here
follow the same rule: a rank needs two values, a leave-one-out z-score three, a robust z-score
a non-zero inter-quartile range. A missing value is left out of its patient's statistics and
gets a null feature itself.
"""

from __future__ import annotations

import polars as pl

from features.registry import Feature, ratio

PATIENT = "patient_id"
NORM_FAMILY = "patient_norm"
COUNT_FAMILY = "patient_count"
GROUP_NORM_FAMILY = "patient_group_norm"
RANK_FAMILY = "patient_rank"
LOO_FAMILY = "patient_loo"
OUTLIER_FAMILY = "patient_outlier"
CONTEXT_FAMILY = "patient_context"
# Spreads this small against the mean are rounding noise of equal values, not a real spread.
_RELATIVE_NOISE = 1e-9
# A one-pass variance carries rounding of about 1e-8 of the mean: spreads below this are none.
_ONE_PASS_NOISE = 1e-6
# Removing one lesion from the sums leaves rounding of about 1e-15 of the sum of squares.
_LOO_NOISE = 1e-10

# The colour and shape block a dermatologist compares across a patient's lesions (the ABCD
# measurements and the TBP machine's own nevus score); the context families work on it.
CONTEXT_COLUMNS = (
    "clin_size_long_diam_mm",
    "tbp_lv_areaMM2",
    "tbp_lv_area_perim_ratio",
    "tbp_lv_eccentricity",
    "tbp_lv_norm_border",
    "tbp_lv_symm_2axis",
    "tbp_lv_norm_color",
    "tbp_lv_color_std_mean",
    "tbp_lv_radial_color_std_max",
    "tbp_lv_stdL",
    "tbp_lv_H",
    "tbp_lv_deltaA",
    "tbp_lv_deltaB",
    "tbp_lv_deltaL",
    "tbp_lv_deltaLBnorm",
    "tbp_lv_nevi_confidence",
)
# Within patient x each of these: lesions on one body site, or under one lighting, are compared
# with their own kind (XP and white tiles render colour differently).
GROUPS = {
    "site": "anatom_site_general",
    "locsimple": "tbp_lv_location_simple",
    "tile": "tbp_tile_type",
}
LARGE_DIAMETER_MM = 6.0  # the "D" of the ABCD rule
HIGH_CONTRAST = 12.0  # tbp_lv_deltaLBnorm: about the 95th percentile of real benign lesions


def _sums(value: pl.Expr, over: str | list[str]) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """Count, sum and sum of squares of the group's non-null values.

    Sums, not mean()/std(): Polars' windowed mean can differ in its last bit from one run to
    the next, and a run must rebuild its features bit for bit at predict time. One pass of
    sums is exact enough in float64 for these columns' scales, and every feature built from
    the same column and group shares the same three windows (common subexpressions)."""
    return value.count().over(over), value.sum().over(over), (value * value).sum().over(over)


def zscore(column: str, over: str | list[str] = PATIENT) -> pl.Expr:
    """(x - mean) / std of `column` within each `over` group; null where undefined."""
    value = pl.col(column)
    count, total, squares = _sums(value, over)
    mean = total / count
    variance = (squares - total * mean) / (count - 1)
    std = pl.when(variance > 0).then(variance.sqrt()).otherwise(0.0)
    spread = std > _ONE_PASS_NOISE * (mean.abs() + 1.0)
    return pl.when((count >= 2) & spread).then((value - mean) / std).otherwise(None)


def percentile_rank(column: str, over: str | list[str] = PATIENT) -> pl.Expr:
    """Average rank / count within the group, in (0, 1]; null for a group of one value."""
    value = pl.col(column)
    count = value.count().over(over)
    rank = value.rank("average").over(over)
    return pl.when(count >= 2).then(rank / count).otherwise(None)


def robust_zscore(column: str, over: str | list[str] = PATIENT) -> pl.Expr:
    """(x - median) / inter-quartile range (linear quantiles): the outlier being looked for
    barely moves either; null where the range is zero."""
    value = pl.col(column)
    median = value.median().over(over)
    iqr = (value.quantile(0.75, "linear") - value.quantile(0.25, "linear")).over(over)
    return pl.when(_spread(iqr, median)).then((value - median) / iqr).otherwise(None)


def loo_zscore(column: str, over: str | list[str] = PATIENT) -> pl.Expr:
    """(x - mean of the others) / std of the others: a lesion cannot hide a small patient's
    outlier by inflating the mean and spread itself. Null below three values, and where the
    others' spread is rounding noise: below a millionth of their mean (+1), or their sum of
    squared deviations below 1e-10 of the group's sum of squares."""
    value = pl.col(column)
    count, total, squares = _sums(value, over)
    # The others' sums are the group's minus this lesion's: no second pass over the group.
    others_mean = (total - value) / (count - 1)
    others_m2 = ((squares - value * value) - (total - value) * others_mean).clip(lower_bound=0.0)
    others_std = (others_m2 / (count - 2)).sqrt()
    valid = (
        (count >= 3)
        & (others_std > _ONE_PASS_NOISE * (others_mean.abs() + 1.0))
        & (others_m2 > _LOO_NOISE * squares)
    )
    return pl.when(valid).then((value - others_mean) / others_std).otherwise(None)


def norm_features(base_columns: list[str]) -> list[Feature]:
    """A within-patient z-score for every numeric base column."""
    return [
        Feature(
            name=f"{column}_patient_z",
            family=NORM_FAMILY,
            expr=zscore(column),
            doc=f"{column} as a z-score among the same patient's lesions.",
        )
        for column in base_columns
    ]


def count_features() -> list[Feature]:
    return [
        Feature(
            name="patient_lesion_count",
            family=COUNT_FAMILY,
            expr=pl.len().over(PATIENT).cast(pl.Float64),
            doc="Number of lesions the patient has in the file.",
        )
    ]


def group_norm_features() -> list[Feature]:
    return [
        Feature(
            name=f"{column}_z_patient_{short}",
            family=GROUP_NORM_FAMILY,
            expr=zscore(column, [PATIENT, group]),
            doc=f"{column} as a z-score among the patient's lesions with the same {group}.",
        )
        for short, group in GROUPS.items()
        for column in CONTEXT_COLUMNS
    ]


def rank_features() -> list[Feature]:
    ranks = [
        Feature(
            name=f"{column}_patient_rank",
            family=RANK_FAMILY,
            expr=percentile_rank(column),
            doc=f"Percentile rank (0 to 1) of {column} among the patient's lesions.",
        )
        for column in CONTEXT_COLUMNS
    ]
    robust = [
        Feature(
            name=f"{column}_patient_robust_z",
            family=RANK_FAMILY,
            expr=robust_zscore(column),
            doc=f"{column} minus the patient's median, in units of the patient's IQR.",
        )
        for column in CONTEXT_COLUMNS
    ]
    return ranks + robust


def loo_features() -> list[Feature]:
    return [
        Feature(
            name=f"{column}_patient_loo_z",
            family=LOO_FAMILY,
            expr=loo_zscore(column),
            doc=f"{column} as a z-score against the patient's other lesions only.",
        )
        for column in CONTEXT_COLUMNS
    ]


def outlier_features() -> list[Feature]:
    """How far a lesion stands from its patient over the whole colour and shape block."""
    z = [zscore(column).abs() for column in CONTEXT_COLUMNS]
    defined = pl.sum_horizontal(e.is_not_null() for e in z)

    def when_defined(expr: pl.Expr) -> pl.Expr:
        return pl.when(defined > 0).then(expr).otherwise(None).cast(pl.Float64)

    def beyond(k: float) -> pl.Expr:
        return when_defined(pl.sum_horizontal((e > k).cast(pl.Int32) for e in z))

    def f(name: str, expr: pl.Expr, doc: str) -> Feature:
        return Feature(name=name, family=OUTLIER_FAMILY, expr=expr, doc=doc)

    block = f"the {len(CONTEXT_COLUMNS)} colour and shape columns"
    return [
        f("ugly_beyond_2sd", beyond(2.0), f"How many of {block} put it beyond 2 patient SDs."),
        f("ugly_beyond_3sd", beyond(3.0), f"How many of {block} put it beyond 3 patient SDs."),
        f("ugly_max_abs_z", pl.max_horizontal(z), f"Largest |patient z-score| over {block}."),
        f(
            "ugly_rms_z",
            when_defined((pl.sum_horizontal(e**2 for e in z) / defined).sqrt()),
            f"Euclidean distance from the patient centre over {block} (standardised, RMS).",
        ),
    ]  # fmt: skip


def context_features() -> list[Feature]:
    """The patient as a whole: how many lesions, how much lesion area, how many large or
    high-contrast ones, and age and sex against the lesion's relative size."""
    size, area = pl.col("clin_size_long_diam_mm"), pl.col("tbp_lv_areaMM2")
    site = [PATIENT, "anatom_site_general"]
    size_rank = percentile_rank("clin_size_long_diam_mm")
    male = (pl.col("sex") == "male").cast(pl.Float64)

    def f(name: str, expr: pl.Expr, doc: str) -> Feature:
        return Feature(name=name, family=CONTEXT_FAMILY, expr=expr.cast(pl.Float64), doc=doc)

    return [
        f("patient_total_area", area.sum().over(PATIENT), "Total lesion area of the patient."),
        f(
            "patient_site_area",
            area.sum().over(site),
            "Total lesion area of the patient on the lesion's general anatomical site.",
        ),
        f(
            "patient_site_count",
            pl.len().over(site),
            "Number of the patient's lesions on the lesion's general anatomical site.",
        ),
        f(
            "area_share_of_patient",
            ratio(area, area.sum().over(PATIENT)),
            "The lesion's share of its patient's total lesion area.",
        ),
        f(
            "patient_large_share",
            (size >= LARGE_DIAMETER_MM).mean().over(PATIENT),
            f"Share of the patient's lesions at least {LARGE_DIAMETER_MM:g} mm long.",
        ),
        f(
            "patient_high_contrast_share",
            (pl.col("tbp_lv_deltaLBnorm") >= HIGH_CONTRAST).mean().over(PATIENT),
            f"Share of the patient's lesions with contrast (deltaLBnorm) >= {HIGH_CONTRAST:g}.",
        ),
        f(
            "size_to_patient_max",
            ratio(size, size.max().over(PATIENT)),
            "Diameter over the patient's largest diameter.",
        ),
        f(
            "age_x_size_rank",
            pl.col("age_approx") * size_rank,
            "Age times the lesion's size rank within the patient.",
        ),
        f("male_x_size_rank", male * size_rank, "Male (1) or female (0) times the size rank."),
    ]


def _spread(spread: pl.Expr, centre: pl.Expr) -> pl.Expr:
    return spread > _RELATIVE_NOISE * (centre.abs() + 1.0)
