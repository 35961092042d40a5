"""A shape curve read in words, for the line under its panel (`reports.curves`): what raises a
lesion's score, checked against the lesions' values so that the words describe the stretch of
the curve the panel shows.

A curve frame (`models.additive`, `shape_functions.parquet`) holds per feature rows whose `value`
is the left edge of a step (a step starting at t holds for x > t, LightGBM sending x <= t
left; the first step holds below it too), or whose `level` is a categorical level, and one
`missing` row. Contributions are log-odds, 0 being the average training lesion."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

# A change of the log-odds smaller than this (odds times 1.05) is called no change in words.
NEGLIGIBLE = 0.05
# A panel's x axis spans this middle share of the lesions' values; its line reads the curve
# over the same span, so that words and picture agree.
SHOWN = (0.5, 99.5)
# A curve that goes from within this share of its change of one end to within it of the other
# over at most STEP_WIDTH of its axis is called a step.
STEP = 0.2
STEP_WIDTH = 0.1
LABEL = 24  # characters of a level's name under a categorical panel


@dataclass(frozen=True)
class Curve:
    """One feature's curve as arrays: steps (numeric) or levels (categorical), and its missing
    value's contribution."""

    feature: str
    edges: np.ndarray  # numeric: the steps' left edges, ascending; empty for a categorical one
    levels: list[str]  # categorical: the levels, in the shape's order; empty for a numeric one
    contribution: np.ndarray  # per step or level
    low: np.ndarray
    high: np.ndarray
    missing: tuple[float, float, float] | None  # (contribution, low, high) of a missing value

    @property
    def categorical(self) -> bool:
        return bool(self.levels)

    def at(self, x: np.ndarray) -> np.ndarray:
        """The numeric curve at finite values `x`: LightGBM sends x <= t left, so x takes the
        last step whose left edge is below it (the first step below every edge)."""
        index = np.searchsorted(self.edges[1:], np.asarray(x, dtype=np.float64), side="left")
        return self.contribution[index]


def describe(
    shape: pl.DataFrame, feature: str, values: pl.Series | np.ndarray | None = None
) -> str:
    """The line under a feature's panel: what raises the score, in words, over `values` (its
    lesions' values; the curve's own steps without them)."""
    curve = read_curve(shape, feature)
    column = None if values is None else lesion_values(pl.DataFrame({feature: values}), curve)
    return sentence(curve, column)


def read_curve(shape: pl.DataFrame, feature: str) -> Curve:
    """`feature`'s rows of the curve frame `shape` (a numeric feature's steps by their left
    edge; a step without an edge, as a never-recorded feature's, is left out)."""
    rows = shape.filter(pl.col("feature") == feature)
    if rows.height == 0:
        raise ValueError(f"no curve for feature {feature!r} in the shape functions")
    missing = rows.filter(pl.col("missing"))
    steps = rows.filter(~pl.col("missing"))
    categorical = steps["level"].is_not_null().any()
    if not categorical:
        steps = steps.filter(pl.col("value").is_not_null()).sort("value")
    out = {k: steps[k].cast(pl.Float64).to_numpy() for k in ("contribution", "low", "high")}
    return Curve(
        feature=feature,
        edges=np.empty(0) if categorical else steps["value"].to_numpy().astype(np.float64),
        levels=steps["level"].to_list() if categorical else [],
        missing=tuple(missing.row(0, named=True)[k] for k in ("contribution", "low", "high"))
        if missing.height
        else None,
        **out,
    )


def lesion_values(values: pl.DataFrame, curve: Curve) -> np.ndarray:
    """The feature's values as the curve reads them: floats (NaN for missing) for a numeric
    feature, level indices (-1 for missing or an unknown level) for a categorical one."""
    series = values[curve.feature]
    if not curve.categorical:
        return series.cast(pl.Float64).fill_null(float("nan")).to_numpy()
    index = {level: i for i, level in enumerate(curve.levels)}
    names = series.cast(pl.String).to_list()
    return np.array([index.get(n, -1) if n is not None else -1 for n in names], dtype=np.int64)


def sentence(curve: Curve, column: np.ndarray | None, brief: bool = False) -> str:
    """What raises the score, in words, over `column` (`lesion_values`; None: the curve's own
    steps); `brief`: with the levels' names as under the panel."""
    if curve.categorical:
        words = _levels_words(curve, tick_labels(curve.levels) if brief else curve.levels)
    else:
        words = _steps_words(curve, column)
    if curve.missing is None:
        return words
    if column is not None and not is_missing(curve, column).any():
        return words  # no lesion here lacks it: what a missing value does would not apply
    m = curve.missing[0]
    if abs(m) < NEGLIGIBLE:
        return f"{words}; missing: about average"
    return f"{words}; missing: {'raises' if m > 0 else 'lowers'} it ({_odds(m)})"


def is_missing(curve: Curve, column: np.ndarray) -> np.ndarray:
    """Which of `lesion_values`' values are missing."""
    return column == -1 if curve.categorical else np.isnan(column)


def span(curve: Curve, column: np.ndarray | None) -> tuple[float, float]:
    """The panel's x axis: the middle `SHOWN` of the lesions' values; without lesions (or
    without spread), from the first step to just above the last edge, where the last holds."""
    finite = column[np.isfinite(column)] if column is not None else np.empty(0)
    if finite.size >= 2:
        lo, hi = np.percentile(finite, SHOWN)
        if hi > lo:
            return float(lo), float(hi)
        if finite.max() > finite.min():
            return float(finite.min()), float(finite.max())
    if curve.edges.size >= 2:
        return float(curve.edges[0]), float(np.nextafter(curve.edges[-1], np.inf))
    edge = float(curve.edges[0]) if curve.edges.size else 0.0
    return edge - 0.5, edge + 0.5


