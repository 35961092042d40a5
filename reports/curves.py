"""The shape curves of an additive run, drawn for a clinician: one small panel per feature with
its contribution to the log-odds of malignancy against its value (a step function; a dot per
level for a categorical feature), the range over the fold models as a band, the contribution of
a missing value as a marker of its own, the malignant and benign lesions as rugs, and one line
under each panel saying in words what raises the score. The feature report and the evaluation
page draw the same panels; only the lesions in the rugs differ.

The curves come from `models.additive` (`shape_functions.parquet`); `reports.curve_words`
reads them and says what they do in words."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
import polars as pl
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, MaxNLocator
from matplotlib.transforms import blended_transform_factory

from reports import plots
from reports.curve_words import (
    SHOWN,
    Curve,
    is_missing,
    lesion_values,
    read_curve,
    sentence,
    short,
    span,
    tick_labels,
)

TOP = 12  # panels: the features that move the score most
COLUMNS = 3
RUG_BENIGN = 3000
RUG_MALIGNANT = 1000
_CURVE = "#2c3e50"
_MISSING = "#7f8c8d"


@dataclass(frozen=True)
class Curves:
    """The panels as one picture, and each feature's line of words (also under its panel)."""

    plot: plots.Plot
    lines: list[tuple[str, str, str]]  # (feature, what it is, what raises the score)


def shape_curves(
    shape: pl.DataFrame,
    features: list[str],
    values: pl.DataFrame | None = None,
    y: np.ndarray | None = None,
    docs: dict[str, str] | None = None,
    lesions: str = "lesions",
    seed: int = 0,
) -> Curves:
    """The panels of `features` (in that order, `TOP` at most) from `shape`, with the rows of
    `values` (a frame with those feature columns; categorical ones as level names or
    `pl.Enum`) as rugs, malignant where `y` is 1; `docs` says what each feature is and
    `lesions` names the lesions drawn (the caption's words). Without `values` the curves are
    drawn over their own steps and without rugs."""
    # A feature never recorded in training has no curve, only a missing row: nothing to draw.
    curves = [read_curve(shape, name) for name in features]
    curves = [c for c in curves if c.contribution.size][:TOP]
    columns = {
        c.feature: lesion_values(values, c)
        if values is not None and c.feature in values.columns
        else None
        for c in curves
    }
    lines = [
        (c.feature, (docs or {}).get(c.feature, ""), sentence(c, columns[c.feature]))
        for c in curves
    ]
    rug = _rug_rows(y, values.height if values is not None else 0, seed)
    rows = max(1, math.ceil(len(curves) / COLUMNS))
    figure, axes = plots.new_figure(11.0, 0.6 + 3.0 * rows, rows=rows, cols=COLUMNS, sharey=True)
    bottom, top = _y_range(curves, columns)
    for k, ax in enumerate(axes.flat):
        if k >= len(curves):
            ax.set_visible(False)
            continue
        curve, column = curves[k], columns[curves[k].feature]
        if curve.categorical:
            _draw_levels(ax, curve, column, y, rug)
        else:
            _draw_steps(ax, curve, column, y, rug)
        ax.axhline(0.0, color="grey", lw=0.7, ls=":")
        ax.set_ylim(bottom, top)
        doc = short(lines[k][1].removesuffix(", as recorded.").removesuffix("."), 46)
        ax.set_title(curve.feature + (f"\n{doc}" if doc else ""), fontsize=8)
        under = sentence(curve, column, brief=True) if curve.categorical else lines[k][2]
        ax.set_xlabel("\n".join(textwrap.wrap(under, 44)), fontsize=7.5, color="#222")
        if k % COLUMNS == 0:
            ax.set_ylabel("adds to the log-odds\n(0: the average lesion)")
        if k % COLUMNS == COLUMNS - 1 or k == len(curves) - 1:
            odds = ax.secondary_yaxis("right", functions=(np.exp, _log))
            odds.yaxis.set_major_locator(FixedLocator([0.125, 0.25, 0.5, 1, 2, 4, 8, 16]))
            odds.yaxis.set_major_formatter(lambda v, _: f"×{v:g}")
            odds.set_ylabel("odds multiplied by")
    figure.legend(
        handles=_legend(values is not None),
        loc="outside upper center",
        ncol=5,
        fontsize=8,
    )
    drawn = f"the {lesions}" if values is not None else "no lesions"
    return Curves(
        plots.plot(
            f"What raises a lesion's score: the {len(curves)} features that move it most",
            figure,
            "The model's score is a sum: a baseline plus one curve per feature, each read off at "
            "the lesion's value. Each panel is one feature's curve (dark line; a dot per category "
            "for a categorical feature): its contribution to the log-odds of malignancy, 0 being "
            "the average training lesion. +1 multiplies the odds of malignancy by e = 2.7, -1 "
            "divides them by 2.7 (right axis: the odds factor). The band is the range over the "
            "run's fold models: where it is wide, the data say little. The grey diamond on the "
            "right of a panel is a missing value's contribution. The ticks along the bottom are "
            f"{drawn} (blue benign, red malignant; a sample of the benign ones where there are "
            f"many); the x axis spans the middle {SHOWN[1] - SHOWN[0]:g} % of their values. The "
            "line under each panel reads the curve from one end of its x axis to the other.",
        ),
        lines,
    )


