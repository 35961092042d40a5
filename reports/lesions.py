"""Section 5, lesions to look at: the benign lesions the ensemble scored highest and the
malignant lesions it scored lowest, out of fold, each with the features that pushed its score
the wrong way (SHAP; for an additive run, its curves, which add up to its score exactly) and,
when the data folder has `train-image.hdf5`, its tile."""

from __future__ import annotations

import base64
from pathlib import Path

import h5py
import numpy as np
import polars as pl

from models.blend import ENSEMBLE_COLUMN
from reports.section import Section, fmt

KEY = "lesions"
TITLE = "Lesions to look at"
PER_LIST = 20
REASONS = 3
# Training-file column -> its label in the lesion tables.
_SHOWN = {
    "attribution": "hospital",
    "anatom_site_general": "site",
    "age_approx": "age",
    "sex": "sex",
    "tbp_tile_type": "tile",
}


def pick_lesions(scored: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of `scored`: the `PER_LIST` highest-scored benign lesions (highest first)
    and the `PER_LIST` lowest-scored malignant ones (lowest first)."""
    s = scored[ENSEMBLE_COLUMN].to_numpy()
    y = scored["target"].to_numpy()
    benign, malignant = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
    high_benign = benign[np.argsort(-s[benign], kind="stable")[:PER_LIST]]
    low_malignant = malignant[np.argsort(s[malignant], kind="stable")[:PER_LIST]]
    return high_benign, low_malignant


def lesions_section(
    scored: pl.DataFrame,
    lists: tuple[np.ndarray, np.ndarray],
    contributions: np.ndarray | None,
    values: pl.DataFrame | None,
    images: Path | None,
    bias: np.ndarray | None = None,
) -> Section:
    """`scored`: out-of-fold rows with the training file's columns; `lists` from
    `pick_lesions`; `contributions` (rows of both lists, benign first, then malignant; by
    feature) the mean SHAP over the run's libraries, and `values` those rows' feature values.
    With `bias` (an additive run: each row's bias) `contributions` are the curves' exact
    contributions, which add up with the bias to the lesion's log-odds."""
    section = Section(KEY, TITLE)
    section.tables["method"] = "SHAP" if bias is None else "curves"
    s = scored[ENSEMBLE_COLUMN].to_numpy()
    # Percentile among all out-of-fold lesions, and rank within the lesion's own patient.
    percentile = scored.select(pl.col(ENSEMBLE_COLUMN).rank("average") / pl.len())
    within = scored.select(
        pl.col(ENSEMBLE_COLUMN).rank("ordinal", descending=True).over("patient_id").alias("rank"),
        pl.len().over("patient_id").alias("of"),
    )
    tiles = _tiles(images, scored["isic_id"].gather(np.concatenate(lists)).to_list())
    offset = 0
    for key, rows, sign in (("benign", lists[0], 1.0), ("malignant", lists[1], -1.0)):
        table = []
        for k, row in enumerate(rows):
            record = scored.row(int(row), named=True)
            reasons = log_odds = None
            if contributions is not None and values is not None:
                reasons = _reasons(
                    contributions[offset + k], values.row(offset + k), values.columns, sign
                )
            if contributions is not None and bias is not None:
                log_odds = float(bias[offset + k] + contributions[offset + k].sum())
                reasons.append(_total(log_odds, float(bias[offset + k])))
            table.append(
                {
                    "isic_id": record["isic_id"],
                    "patient_id": record["patient_id"],
                    "score": fmt(s[row], 4),
                    "percentile": f"{100 * percentile.item(int(row), 0):.2f}",
                    "within": f"{within.item(int(row), 0)} of {within.item(int(row), 1)}",
                    "shown": [
                        (label, _text(record[c])) for c, label in _SHOWN.items() if c in record
                    ],
                    "reasons": reasons,
                    "log_odds": log_odds,
                    "bias": None if bias is None else float(bias[offset + k]),
                    "tile": tiles.get(record["isic_id"]),
                }
            )
        offset += len(rows)
        section.tables[key] = table
    section.facts = [
        ("benign lesions scored highest", str(len(lists[0]))),
        ("malignant lesions scored lowest", str(len(lists[1]))),
    ]
    if images is None:
        section.note("No train-image.hdf5 in the data folder: no tiles.")
    if contributions is None:
        section.note("No SHAP reasons: they need the run's models and the training rows' features.")
    elif bias is not None:
        section.note(
            "Reasons: the features whose curves (the run's additive model, log-odds, from the "
            "fold models that did not see the lesion) pushed its score furthest the wrong way: "
            "up for a benign lesion, down for a malignant one. The baseline and every "
            "feature's curve add up to the lesion's log-odds exactly (last line)."
        )
    else:
        section.note(
            "Reasons: the features whose SHAP contributions (mean over the run's libraries, "
            "log-odds, from the fold models that did not see the lesion) pushed its score "
            "furthest the wrong way: up for a benign lesion, down for a malignant one."
        )
    return section


def _reasons(contribution: np.ndarray, values: tuple, names: list[str], sign: float) -> list[str]:
    order = np.argsort(-sign * contribution, kind="stable")[:REASONS]
    return [
        f"{names[i]} = {_text(values[i])} ({contribution[i]:+.2f})"
        for i in order
        if sign * contribution[i] > 0
    ]


def _total(log_odds: float, bias: float) -> str:
    return (
        f"log-odds {log_odds:+.2f} = baseline {bias:+.2f} + the curves of every feature "
        f"({log_odds - bias:+.2f})"
    )


def _text(value) -> str:
    if value is None:
        return "missing"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _tiles(path: Path | None, ids: list[str]) -> dict[str, str]:
    """isic_id -> the tile as a JPEG data URI, for the ids the HDF5 file holds."""
    if path is None:
        return {}
    out = {}
    with h5py.File(path, "r") as store:
        for isic_id in ids:
            if isic_id in store:
                data = bytes(store[isic_id][()])
                out[isic_id] = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
    return out
