"""Section 2, the features: which features separate malignant from benign lesions on their
own, how each is distributed in the two classes, and, for the strongest, the raw column beside
its within-patient z-score, where the "ugly duckling" shows."""

from __future__ import annotations

import numpy as np
import polars as pl
from matplotlib.patches import Patch

from features.build import Built
from features.registry import CATEGORICAL, Feature
from reports import plots
from reports.sample import DISTRIBUTION_BENIGN, class_sample, sampled_note
from reports.section import Section, fmt
from reports.univariate import BY_LEVEL, HIGHER, LOWER, Univariate, univariate_scores

KEY = "features"
TITLE = "Features"
TOP_BARS = 20
TWINS = 6
TWIN_SUFFIX = "_patient_z"
_DIRECTION_WORDS = {HIGHER: "higher", LOWER: "lower", BY_LEVEL: "by level"}
_FAMILY_COLOURS = ["#2e86c1", "#27ae60", "#8e44ad", "#e67e22", "#c0392b", "#16a085", "#7f8c8d"]


def features_section(built: Built, features: list[Feature], seed: int) -> Section:
    """`built` holds the training rows' features (with `target`); `features` are the
    registry entries to score (those of the run's spec)."""
    section = Section(KEY, TITLE)
    present = [f for f in features if f.name in built.frame.columns]
    y = built.frame["target"].to_numpy()
    scores = univariate_scores(built.frame, present, y)
    # Strongest first; a feature without spread (no score) last, not first.
    ranked = sorted(scores, key=lambda s: (s.pauc is None, -(s.pauc or 0.0)))
    section.facts = [
        ("features scored", str(len(scores))),
        ("a random ranking scores", "about 0.020 (ISIC) and 0.5 (AUC)"),
    ]
    if ranked and ranked[0].pauc is not None:
        section.facts.append(("strongest alone", f"{ranked[0].name} ({ranked[0].pauc:.4f})"))
    section.plots.append(_top_plot(ranked))
    rows = class_sample(y, DISTRIBUTION_BENIGN, seed)
    twins = _twin_plot(built, ranked, rows)
    if twins is not None:
        section.plots.append(twins)
    sprite = plots.SparklineSprite()
    table = []
    kinds = {f.name: f for f in present}
    for score in ranked:
        column = built.frame[score.name][rows]
        if kinds[score.name].kind == CATEGORICAL:
            n_levels = len(column.dtype.categories)  # a pl.Enum; a null is one more level
            codes = column.to_physical().fill_null(n_levels).to_numpy()
            spark = sprite.add_levels(codes, y[rows], n_levels + 1)
        else:
            spark = sprite.add(column.cast(pl.Float64).to_numpy(), y[rows])
        table.append(_row(score, spark))
    section.tables["features"] = table
    section.tables["sprite"] = sprite.render()
    section.tables["sprite_height"] = plots.SparklineSprite.HEIGHT_PX
    section.tables["sprite_width"] = plots.SparklineSprite.WIDTH_PX
    section.note(
        "ISIC score: the challenge's partial AUC above 80 % sensitivity (0 to 0.2) of the "
        "feature alone, in whichever direction ranks better; AUC in that same direction. A "
        "missing value counts as the feature's median. Categorical features rank lesions by "
        "their level's malignant rate in these rows (optimistic for many small levels)."
    )
    section.note(
        sampled_note(
            "Distribution plots: every malignant lesion and a random sample of benign ones",
            rows.size,
            y.size,
        )
    )
    return section


def _row(score: Univariate, spark: int | None) -> dict:
    return {
        "name": score.name,
        "family": score.family,
        "doc": score.doc,
        "pauc": score.pauc,
        "pauc_text": fmt(score.pauc),
        "auc": score.auc,
        "auc_text": fmt(score.auc, 3),
        "direction": _DIRECTION_WORDS.get(score.direction, "-"),
        "missing": score.missing,
        "missing_text": f"{100 * score.missing:.1f} %",
        "spark": spark,
    }


def _top_plot(ranked: list[Univariate]) -> plots.Plot:
    top = [s for s in ranked if s.pauc is not None][:TOP_BARS]
    families = sorted({s.family for s in top})
    colour = {f: _FAMILY_COLOURS[i % len(_FAMILY_COLOURS)] for i, f in enumerate(families)}
    figure, axes = plots.new_figure(plots.WIDTH, 0.8 + 0.24 * max(len(top), 1))
    ax = axes[0, 0]
    ax.barh(np.arange(len(top)), [s.pauc for s in top], color=[colour[s.family] for s in top])
    ax.set_yticks(np.arange(len(top)), [f"{s.name} ({_DIRECTION_WORDS[s.direction]})" for s in top])
    ax.invert_yaxis()
    ax.axvline(0.02, color="black", lw=0.8, ls="--")
    ax.set_xlim(0, max([0.05, *(s.pauc * 1.1 for s in top)]))
    ax.set_xlabel("ISIC score of the feature alone (dashed line: a random ranking)")
    handles = [Patch(color=colour[f], label=f) for f in families]
    ax.legend(handles=handles, loc="lower right", title="family")
    return plots.plot(
        "Features that separate malignant from benign lesions on their own",
        figure,
        "In brackets: whether a higher or a lower value is the more suspicious one.",
    )


def _twin_plot(built: Built, ranked: list[Univariate], rows: np.ndarray) -> plots.Plot | None:
    names = set(built.frame.columns)
    by_name = {s.name: s for s in ranked}
    pairs = [
        (s, by_name[s.name + TWIN_SUFFIX])
        for s in ranked
        if s.pauc is not None and s.name + TWIN_SUFFIX in names and s.name + TWIN_SUFFIX in by_name
    ]
    # The strongest pair first, judged by whichever of the two ranks better.
    pairs.sort(key=lambda p: -max(p[0].pauc or 0, p[1].pauc or 0))
    pairs = pairs[:TWINS]
    if not pairs:
        return None
    y = built.frame["target"].to_numpy()[rows]
    figure, axes = plots.new_figure(plots.WIDTH, 1.7 * len(pairs), rows=len(pairs), cols=2)
    for i, pair in enumerate(pairs):
        for j, score in enumerate(pair):
            ax = axes[i, j]
            values = built.frame[score.name][rows].cast(pl.Float64).to_numpy()
            bins = plots.shared_bins(values, y)
            if bins is not None:
                plots.class_histograms(ax, values, y, bins)
            title = f"{score.name}: ISIC {fmt(score.pauc)}"
            if j == 0:  # what the column measures, in words, above its pair
                title += "\n" + _short(score.doc.removesuffix(", as recorded."), 60)
            ax.set_title(title, fontsize=8)
            ax.set_yticks([])
    axes[0, 0].legend(fontsize=7)
    return plots.plot(
        "Each feature (left) beside the same feature within its patient (right)",
        figure,
        "Right: the lesion's z-score among its own patient's lesions. Where it separates the "
        "classes better than the raw column, a malignant lesion stands out from the patient's "
        "other lesions more than from the population: the ugly-duckling sign.",
    )


def _short(text: str, characters: int) -> str:
    return text if len(text) <= characters else text[: characters - 1] + "…"