def tick_labels(levels: list[str]) -> list[str]:
    """Levels short enough to stand under a panel: comma-separated parts that several levels
    share (a hospital's "Department of Dermatology") are dropped, then the first part left is
    cut to `LABEL` characters."""
    parts = [[p.strip() for p in str(level).split(",")] for level in levels]
    counts: dict[str, int] = {}
    for each in parts:
        for p in set(each):
            counts[p] = counts.get(p, 0) + 1
    out = []
    for level, each in zip(levels, parts, strict=True):
        kept = [p for p in each if counts[p] == 1] or [str(level)]
        out.append(short(kept[0], LABEL))
    return out


def short(text: str, characters: int) -> str:
    """`text` cut to `characters`, with an ellipsis where it was cut."""
    return text if len(text) <= characters else text[: characters - 1] + "…"


def _steps_words(curve: Curve, column: np.ndarray | None) -> str:
    """The curve over the panel's x axis: which way it goes when the net change from one end
    to the other is at least half its range (where it goes there in one step, which side of
    the step raises the score), else where it is highest (or lowest)."""
    if curve.edges.size == 0:
        return f"{curve.feature} was never recorded in training"
    lo, hi = span(curve, column)
    c_lo, c_hi = curve.at(np.array([lo, hi]))
    inside = (curve.edges[1:] >= lo) & (curve.edges[1:] < hi)
    reached = np.concatenate([[c_lo], curve.contribution[1:][inside]])
    spread = reached.max() - reached.min()
    name, (a, b) = curve.feature, _nums([lo, hi], hi - lo)
    if spread < NEGLIGIBLE:
        return f"{name} hardly moves the score between {a} and {b}"
    change = c_hi - c_lo
    if abs(change) >= spread / 2:
        step = _step(reached, curve.edges[1:][inside], c_lo, c_hi, hi - lo)
        if step is not None:
            (at,) = _nums([step], hi - lo)
            side = "above" if change > 0 else "below"
            return f"{name} {side} {at} raises the score ({_odds(abs(change))})"
        verb = "raises" if change > 0 else "lowers"
        return f"higher {name} {verb} the score ({_odds(change)} from {a} to {b})"
    peak = reached.max() - max(c_lo, c_hi) >= min(c_lo, c_hi) - reached.min()
    extreme = reached.max() if peak else reached.min()
    (where,) = _nums([_where(curve, lo, hi, extreme)], hi - lo)
    verb = "raises" if peak else "lowers"
    return f"{name} near {where} {verb} the score most ({_odds(extreme)} against average)"


def _step(
    values: np.ndarray, edges: np.ndarray, start: float, end: float, width: float
) -> float | None:
    """Where the curve (`values` on the stretches between `edges`) goes from near `start` to
    near `end` (within `STEP` of the change) within a tenth of the axis' `width`: the edge where
    it crosses the middle; None where it changes more gradually."""
    tolerance = STEP * abs(end - start)
    near_start = np.abs(values - start) <= tolerance
    near_end = np.abs(values - end) <= tolerance
    first = int(np.argmin(near_start)) if not near_start.all() else values.size
    last = values.size - int(np.argmin(near_end[::-1])) if not near_end.all() else 0
    if first == 0 or last == values.size or first > last:
        return None
    # Stretch k starts at edges[k - 1]: the curve leaves `start` at the stretch `first` and
    # has reached `end` at the stretch `last`.
    if edges[last - 1] - edges[first - 1] > STEP_WIDTH * width:
        return None
    middle = (start + end) / 2
    crossed = int(np.flatnonzero(np.sign(values - middle) != np.sign(start - middle))[0])
    return float(edges[crossed - 1])


def _levels_words(curve: Curve, names: list[str]) -> str:
    c = curve.contribution
    if c.size == 0 or c.max() - c.min() < NEGLIGIBLE:
        return f"{curve.feature} hardly moves the score"
    best, worst = int(np.argmax(c)), int(np.argmin(c))
    return (
        f"{curve.feature} = {names[best]} raises the score most ({_odds(c[best])}); "
        f"{names[worst]} lowers it most ({_odds(c[worst])})"
    )


def _where(curve: Curve, lo: float, hi: float, extreme: float) -> float:
    """The middle of the first stretch of [lo, hi] where the curve takes the value `extreme`."""
    edges = np.concatenate(
        [[lo], curve.edges[1:][(curve.edges[1:] > lo) & (curve.edges[1:] < hi)], [hi]]
    )
    values = curve.at(edges[:-1] + np.diff(edges) / 2)
    k = int(np.argmax(np.isclose(values, extreme)))
    return float((edges[k] + edges[k + 1]) / 2)


def _nums(values: list[float], width: float) -> list[str]:
    """Values for a sentence, to about three significant digits of `width` (a panel's)."""
    digits = 0 if width <= 0 else min(6, max(0, 2 - math.floor(math.log10(width))))
    return ["0" if round(v, digits) == 0 else f"{round(v, digits):,.{digits}f}" for v in values]


def _odds(change: float) -> str:
    """A change of the log-odds as the factor it multiplies the odds by."""
    factor = math.exp(abs(change))
    return f"odds ×{factor:.2g}" if change >= 0 else f"odds ÷{factor:.2g}"
