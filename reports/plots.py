"""Matplotlib for the report: one look for every plot, and a figure turned into an embedded PNG
(a `data:` URI), so the page needs nothing beyond its own file. Figures are made with
`matplotlib.figure.Figure`, not pyplot, so no backend is chosen: a notebook that imports the
package keeps its inline plots, and a server without a display needs none."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

MALIGNANT = "#c0392b"
BENIGN = "#2e86c1"
MODEL_COLOURS = {"lgbm": "#27ae60", "xgb": "#8e44ad", "cat": "#e67e22", "ensemble": "#2c3e50"}
DPI = 96
WIDTH = 8.0  # inches: most plots span the page's text column
_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


@dataclass(frozen=True)
class Plot:
    """One embedded image with the words a reader needs to read it."""

    title: str
    uri: str  # data:image/png;base64,...
    caption: str = ""


def new_figure(width: float, height: float, rows: int = 1, cols: int = 1, **kwargs):
    """A figure (inches) and its axes in the report's style."""
    with plt.rc_context(_STYLE):
        figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
        axes = figure.subplots(rows, cols, squeeze=False, **kwargs)
    return figure, axes


def png_uri(figure: Figure, dpi: int = DPI) -> str:
    """The figure as a base64 PNG `data:` URI."""
    buffer = io.BytesIO()
    with plt.rc_context(_STYLE):
        figure.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def plot(title: str, figure: Figure, caption: str = "") -> Plot:
    return Plot(title, png_uri(figure), caption)


def class_histograms(ax, values: np.ndarray, y: np.ndarray, bins: np.ndarray) -> None:
    """Malignant and benign densities of one column on shared uniform bins, as step lines;
    the tails are clipped into the end bins."""
    for label, colour, name in ((0, BENIGN, "benign"), (1, MALIGNANT, "malignant")):
        share = class_shares(values[y == label], bins)
        if share is not None:
            ax.stairs(share, bins, color=colour, label=name, lw=1.4)


def class_shares(values: np.ndarray, bins: np.ndarray) -> np.ndarray | None:
    """The share of the finite `values` in each of the uniform `bins`, or None if none is."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    low, high = bins[0], bins[-1]
    counts, _ = np.histogram(np.clip(finite, low, high), bins=bins.size - 1, range=(low, high))
    return counts / finite.size


def shared_bins(values: np.ndarray, y: np.ndarray, n_bins: int = 30) -> np.ndarray | None:
    """Uniform bins spanning each class's 1st to 99th percentile of the finite values (so that
    neither class's bulk is clipped), or None for a column without two distinct values."""
    finite = np.isfinite(values)
    ends = [
        np.percentile(values[finite & (y == label)], [1, 99])
        for label in (0, 1)
        if np.any(finite & (y == label))
    ]
    if not ends:
        return None
    low, high = min(e[0] for e in ends), max(e[1] for e in ends)
    if high <= low:
        low, high = values[finite].min(), values[finite].max()
    if high <= low:
        return None
    return np.linspace(low, high, n_bins + 1)


class SparklineSprite:
    """Many tiny malignant-versus-benign histograms drawn as the rows of one tall PNG, which
    the page shows one row at a time (CSS background offsets): one figure for all features
    instead of one each, which would take most of the report's time budget."""

    WIDTH_PX = 150
    HEIGHT_PX = 30

    def __init__(self) -> None:
        self._rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, values: np.ndarray, y: np.ndarray) -> int | None:
        """A numeric column's row; its index in the sprite, or None when it has no spread."""
        bins = shared_bins(values, y)
        if bins is None:
            return None
        edges = (bins - bins[0]) / (bins[-1] - bins[0])
        return self._add(
            edges, class_shares(values[y == 0], bins), class_shares(values[y == 1], bins)
        )

    def add_levels(self, codes: np.ndarray, y: np.ndarray, n_levels: int) -> int | None:
        """A categorical column (integer codes): each level's share among malignant and among
        benign lesions."""
        if n_levels == 0:
            return None
        edges = np.linspace(0, 1, n_levels + 1)
        shares = [np.bincount(codes[y == c], minlength=n_levels) for c in (0, 1)]
        return self._add(edges, *(s / max(s.sum(), 1) for s in shares))

    @property
    def size(self) -> int:
        return len(self._rows)

    def render(self) -> str | None:
        """The sprite as a PNG data URI (None when empty): row k spans pixels k*HEIGHT_PX to
        (k + 1)*HEIGHT_PX."""
        if not self._rows:
            return None
        n = len(self._rows)
        figure = Figure(figsize=(self.WIDTH_PX / DPI, n * self.HEIGHT_PX / DPI), dpi=DPI)
        ax = figure.add_axes((0, 0, 1, 1))
        ax.set_axis_off()
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-n, 0)
        for k, (edges, benign, malignant) in enumerate(self._rows):
            top = max(
                np.max(benign) if benign is not None else 0,
                np.max(malignant) if malignant is not None else 0,
            )
            base = -(k + 1) + 0.1
            for share, colour in ((benign, BENIGN), (malignant, MALIGNANT)):
                if share is not None and top > 0:
                    ax.stairs(base + 0.8 * share / top, edges, baseline=base, color=colour, lw=1.2)
        return png_uri(figure)

    def _add(self, edges, benign, malignant) -> int:
        self._rows.append((edges, benign, malignant))
        return len(self._rows) - 1
