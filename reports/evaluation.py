"""The evaluation page: how a saved model does on a new labelled cohort, as one self-contained
HTML page with the feature report's look (plots embedded as PNGs) and a Markdown summary for a
pull request, both read from `evaluation.json`'s dict; and the one screen the command prints.
A missing figure (null in the dict) shows as "-" and never stops the page. An additive run's
page also draws its curves (`reports.curves`), with the cohort's lesions as rugs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl

from features.build import FAMILIES, registry
from models.additive import top_features
from models.artifacts.files import write_bytes
from models.evaluation import MIN_MALIGNANT_FOR_SCORE
from reports import curves, plots
from reports.evaluation_plots import (
    decision_plot,
    finite,
    nan_for,
    pair,
    reliability_plot,
    tick,
    value_or_none,
)
from reports.groups import GROUPINGS, forest_plot
from reports.model import roc_plot
from reports.render import environment

HTML = "evaluation.html"
MARKDOWN = "evaluation.md"
CHOSEN_ON = {
    "oof": "out-of-fold (fixed before this cohort)",
    "cohort": "this cohort (optimistic)",
}
_SUMMARY_CHOSEN = {
    "oof": "out-of-fold, fixed before this cohort",
    "cohort": "on this cohort, so optimistic",
}
TOP_SHIFTED = 10
_DASH = "-"


def write_evaluation_page(
    results: dict,
    scored: pl.DataFrame,
    folder: Path,
    *,
    shape: pl.DataFrame | None = None,
    values: pl.DataFrame | None = None,
) -> tuple[Path, Path]:
    """Write folder/evaluation.html and folder/evaluation.md (each atomically); `scored` is
    the cohort's scores frame (`target` and the score columns), read for the ROC curve. For an
    additive run, `shape` is its curves (`shape_functions.parquet`) and `values` the cohort
    lesions' values of the features drawn (`models.additive.top_features`), row for row with
    `scored`: the page draws the curves with those lesions as rugs."""
    page = _page(results, scored)
    if shape is not None:
        page["curves"] = _curves(shape, values, scored, results.get("seed"))
    html = environment(autoescape=True).get_template("evaluation.html.j2").render(page=page)
    summary = environment(autoescape=False).get_template("evaluation.md.j2").render(page=page)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes(folder / HTML, html.encode("utf-8"))
    write_bytes(folder / MARKDOWN, summary.encode("utf-8"))
    return folder / HTML, folder / MARKDOWN


def summary_lines(results: dict) -> list[str]:
    """The screen the command prints: the ISIC score with its interval, O/E and slope, and the
    three operating points (the out-of-fold thresholds where there are any)."""
    name = _headline_model(results)
    lines = [
        f"cohort: {_count(results.get('n_rows'))} lesions, "
        f"{_count(results.get('n_positive'))} malignant, "
        f"{_count(results.get('n_patients'))} patients",
        f"ISIC score ({name}): {_score(results, 'pauc', name)} "
        "(partial AUC above 80 % sensitivity, 0 to 0.2)",
    ]
    calibration = results.get("calibration")
    if calibration:
        lines.append(
            f"calibration: O/E {_estimate(calibration, 'observed_expected', '.2f')}, "
            f"slope {_estimate(calibration, 'slope', '.2f')}"
        )
    else:
        lines.append(f"calibration: none ({_reason(results, 'calibration')})")
    points = _points(results)
    if points:
        where = _SUMMARY_CHOSEN.get(points[0]["chosen"], points[0]["chosen_text"])
        lines.append(f"operating points (thresholds chosen {where}):")
        lines.append(
            f"  {'wanted':>6}  {'threshold':>9}  {'sensitivity':<23}{'specificity':<22}"
            f"{'PPV':>8}  flagged per patient (median, p90)"
        )
    for p in points:
        lines.append(
            f"  {p['wanted']:>6}  {p['threshold']:>9}  {p['sensitivity']['text']:<23}"
            f"{p['specificity']['text']:<22}{p['ppv']['value']:>8}  "
            f"{p['flagged_median']}, {p['flagged_p90']}"
        )
    return lines


def _page(results: dict, scored: pl.DataFrame) -> dict:
    headline = _headline_model(results)
    return {
        "headline": headline,
        # A score file's column is a probability only on the user's word (--probability),
        # which is what gives it calibration figures.
        "score_word": "risk" if results.get("calibration") else "score",
        "evaluated": _evaluated(results),
        "discrimination": _discrimination(results, scored, headline),
        "points": _points(results, every=True),
        "calibration": _calibration(results),
        "utility": _utility(results),
        "groups": _groups(results, headline),
        "shift": _shift(results),
        "warnings": [str(w) for w in results.get("warnings") or []],
        "curves": None,
    }


def _evaluated(results: dict) -> dict:
    source = results.get("source") or {}
    if source.get("run"):
        inputs = [("run", str(source["run"]))]
    else:
        column = source.get("score_column") or "target"
        inputs = [("score file", f"{source.get('scores') or _DASH} (column {column})")]
    inputs.append(("cohort", str(source.get("cohort") or _DASH)))
    inputs += [
        (label, source[key])
        for key, label in (("labels", "labels"), ("image_scores", "image-model scores"))
        if source.get(key)
    ]
    n_rows, n_positive = results.get("n_rows"), results.get("n_positive")
    share = (
        f" ({_share(n_positive / n_rows, 2)})"
        if finite(n_rows) and finite(n_positive) and n_rows
        else ""
    )
    facts = [
        ("lesions", _count(n_rows)),
        ("malignant lesions", _count(n_positive) + share),
        ("patients", _count(results.get("n_patients"))),
        ("patients also in the training data", _count(results.get("n_patients_in_training"))),
        ("probability from", str(results.get("probability_model") or _DASH)),
    ]
    in_training = results.get("n_patients_in_training")
    return {
        "inputs": inputs,
        "facts": facts,
        "in_training_reason": None
        if in_training is not None
        else _reason(results, "n_patients_in_training"),
        "bootstrap": _count(results.get("bootstrap_samples")),
        "seed": _DASH if results.get("seed") is None else str(results["seed"]),
    }


def _discrimination(results: dict, scored: pl.DataFrame, headline: str) -> dict:
    names = list((results.get("pauc") or {}).keys()) or list(results.get("models") or [])
    rows = [
        {
            "model": name,
            "pauc": _score(results, "pauc", name),
            "auc": _score(results, "auc", name, ".3f"),
            "top15": _score(results, "top15", name, ".3f"),
        }
        for name in names
    ]
    roc, note = _roc(results, scored, headline)
    return {
        "facts": [
            (f"ISIC score ({headline})", _score(results, "pauc", headline)),
            (f"ROC AUC ({headline})", _score(results, "auc", headline, ".3f")),
            (f"top-15 retrieval ({headline})", _score(results, "top15", headline, ".3f")),
        ],
        "rows": rows,
        "plot": roc,
        "note": note,
    }


def _roc(results: dict, scored: pl.DataFrame, headline: str) -> tuple[plots.Plot | None, str]:
    """The ROC curve of every model column the frame has (the probability column under the
    headline model's name when it has none), on the lesions with every score."""
    names = [n for n in results.get("models") or [] if n in scored.columns]
    frame = scored
    if not names and "probability" in scored.columns:
        names = [headline]
        frame = scored.with_columns(pl.col("probability").alias(headline))
    if not names or "target" not in frame.columns:
        return None, "No score columns to draw a ROC curve from."
    frame = (
        frame.select(pl.col("target").cast(pl.Int8), pl.col(names).cast(pl.Float64))
        .drop_nulls()
        .filter(pl.all_horizontal(pl.col(names).is_finite()))
    )
    left_out = scored.height - frame.height
    note = ""
    if left_out == 1:
        note = "1 lesion without a score is left out of the curve."
    elif left_out:
        note = f"{left_out:,} lesions without a score are left out of the curve."
    if frame["target"].n_unique() < 2:
        return None, "The scored lesions lack a malignant or a benign lesion: no ROC curve."
    return roc_plot(frame, names), note


def _curves(
    shape: pl.DataFrame, values: pl.DataFrame | None, scored: pl.DataFrame, seed
) -> curves.Curves:
    """The curves of the features that move the score most, the cohort's lesions as rugs."""
    docs = {f.name: f.doc for f in registry(FAMILIES)}
    y = scored["target"].to_numpy() if values is not None and "target" in scored.columns else None
    seed = int(seed) if finite(seed) else 0
    return curves.shape_curves(
        shape, top_features(shape, curves.TOP), values, y, docs, "cohort's lesions", seed
    )


def _points(results: dict, every: bool = False) -> list[dict]:
    """The operating points, formatted, by wanted sensitivity (out-of-fold thresholds first);
    only the out-of-fold ones where there are any, unless `every`."""
    points = [p for p in results.get("operating_points") or [] if isinstance(p, dict)]
    if not every and any(p.get("chosen_on") == "oof" for p in points):
        points = [p for p in points if p.get("chosen_on") == "oof"]
    points = sorted(
        points, key=lambda p: (value_or_none(p.get("wanted")) or 0, p.get("chosen_on") != "oof")
    )
    return [
        {
            "wanted": _share(p.get("wanted"), 0),
            "chosen": p.get("chosen_on") if p.get("chosen_on") in CHOSEN_ON else "cohort",
            "chosen_text": CHOSEN_ON.get(p.get("chosen_on"), str(p.get("chosen_on") or _DASH)),
            "threshold": _num(p.get("threshold"), ".4g"),
            "sensitivity": _percent(p, "sensitivity", 1),
            "specificity": _percent(p, "specificity", 1),
            "ppv": _percent(p, "ppv", 2),
            "npv": _percent(p, "npv", 3),
            "flagged_median": _num(p.get("flagged_per_patient_median"), ".0f"),
            "flagged_p90": _num(p.get("flagged_per_patient_p90"), ".0f"),
        }
        for p in points
    ]


def _calibration(results: dict) -> dict:
    calibration = results.get("calibration")
    if not calibration:
        return {"missing": f"No calibration figures: {_reason(results, 'calibration')}."}
    clip = value_or_none(calibration.get("logit_clip"))
    return {
        "missing": None,
        "rows": [
            (key, _estimate(calibration, key, digits))
            for key, digits in (
                ("observed_expected", ".2f"),
                ("slope", ".2f"),
                ("intercept", ".2f"),
                ("brier", ".3g"),
                ("scaled_brier", ".3f"),
            )
        ],
        "clip": _DASH if clip is None else f"{clip:g}",
        "plot": reliability_plot(calibration.get("bins") or []),
    }


def _utility(results: dict) -> dict:
    curve = [c for c in results.get("decision_curve") or [] if isinstance(c, dict)]
    if not curve:
        if results.get("calibration"):
            return {"missing": "No decision curve in the results."}
        return {"missing": f"No decision curve: {_reason(results, 'calibration')}."}
    threshold, model, treat_all, none = (
        np.array([nan_for(c.get(key)) for c in curve])
        for key in ("threshold", "model", "all", "none")
    )
    better = np.isfinite(model) & (model > np.fmax(treat_all, none))
    if better.any():
        low, high = threshold[better].min(), threshold[better].max()
        whole = better[np.flatnonzero(better)[0] : np.flatnonzero(better)[-1] + 1].all()
        span = (
            f"the risk threshold {tick(low)}"
            if low == high
            else f"{'every' if whole else 'some'} risk threshold from {tick(low)} to {tick(high)}"
        )
        useful = (
            f"The model does better than referring every lesion and than referring none at "
            f"{span}" + ("." if whole else f" ({int(better.sum())} of {better.size} drawn).")
        )
    else:
        useful = "At no risk threshold drawn does the model beat both referring every lesion "
        useful += "and referring none."
    return {
        "missing": None,
        "plot": decision_plot(threshold, model, treat_all, none),
        "useful": useful,
    }


def _groups(results: dict, headline: str) -> dict:
    groups = results.get("groups") or {}
    tables = {
        GROUPINGS.get(column, column): [_group_row(g) for g in rows if isinstance(g, dict)]
        for column, rows in groups.items()
        if rows
    }
    plot = None
    if any(r["pauc"] is not None for rows in tables.values() for r in rows):
        overall = value_or_none((results.get("pauc") or {}).get(headline))
        overall = math.nan if overall is None else overall
        plot = forest_plot(tables, overall, scored="ISIC score on this cohort")
    return {
        "tables": tables,
        "plot": plot,
        "min_malignant": MIN_MALIGNANT_FOR_SCORE,
        "empty": [GROUPINGS.get(c, c) for c, r in groups.items() if not r],
    }


def _group_row(group: dict) -> dict:
    """A contract group object as `reports.groups.forest_plot` reads it, with its cells."""
    pauc, interval = value_or_none(group.get("pauc")), pair(group.get("pauc_ci"))
    lesions, malignant = group.get("lesions"), group.get("malignant")
    return {
        "group": _DASH if group.get("group") is None else str(group["group"]),
        "lesions": int(lesions) if finite(lesions) else 0,
        "malignant": int(malignant) if finite(malignant) else 0,
        "pauc": pauc,
        "interval": interval,
        "lesions_text": _count(lesions),
        "malignant_text": _count(malignant),
        "pauc_text": _num(pauc, ".4f"),
        "interval_text": _interval(interval, ".4f") or _DASH,
        "oe_text": _num(group.get("observed_expected"), ".2f"),
    }


def _shift(results: dict) -> dict:
    shift = results.get("shift")
    if not isinstance(shift, dict) or "reason" in shift or value_or_none(shift.get("auc")) is None:
        why = shift.get("reason") if isinstance(shift, dict) else None
        return {"missing": f"No shift test: {why or _reason(results, 'shift')}."}
    auc = value_or_none(shift["auc"])
    if auc < 0.45:
        verdict = (
            "below 0.5, which only chance does: too few patients for a stable estimate, and "
            "no sign of a shift"
        )
    elif auc < 0.55:
        verdict = "a classifier can hardly tell cohort lesions from training lesions: little shift"
    elif auc < 0.7:
        verdict = "a classifier tells them apart somewhat: a moderate shift"
    else:
        verdict = "a classifier tells them apart well: a strong shift"
    importance = [
        {"feature": str(row[0]), "share": _share(row[1], 1)}
        for row in _table(shift.get("importance"))
    ]
    ks = [
        {
            "feature": str(row[0]),
            "ks": _num(row[1], ".3f"),
            "train": _num(row[2], ".3g"),
            "cohort": _num(row[3], ".3g"),
        }
        for row in _table(shift.get("ks"))
    ]
    return {
        "missing": None,
        "auc": _num(auc, ".3f"),
        "verdict": verdict,
        "sizes": f"{_count(shift.get('n_train'))} training and {_count(shift.get('n_cohort'))} "
        "cohort lesions",
        "importance": importance,
        "ks": ks,
    }


def _table(rows) -> list[list]:
    """The first TOP_SHIFTED rows of a shift table, each padded to four cells."""
    rows = [list(r) + [None] * 3 for r in rows or [] if isinstance(r, list | tuple) and r]
    return rows[:TOP_SHIFTED]


def _headline_model(results: dict) -> str:
    """The model the headline figures are of: the one the probability comes from."""
    pauc = results.get("pauc") or {}
    for name in (results.get("probability_model"), "ensemble", "scores"):
        if name and name in pauc:
            return name
    return next(iter(pauc), results.get("probability_model") or "ensemble")


def _reason(results: dict, key: str) -> str:
    return str((results.get("reasons") or {}).get(key) or "no reason given")


def _score(results: dict, key: str, name: str, spec: str = ".4f") -> str:
    value = (results.get(key) or {}).get(name)
    interval = pair((results.get(f"{key}_ci") or {}).get(name))
    return _with_interval(value, interval, spec)


def _estimate(figures: dict, key: str, spec: str) -> str:
    return _with_interval(figures.get(key), pair(figures.get(f"{key}_ci")), spec)


def _percent(figures: dict, key: str, digits: int) -> dict:
    """A proportion and its interval as percentages: the value, the bracketed interval (empty
    when there is none), and both as one text."""
    value, interval = value_or_none(figures.get(key)), pair(figures.get(f"{key}_ci"))
    bracket = (
        ""
        if value is None or interval is None
        else f"[{100 * interval[0]:.{digits}f}, {100 * interval[1]:.{digits}f}]"
    )
    text = _share(value, digits)
    return {"value": text, "ci": bracket, "text": f"{text} {bracket}" if bracket else text}


def _with_interval(value, interval, spec: str) -> str:
    text = _num(value, spec)
    bracket = _interval(interval, spec)
    return f"{text} {bracket}" if text != _DASH and bracket else text


def _interval(interval, spec: str) -> str:
    return "" if interval is None else f"[{interval[0]:{spec}}, {interval[1]:{spec}}]"


def _num(value, spec: str) -> str:
    value = value_or_none(value)
    return _DASH if value is None else f"{value:{spec}}"


def _share(value, digits: int) -> str:
    """A proportion as a percentage: 0.8 -> "80 %"."""
    value = value_or_none(value)
    return _DASH if value is None else f"{100 * value:.{digits}f} %"


def _count(value) -> str:
    return f"{int(value):,}" if finite(value) else _DASH