def _log(values: np.ndarray) -> np.ndarray:
    return np.log(np.clip(values, 1e-300, None))


def _draw_steps(ax, curve: Curve, column, y, rug) -> None:
    lo, hi = span(curve, column)
    width = hi - lo
    inside = curve.edges[1:][(curve.edges[1:] > lo) & (curve.edges[1:] < hi)]
    edges = np.concatenate([[lo], inside, [hi]])
    # Each stretch between two edges lies within one step: the one holding its middle.
    index = np.searchsorted(curve.edges[1:], edges[:-1] + np.diff(edges) / 2, side="left")
    ax.stairs(
        curve.high[index],
        edges,
        baseline=curve.low[index],
        fill=True,
        color=_CURVE,
        alpha=0.18,
        lw=0,
    )
    ax.stairs(curve.contribution[index], edges, baseline=None, color=_CURVE, lw=1.6)
    gap = hi + 0.07 * width
    spot = hi + 0.14 * width
    ax.axvline(gap, color="#bbb", lw=0.6)
    # Clear of the "missing" label at the right.
    ticks = [t for t in MaxNLocator(4).tick_values(lo, hi) if lo <= t <= hi - 0.08 * width]
    labels = [f"{t:g}" for t in ticks]
    if curve.missing is not None:
        _missing_marker(ax, spot, curve.missing, column is None or is_missing(curve, column).any())
        ticks, labels = [*ticks, spot], [*labels, "missing"]
    ax.set_xticks(ticks, labels)
    ax.set_xlim(lo - 0.02 * width, hi + 0.2 * width)
    if column is not None:
        shown = (column >= lo) & (column <= hi)
        jitter = np.random.default_rng(0).uniform(-0.025, 0.025, column.size) * width
        x = np.where(np.isnan(column), spot + jitter, np.where(shown, column, np.nan))
        _rugs(ax, x, y, rug)


def _draw_levels(ax, curve: Curve, column, y, rug) -> None:
    n = len(curve.levels)
    x = np.arange(n)
    ax.errorbar(
        x,
        curve.contribution,
        yerr=[curve.contribution - curve.low, curve.high - curve.contribution],
        fmt="o",
        color=_CURVE,
        ms=5,
        elinewidth=5,
        ecolor=(0.17, 0.24, 0.31, 0.25),
    )
    labels = tick_labels(curve.levels)
    if curve.missing is not None:
        _missing_marker(ax, n, curve.missing, column is None or is_missing(curve, column).any())
        labels.append("missing")
    many = len(labels) > 8
    ax.set_xticks(
        np.arange(len(labels)),
        labels,
        rotation=60 if many else 30,
        ha="right",
        rotation_mode="anchor",
        fontsize=6.5 if many else 7.5,
    )
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.grid(axis="x", visible=False)
    if column is not None:
        jitter = np.random.default_rng(0).uniform(-0.3, 0.3, column.size)
        position = np.where(column == -1, n if curve.missing is not None else np.nan, column)
        _rugs(ax, position + jitter, y, rug)


