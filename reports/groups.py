"""Section 4, where the model works less well: the ensemble's out-of-fold ISIC score per
hospital, body site, sex, age band and tile type, with lesion and malignant counts and a
patient-bootstrap interval, against the score over all lesions."""

from __future__ import annotations

import polars as pl

from models.blend import ENSEMBLE_COLUMN
from models.evaluation import (
    AGE_BAND,
    MIN_MALIGNANT_FOR_SCORE,
    age_band,
    group_labels,
    isic_pauc,
    patient_bootstrap_ci,
    scores_by_group,
)
from reports import plots
from reports.sample import GROUP_BOOTSTRAP
from reports.section import Section, count, fmt

KEY = "groups"
TITLE = "Where it works less well"
# Column -> how the page names it.
GROUPINGS = {
    "attribution": "hospital (attribution)",
    "anatom_site_general": "body site",
    "sex": "sex",
    AGE_BAND: "age band",
    "tbp_tile_type": "tile type",
}
_LABEL_CHARACTERS = 42


def groups_section(scored: pl.DataFrame, seed: int) -> Section:
    """`scored`: the out-of-fold rows with `target`, `patient_id`, the ensemble column and the
    training file's grouping columns (`age_approx` for the age band)."""
    section = Section(KEY, TITLE)
    frame = scored.with_columns(age_band(pl.col("age_approx")).alias(AGE_BAND))
    y = frame["target"].to_numpy()
    s = frame[ENSEMBLE_COLUMN].to_numpy()
    overall = isic_pauc(y, s)
    section.facts = [("all out-of-fold lesions", fmt(overall))]
    tables = {}
    for column, label in GROUPINGS.items():
        if column not in frame.columns:
            continue
        tables[label] = group_scores(frame, column, seed)
    section.tables["groups"] = tables
    section.plots.append(forest_plot(tables, overall))
    section.note(
        f"A group with fewer than {MIN_MALIGNANT_FOR_SCORE} malignant lesions (or no benign one) "
        "has no score: a score on so few is meaningless. Intervals resample the "
        f"group's patients ({GROUP_BOOTSTRAP} patient-bootstrap resamples); with a handful of "
        "malignant lesions they are wide, so judge a group by its interval, not its dot."
    )
    return section


def group_scores(frame: pl.DataFrame, column: str, seed: int) -> list[dict]:
    """Every level of `column` (a null is a level): lesions, malignant lesions, the ensemble's
    ISIC score and its patient-bootstrap interval (None where it cannot be had: fewer than
    `MIN_MALIGNANT_FOR_SCORE` malignant lesions or no benign one, or malignant lesions in too
    few patients to resample)."""
    y = frame["target"].to_numpy()
    s = frame[ENSEMBLE_COLUMN].to_numpy()
    labels = group_labels(frame, column, "feature report")
    patients = frame["patient_id"].to_numpy()
    rows = []
    for level, entry in scores_by_group(y, {ENSEMBLE_COLUMN: s}, labels).items():
        pauc = entry["pauc"][ENSEMBLE_COLUMN]
        interval = None
        if pauc is not None:
            mine = labels == level
            try:
                interval = patient_bootstrap_ci(
                    y[mine], s[mine], patients[mine], GROUP_BOOTSTRAP, seed
                )
            except ValueError:  # too few patients with a malignant lesion to resample
                interval = None
        rows.append(
            {
                "group": level,
                "lesions": entry["n_rows"],
                "lesions_text": count(entry["n_rows"]),
                "malignant": entry["n_positive"],
                "pauc": pauc,
                "pauc_text": fmt(pauc),
                "interval": interval,
                "interval_text": "-"
                if interval is None
                else f"[{fmt(interval[0])}, {fmt(interval[1])}]",
            }
        )
    return rows


def forest_plot(
    tables: dict[str, list[dict]], overall: float, scored: str = "out-of-fold ISIC score"
) -> plots.Plot:
    """Each group's score and interval, one panel per grouping, against the score over all
    lesions (dashed); `scored` names what was scored on the x axis."""
    n_rows = sum(len(rows) for rows in tables.values())
    figure, axes = plots.new_figure(
        plots.WIDTH,
        0.9 + 0.24 * n_rows + 0.3 * len(tables),
        rows=len(tables),
        sharex=True,
        gridspec_kw={"height_ratios": [max(len(r), 1) for r in tables.values()]},
    )
    for ax, (label, rows) in zip(axes[:, 0], tables.items(), strict=True):
        for i, row in enumerate(rows):
            if row["interval"] is not None:
                ax.plot(row["interval"], [i, i], color=plots.BENIGN, lw=2)
            if row["pauc"] is not None:
                ax.plot(row["pauc"], i, "o", color=plots.MODEL_COLOURS["ensemble"])
        ax.axvline(overall, color=plots.MALIGNANT, lw=0.9, ls="--")
        names = [f"{_short(r['group'])} ({r['malignant']} of {r['lesions']:,})" for r in rows]
        ax.set_yticks(range(len(rows)), names, fontsize=7)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(label, fontsize=9, loc="left")
    axes[-1, 0].set_xlabel(f"{scored} (dashed: all lesions)")
    return plots.plot(
        "Score per group, with 95 % patient-bootstrap intervals",
        figure,
        "In brackets: malignant lesions of all lesions in the group. Groups to the left of the "
        "dashed line are served worse than the average lesion.",
    )


def _short(text: str) -> str:
    """A group's name as a plot label: cut to length, and a `$` from the data escaped, since
    matplotlib would read text between two of them as a formula."""
    text = text if len(text) <= _LABEL_CHARACTERS else text[: _LABEL_CHARACTERS - 1] + "…"
    return text.replace("$", r"\$")
