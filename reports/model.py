"""Section 3, the model: the run's out-of-fold scores per model and for the ensemble with their
intervals and folds, the ROC curve with the region the ISIC score integrates, what the models
learned (gain and SHAP; an additive run's curves, which are its whole model), calibration,
top-15 retrieval, and the operating points a clinician asks about."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
from sklearn.metrics import roc_curve

from models.artifacts import METRICS, OOF, Run
from models.blend import ENSEMBLE_COLUMN, Calibrator
from models.evaluation import WANTED_SENSITIVITIES, threshold_for_sensitivity
from reports import plots
from reports.curves import Curves
from reports.section import Section, count, fmt

KEY = "model"
TITLE = "Model"
SENSITIVITIES = WANTED_SENSITIVITIES
TOP_FEATURES = 20


def read_oof(run: Run) -> pl.DataFrame:
    return pl.read_parquet(run.path / OOF)


def model_section(
    run: Run,
    oof: pl.DataFrame,
    gain: dict[str, np.ndarray] | None,
    shap: dict[str, np.ndarray] | None,
    shap_note: str | None,
    curves: Curves | None = None,
) -> Section:
    """`gain` and `shap` (library -> per-feature mean share, mean |SHAP|) come from
    `reports.explain`; None where they could not be computed. `curves`: an additive run's
    shape curves (`reports.curves`), drawn before the importances."""
    section = Section(KEY, TITLE)
    metrics = json.loads((run.path / METRICS).read_text())
    names = [*run.model_names, ENSEMBLE_COLUMN]
    y = oof["target"].to_numpy()
    ensemble = oof[ENSEMBLE_COLUMN].to_numpy()
    low, high = metrics["oof_pauc_ci"][ENSEMBLE_COLUMN]
    section.facts = [
        (
            "ensemble out-of-fold ISIC score",
            f"{fmt(metrics['oof_pauc'][ENSEMBLE_COLUMN])} [{fmt(low)}, {fmt(high)}]",
        ),
        ("top-15 retrieval", fmt(metrics["oof_top15"][ENSEMBLE_COLUMN], 3)),
        ("out-of-fold lesions", f"{count(oof.height)} ({count(int(y.sum()))} malignant)"),
        ("models", ", ".join(run.model_names)),
    ]
    section.plots.append(_scores_plot(metrics, names))
    section.plots.append(roc_plot(oof, names))
    if curves is not None:
        section.facts.append(("form", "additive: a baseline plus one curve per feature"))
        section.plots.append(curves.plot)
        section.tables["curves"] = curves.lines
        section.note(
            "An additive run needs no SHAP values: its log-odds are exactly the baseline plus "
            "the curves at the lesion's values."
        )
    if gain is not None:
        section.plots.append(
            _bars(
                gain,
                run.feature_names,
                "Gain importance",
                "share of the library's total gain (%)",
                100,
                "CatBoost has no gain importance: its bars are its PredictionValuesChange.",
            )
        )
    if shap is not None:
        section.plots.append(
            _bars(
                shap,
                run.feature_names,
                "Mean |SHAP| contribution",
                "mean absolute contribution to the model's log-odds",
                1,
                "SHAP values from each library's own tree explainer, on out-of-fold lesions "
                "explained by the fold models that did not see them.",
            )
        )
    section.note(shap_note)
    calibration = metrics.get("calibration")
    if calibration is not None:
        section.plots.append(_calibration_plot(calibration))
    else:
        section.note("This run's metrics.json has no calibration curve.")
    section.tables["scores"] = [
        {
            "model": name,
            "pauc": fmt(metrics["oof_pauc"][name]),
            "interval": "[{}, {}]".format(*(fmt(v) for v in metrics["oof_pauc_ci"][name])),
            "top15": fmt(metrics["oof_top15"][name], 3),
            "folds": ", ".join(fmt(v, 3) for v in metrics["fold_pauc"][name]),
        }
        for name in names
    ]
    calibrator = (run.ensemble or {}).get("calibrator")
    points = operating_points(y, ensemble, oof["patient_id"])
    for point in points:
        point["probability"] = (
            float(Calibrator.from_dict(calibrator)(np.array([point["threshold"]]))[0])
            if calibrator is not None
            else None
        )
    section.tables["operating_points"] = points
    return section


def operating_points(
    y: np.ndarray, scores: np.ndarray, patient_ids: pl.Series, sensitivities=SENSITIVITIES
) -> list[dict]:
    """For each wanted sensitivity, the highest threshold that reaches it
    (`models.evaluation.threshold_for_sensitivity`, as `evaluate` chooses it): the sensitivity
    and specificity there, and the lesions flagged (score at or above it) in all and per
    patient."""
    patients = patient_ids.n_unique()
    malignant = np.asarray(y) == 1
    out = []
    for wanted in sensitivities:
        threshold = threshold_for_sensitivity(y, scores, wanted)
        flagged = scores >= threshold
        per_patient = (
            pl.DataFrame({"patient_id": patient_ids, "flagged": flagged})
            .group_by("patient_id")
            .agg(pl.col("flagged").sum())["flagged"]
        )
        out.append(
            {
                "wanted": wanted,
                "sensitivity": float(flagged[malignant].mean()),
                "specificity": float(1 - flagged[~malignant].mean()),
                "threshold": threshold,
                "flagged": int(flagged.sum()),
                "per_patient": float(flagged.sum() / patients),
                "median_per_patient": float(per_patient.median()),
                "patients_flagged": float((per_patient > 0).mean()),
            }
        )
    return out


def _scores_plot(metrics: dict, names: list[str]) -> plots.Plot:
    figure, axes = plots.new_figure(plots.WIDTH, 0.8 + 0.45 * len(names))
    ax = axes[0, 0]
    for row, name in enumerate(names):
        colour = plots.MODEL_COLOURS.get(name, "black")
        low, high = metrics["oof_pauc_ci"][name]
        ax.plot([low, high], [row, row], color=colour, lw=2)
        ax.plot(metrics["oof_pauc"][name], row, "o", color=colour, ms=8)
        folds = [v for v in metrics["fold_pauc"][name] if v is not None and np.isfinite(v)]
        ax.plot(folds, [row + 0.25] * len(folds), "|", color=colour, ms=8, alpha=0.7)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(
        "out-of-fold ISIC score (dot, with 95 % patient-bootstrap interval; ticks: folds)"
    )
    return plots.plot("Out-of-fold score per model", figure)


def roc_plot(oof: pl.DataFrame, names: list[str]) -> plots.Plot:
    y = oof["target"].to_numpy()
    curves = {name: roc_curve(y, oof[name].to_numpy())[:2] for name in names}
    figure, axes = plots.new_figure(plots.WIDTH, 3.0, cols=2)
    for ax, zoom in zip(axes[0], (False, True), strict=True):
        ax.axhspan(0.8, 1.0, color="#f9e79f", alpha=0.5, lw=0)
        for name, (fpr, tpr) in curves.items():
            ax.plot(fpr, tpr, color=plots.MODEL_COLOURS.get(name, "black"), lw=1.2, label=name)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.set_xlabel("false-positive rate (1 - specificity)")
        ax.set_ylabel("sensitivity")
        if zoom:
            ax.set_xlim(0, 0.5)
            ax.set_ylim(0.75, 1.0)
            ax.set_title("the scored region, enlarged")
        else:
            ax.legend(loc="lower right")
            ax.set_title("ROC curve")
    return plots.plot(
        "ROC curve, with the region the ISIC score integrates (sensitivity above 80 %) shaded",
        figure,
        "The ISIC score is the area of the shaded band under the curve (at most 0.2): only "
        "rankings that keep sensitivity above 80 % count.",
    )


def _bars(
    values: dict[str, np.ndarray],
    features: list[str],
    title: str,
    label: str,
    scale: float,
    caption: str,
) -> plots.Plot:
    libraries = list(values)
    mean = np.mean([v / max(v.sum(), 1e-300) for v in values.values()], axis=0)
    top = np.argsort(-mean, kind="stable")[:TOP_FEATURES]
    figure, axes = plots.new_figure(plots.WIDTH, 0.8 + 0.26 * top.size)
    ax = axes[0, 0]
    height = 0.8 / len(libraries)
    for i, name in enumerate(libraries):
        ax.barh(
            np.arange(top.size) + (i - (len(libraries) - 1) / 2) * height,
            values[name][top] * scale,
            height=height,
            color=plots.MODEL_COLOURS.get(name, "black"),
            label=name,
        )
    ax.set_yticks(np.arange(top.size), [features[i] for i in top])
    ax.invert_yaxis()
    ax.set_xlabel(label)
    ax.legend(loc="lower right")
    return plots.plot(f"{title}: the top {top.size} features", figure, caption)


def _calibration_plot(calibration: dict) -> plots.Plot:
    curve = calibration["reliability"]
    predicted = np.asarray(curve["mean_predicted"])
    observed = np.asarray(curve["fraction_positive"])
    # A log scale has no zero: bins without a malignant lesion are left out and counted.
    shown = (predicted > 0) & (observed > 0)
    figure, axes = plots.new_figure(4.0, 3.2)
    ax = axes[0, 0]
    ax.plot(predicted[shown], observed[shown], "o-", color=plots.MODEL_COLOURS["ensemble"])
    if shown.any():
        edge = [
            min(predicted[shown].min(), observed[shown].min()),
            max(predicted.max(), observed.max()),
        ]
        ax.plot(edge, edge, color="grey", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("predicted probability of malignancy (bin mean)")
    ax.set_ylabel("observed malignant share")
    empty = int((~shown).sum())
    return plots.plot(
        "Calibration of the ensemble's probability",
        figure,
        f"{predicted.size} quantile bins of out-of-fold lesions, each lesion calibrated by a map "
        "fit on the other folds; on the dashed line, predicted and observed agree (log scales"
        + (f"; {empty} bins without a malignant lesion are not drawn" if empty else "")
        + f"). Brier score {calibration['brier']:.2e} against {calibration['brier_base_rate']:.2e} "
        "for the base rate alone.",
    )
