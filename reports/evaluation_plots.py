"""The evaluation page's own plots, the reliability diagram and the decision curve, and the
tolerant readers of the figures they draw: a value that is missing, NaN or not a number is
drawn as nothing, never a crash."""

from __future__ import annotations

import math
import numbers

import numpy as np
from matplotlib.ticker import FuncFormatter

from reports import plots


def reliability_plot(bins: list[dict]) -> plots.Plot | None:
    bins = [b for b in bins if isinstance(b, dict)]
    predicted = np.array([nan_for(b.get("mean_predicted")) for b in bins])
    observed = np.array([nan_for(b.get("observed")) for b in bins])
    intervals = [pair(b.get("observed_ci")) or (math.nan, math.nan) for b in bins]
    low = np.array([i[0] for i in intervals])
    high = np.array([i[1] for i in intervals])
    shown = np.isfinite(predicted) & (predicted > 0) & np.isfinite(observed)
    if not shown.any():
        return None
    values = np.concatenate([predicted, observed, low, high])
    # A log axis has no zero: a bin without a malignant lesion is drawn at a floor below the
    # smallest rate, as an open triangle, and its band starts there.
    floor = values[np.isfinite(values) & (values > 0)].min() / 3
    order = np.argsort(np.where(shown, predicted, np.inf))[: int(shown.sum())]
    x = predicted[order]
    figure, axes = plots.new_figure(plots.WIDTH, 5.2)
    ax = axes[0, 0]
    band = np.isfinite(low[order]) & np.isfinite(high[order])
    ax.fill_between(
        x,
        np.fmax(low[order], floor),
        np.fmax(high[order], floor),
        where=band,
        color=plots.BENIGN,
        alpha=0.2,
        lw=0,
        label="95 % interval of the observed share",
    )
    y = np.where(observed[order] > 0, observed[order], floor)
    colour = plots.MODEL_COLOURS["ensemble"]
    hit = observed[order] > 0
    ax.plot(x[hit], y[hit], "o", color=colour, label="bin: mean predicted risk, share malignant")
    if (~hit).any():
        ax.plot(
            x[~hit],
            y[~hit],
            "v",
            mfc="white",
            color=colour,
            label="bin without a malignant lesion (at the bottom)",
        )
    edge = [floor, max(np.nanmax(values), floor * 10)]
    ax.plot(edge, edge, color="grey", ls="--", lw=0.8, label="predicted = observed")
    ax.set_xscale("log")
    ax.set_yscale("log")
    # After the scales: setting a scale resets the tick labels.
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(FuncFormatter(lambda v, _: tick(v)))
    ax.set_xlabel("predicted risk of malignancy (mean of the bin)")
    ax.set_ylabel("observed share malignant")
    # Square, so that the diagonal is at 45 degrees; the legend below the axes, since inside
    # it would hide the bins of highest risk.
    ax.set_box_aspect(1)
    figure.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2)
    sizes = [int(b["count"]) for b in bins if finite(b.get("count"))]
    size = f" of about {int(np.median(sizes)):,} lesions each" if sizes else ""
    return plots.plot(
        "Reliability: predicted against observed risk",
        figure,
        f"The cohort's lesions in {len(bins)} bins{size}, from the lowest predicted risk to the "
        "highest. On the dashed diagonal, the risk the model predicts is the share of lesions "
        "that were malignant. Above it the model underestimates risk; below it, it "
        "overestimates. The band is each bin's 95 % patient-bootstrap interval; log scales.",
    )


def decision_plot(threshold, model, treat_all, none) -> plots.Plot:
    figure, axes = plots.new_figure(plots.WIDTH * 0.8, 3.6)
    ax = axes[0, 0]
    ax.plot(
        threshold,
        model,
        color=plots.MODEL_COLOURS["ensemble"],
        lw=1.8,
        marker="o",
        ms=2.5,
        label="the model",
    )
    ax.plot(
        threshold, treat_all, color=plots.MALIGNANT, ls="--", lw=1.1, label="refer every lesion"
    )
    ax.plot(threshold, none, color="grey", lw=1.1, label="refer none")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: tick(v)))
    values = np.concatenate([model, treat_all, none])
    top = np.nanmax(np.fmax(values, 0)) if np.isfinite(values).any() else 0.0
    top = top if top > 0 else 1.0
    # Referring every lesion falls far below zero at high thresholds: keep the useful range.
    ax.set_ylim(-0.3 * top, 1.1 * top)
    ax.set_xlabel("risk threshold for referral (log scale)")
    ax.set_ylabel("net benefit per 1,000 lesions")
    ax.legend(loc="lower left")
    return plots.plot(
        "Decision curve: net benefit of referring by the model",
        figure,
        "Net benefit counts malignant lesions found per 1,000 lesions, less the unnecessary "
        "referrals weighted by how many the threshold accepts: a threshold of 1 % accepts 99 "
        "benign referrals per malignant lesion found. Where the solid line is highest, "
        "referring by the model beats referring every lesion and referring none.",
    )


def tick(value: float) -> str:
    """A rate as a percentage for an axis or a sentence, to two significant digits: 0.001 ->
    "0.1 %", 1 -> "100 %" (not "1e+02 %")."""
    text = f"{100 * value:.2g}"
    return f"{100 * value:.0f} %" if "e+" in text else f"{text} %"


def pair(interval) -> tuple[float, float] | None:
    """An interval `[low, high]` with two finite ends, or None."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return None
    low, high = value_or_none(interval[0]), value_or_none(interval[1])
    return None if low is None or high is None else (low, high)


def value_or_none(value) -> float | None:
    """A finite number as a float, anything else (None, NaN, text) as None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value) if math.isfinite(value) else None


def finite(value) -> bool:
    return value_or_none(value) is not None


def nan_for(value) -> float:
    value = value_or_none(value)
    return math.nan if value is None else value