def _missing_marker(ax, x: float, missing: tuple[float, float, float], filled: bool) -> None:
    c, low, high = missing
    ax.errorbar(
        [x],
        [c],
        yerr=[[c - low], [high - c]],
        fmt="D",
        color=_MISSING,
        mfc=_MISSING if filled else "white",
        ms=5,
        elinewidth=1.2,
        capsize=2,
    )


def _rug_rows(y: np.ndarray | None, n: int, seed: int) -> np.ndarray:
    """The rows drawn as rugs: every malignant lesion and a sample of the benign ones (at most
    `RUG_MALIGNANT` and `RUG_BENIGN`), from `seed`."""
    if n == 0:
        return np.empty(0, dtype=np.int64)
    y = np.zeros(n, dtype=np.int64) if y is None else np.asarray(y)
    rng = np.random.default_rng(seed)
    out = []
    for label, most in ((0, RUG_BENIGN), (1, RUG_MALIGNANT)):
        rows = np.flatnonzero(y == label)
        if rows.size > most:
            rows = np.sort(rng.choice(rows, most, replace=False))
        out.append(rows)
    return np.concatenate(out)


def _rugs(ax, x: np.ndarray, y: np.ndarray | None, rows: np.ndarray) -> None:
    """Benign lesions as ticks along the bottom of the panel, the malignant ones above them."""
    labels = np.zeros(x.size, dtype=np.int64) if y is None else np.asarray(y)
    where = blended_transform_factory(ax.transData, ax.transAxes)
    for label, colour, height in ((0, plots.BENIGN, 0.04), (1, plots.MALIGNANT, 0.12)):
        chosen = rows[labels[rows] == label]
        # Fainter the more ticks there are, so that where they pile up shows how many.
        alpha = float(np.clip(60 / max(chosen.size, 1), 0.05, 0.6))
        ax.plot(
            x[chosen],
            np.full(chosen.size, height),
            "|",
            color=colour,
            ms=9,
            mew=0.8,
            alpha=alpha,
            transform=where,
            clip_on=False,
        )


def _y_range(curves: list[Curve], columns: dict) -> tuple[float, float]:
    """One y range for every panel, so that their heights compare, with room for the rugs below
    the curves."""
    lows, highs = [], []
    for curve in curves:
        lows.append(np.min(curve.low) if curve.low.size else 0.0)
        highs.append(np.max(curve.high) if curve.high.size else 0.0)
        if curve.missing is not None:
            lows.append(curve.missing[1])
            highs.append(curve.missing[2])
    low, high = min([*lows, 0.0]), max([*highs, 0.0])
    span = max(high - low, 0.1)
    return low - 0.3 * span, high + 0.08 * span


def _legend(rugs: bool) -> list:
    handles = [
        Line2D([], [], color=_CURVE, lw=1.6, label="the curve (mean of the fold models)"),
        Patch(color=_CURVE, alpha=0.18, label="range over the fold models"),
        Line2D([], [], color=_MISSING, marker="D", ls="", label="a missing value"),
    ]
    if rugs:
        handles += [
            Line2D([], [], color=plots.BENIGN, marker="|", ls="", ms=9, label="benign lesions"),
            Line2D(
                [], [], color=plots.MALIGNANT, marker="|", ls="", ms=9, label="malignant lesions"
            ),
        ]
    return handles
