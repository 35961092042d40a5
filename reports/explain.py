"""What a run's models learned, in the libraries' own terms: each library's gain importance, and
SHAP contributions (log-odds) from their native tree explainers (LightGBM `pred_contrib`,
XGBoost `pred_contribs`, CatBoost `ShapValues`), so no extra dependency is needed. An additive
run needs no estimate: its lesions are explained exactly by its curves (`models.additive`).

An out-of-fold lesion is explained by the models that scored it: its fold's models of the first
CV repeat (the mean over bags), never a model that saw it in training; for an additive run, its
fold models of every repeat, as its out-of-fold score averages them."""

from __future__ import annotations

import numpy as np
import polars as pl
import xgboost as xgb

from models.additive import BIAS, explain_out_of_fold
from models.artifacts import FOLDS, LoadedModel, Run
from models.boosters import Matrix, booster


def gain_importance(run: Run) -> dict[str, np.ndarray]:
    """Library -> each feature's share of its total gain (in `run.feature_names` order), the
    mean over the library's models. CatBoost reports `PredictionValuesChange`, its default
    importance, in place of a gain."""
    out: dict[str, np.ndarray] = {}
    for name in run.model_names:
        shares = [_shares(_gain(m), run.feature_names) for m in run.models if m.name == name]
        out[name] = np.mean(shares, axis=0)
    return out


def oof_contributions(run: Run, x: Matrix, folds: np.ndarray) -> dict[str, np.ndarray]:
    """Library -> (rows, features): the SHAP contributions of each row of `x` (training rows,
    their out-of-fold `folds`) from the first repeat's models of its fold, mean over bags."""
    out: dict[str, np.ndarray] = {}
    for name in run.model_names:
        values = np.zeros((x.frame.height, len(x.names)))
        for fold in np.unique(folds):
            rows = np.flatnonzero(folds == fold)
            models = [m for m in run.models if (m.name, m.repeat, m.fold) == (name, 0, fold)]
            part = x.take(rows)
            values[rows] = np.mean([_contributions(m, part) for m in models], axis=0)
        out[name] = values
    return out


def oof_curve_contributions(
    run: Run, frame: pl.DataFrame, patient_ids: pl.Series, fold: pl.Series
) -> tuple[np.ndarray, np.ndarray]:
    """An additive run's training lesions (rows of `frame`, the run's features; their patients
    and first-repeat out-of-fold `fold`) explained by the curves of the fold models that did
    not see them: (rows, features) contributions in `run.feature_names` order, and (rows,) the
    bias. A row's contributions and its bias add up to the lesion's out-of-fold log-odds."""
    explained = explain_out_of_fold(run.shape_by_fold, frame, _folds(run, patient_ids, fold))
    return explained.select(run.feature_names).to_numpy(), explained[BIAS].to_numpy()


def _folds(run: Run, patient_ids: pl.Series, fold: pl.Series) -> np.ndarray:
    """(repeats, rows): each row's fold in every CV repeat, the later repeats' from the run's
    folds.csv (`fold_r1`, `fold_r2`, ...) by patient."""
    repeats = int(run.manifest["config"]["cv"]["repeats"])
    if repeats == 1:
        return fold.to_numpy()[None, :]
    later = [f"fold_r{r}" for r in range(1, repeats)]
    table = pl.read_csv(run.path / FOLDS, schema_overrides={"patient_id": pl.String})
    rows = pl.DataFrame({"patient_id": patient_ids.cast(pl.String)}).join(
        table.select("patient_id", *later), on="patient_id", how="left", maintain_order="left"
    )
    return np.vstack([fold.to_numpy(), *(rows[c].to_numpy() for c in later)])


def _contributions(model: LoadedModel, x: Matrix) -> np.ndarray:
    """(rows, features) contributions to the model's log-odds; the bias column is dropped."""
    fitted = model.fitted
    if model.name == "lgbm":
        values = fitted.booster.predict(x.codes, pred_contrib=True, num_iteration=fitted.rounds)
    elif model.name == "xgb":
        matrix = xgb.DMatrix(x.frame.select(x.names), enable_categorical=True)
        trees = min(fitted.rounds, fitted.booster.num_boosted_rounds())
        values = fitted.booster.predict(matrix, pred_contribs=True, iteration_range=(0, trees))
    else:
        pool = booster("cat").prepare(x)
        values = fitted.model.get_feature_importance(data=pool, type="ShapValues")
    return np.asarray(values)[:, :-1]


def _gain(model: LoadedModel) -> dict[str, float]:
    fitted = model.fitted
    if model.name == "lgbm":
        names = fitted.booster.feature_name()
        return dict(zip(names, fitted.booster.feature_importance("gain"), strict=True))
    if model.name == "xgb":
        return fitted.booster.get_score(importance_type="total_gain")
    values = fitted.model.get_feature_importance(type="PredictionValuesChange")
    return dict(zip(fitted.model.feature_names_, values, strict=True))


def _shares(gain: dict[str, float], names: list[str]) -> np.ndarray:
    values = np.array([float(gain.get(n, 0.0)) for n in names])
    total = values.sum()
    return values / total if total > 0 else values
