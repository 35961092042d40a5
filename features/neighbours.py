"""The "ugly duckling" distances that Polars has no operation for: how far a lesion lies from
its patient's centre under the patient's own (shrunk) covariance, and how far it is from its
nearest look-alike among the patient's other lesions.

One pass per patient over a standardised colour and shape block, with a k-d tree for the
neighbours, so the cost grows as n log n in a patient's lesion count (the largest real patient
has 9,184 lesions), never n squared. Only the patient's own lesions enter, as for every patient
feature; a patient with fewer than three lesions gets nulls.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
from scipy.spatial import cKDTree

from features.patient import CONTEXT_COLUMNS, PATIENT
from features.registry import FrameStep, frame_feature

FAMILY = "patient_neighbour"
# The neighbour search uses a six-column core of the block (size, border, colour variation,
# contrast, blue-yellow shift, the TBP nevus score): a k-d tree's query time grows steeply with
# the dimension (eight columns cost 1.7 times six here) and these carry what a clinician compares.
NEIGHBOUR_COLUMNS = (
    "clin_size_long_diam_mm",
    "tbp_lv_norm_border",
    "tbp_lv_norm_color",
    "tbp_lv_deltaLBnorm",
    "tbp_lv_deltaB",
    "tbp_lv_nevi_confidence",
)
MIN_LESIONS = 3
_RELATIVE_NOISE = 1e-9

MAHALANOBIS = "ugly_mahalanobis"
NEAREST = "ugly_nn_distance"
NEAREST_RATIO = "ugly_nn_distance_ratio"


def neighbour_step() -> FrameStep:
    block = f"the {len(CONTEXT_COLUMNS)} colour and shape columns standardised within patient"
    core = f"{len(NEIGHBOUR_COLUMNS)} core colour and shape columns"
    return FrameStep(
        family=FAMILY,
        features=(
            frame_feature(
                MAHALANOBIS,
                FAMILY,
                f"Mahalanobis distance from the patient centre over {block}, with a "
                "Ledoit-Wolf shrunk covariance of the patient's lesions.",
            ),
            frame_feature(
                NEAREST,
                FAMILY,
                f"Distance to the most similar other lesion of the patient ({core}).",
            ),
            frame_feature(
                NEAREST_RATIO,
                FAMILY,
                "Nearest-neighbour distance over the patient's median one: isolated lesions > 1.",
            ),
        ),
        compute=lambda frame, spec: neighbour_features(frame),
    )


def neighbour_features(frame: pl.DataFrame) -> pl.DataFrame:
    """The three distances for every row of `frame`, in its row order (nulls where undefined)."""
    codes = frame.select(pl.col(PATIENT).rank("dense").cast(pl.Int64) - 1).to_series().to_numpy()
    order = np.argsort(codes, kind="stable")
    ends = np.cumsum(np.bincount(codes))
    values = frame.select(pl.col(CONTEXT_COLUMNS).cast(pl.Float64)).to_numpy()[order]
    core = [CONTEXT_COLUMNS.index(c) for c in NEIGHBOUR_COLUMNS]
    out = np.full((frame.height, 3), np.nan)
    starts = np.concatenate([[0], ends[:-1]])

    def fill(start: int, end: int) -> None:
        if end - start >= MIN_LESIONS:
            out[order[start:end]] = _one_patient(values[start:end], core)

    # The k-d tree and LAPACK release the GIL: threads share the patients (each writes only
    # its own patient's rows, so the result does not depend on the scheduling).
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(fill, starts, ends))
    return pl.DataFrame(
        {
            name: pl.Series(name, out[:, i], nan_to_null=True)
            for i, name in enumerate((MAHALANOBIS, NEAREST, NEAREST_RATIO))
        }
    )


def standardise(values: np.ndarray) -> np.ndarray:
    """Within-patient z-scores; a missing value sits at the centre (0), and a column without
    spread contributes 0 everywhere, so it can neither add nor hide distance."""
    count = np.sum(~np.isnan(values), axis=0)
    safe = np.where(count > 0, count, 1)
    mean = np.nansum(values, axis=0) / safe
    centred = np.where(np.isnan(values), 0.0, values - mean)
    std = np.sqrt(np.sum(centred**2, axis=0) / np.maximum(count - 1, 1))
    spread = (count >= 2) & (std > _RELATIVE_NOISE * (np.abs(mean) + 1.0))
    return np.where(spread, centred / np.where(spread, std, 1.0), 0.0)


def ledoit_wolf_covariance(x: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf shrunk covariance of centred rows `x` (scikit-learn's `ledoit_wolf` with
    `assume_centered=True`, the same formula without its per-call validation, which costs
    more than the arithmetic on a few thousand patients)."""
    n, p = x.shape
    squares = x**2
    empirical = x.T @ x / n
    mu = np.trace(empirical) / p
    beta_sum = np.sum(squares.T @ squares)
    delta_sum = np.sum(empirical**2)
    beta = (beta_sum / n - delta_sum) / (p * n)
    delta = (delta_sum - 2.0 * mu * np.trace(empirical) + p * mu**2) / p
    beta = min(beta, delta)
    shrinkage = 0.0 if beta == 0 else beta / delta
    shrunk = (1.0 - shrinkage) * empirical
    shrunk.flat[:: p + 1] += shrinkage * mu
    return shrunk


def _one_patient(values: np.ndarray, core: list[int]) -> np.ndarray:
    z = standardise(values)
    out = np.full((len(z), 3), np.nan)
    varying = np.flatnonzero(np.any(z != 0.0, axis=0))
    if varying.size:
        block = z[:, varying]
        precision = np.linalg.pinv(ledoit_wolf_covariance(block), hermitian=True)
        squared = np.einsum("ij,jk,ik->i", block, precision, block)
        out[:, 0] = np.sqrt(np.maximum(squared, 0.0))
    points = z[:, core]
    tree = cKDTree(points, balanced_tree=False, compact_nodes=False)
    distance, _ = tree.query(points, k=2)
    nearest = distance[:, 1]
    out[:, 1] = nearest
    typical = np.median(nearest)
    if typical > 0:
        out[:, 2] = nearest / typical
    return out
