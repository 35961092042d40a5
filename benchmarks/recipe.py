"""The public ISIC 2024 "tabular only" recipe (CV 0.172, see ANCHORS.md), re-implemented plainly
as the baseline that train_gbdt and faster feature code are measured against.

python -m benchmarks.recipe --data-dir DIR [--folds-file RUN_DIR/folds.csv] --out OUT_DIR
[--threads N] [--seed S]

It follows the notebook on purpose, quirks included: median-filled floats, divisions guarded
by `+ 1e-5`, patient z-scores with `+ 1e-5` on the std, one-hot categoricals, and per fold
three fixed-round models behind a 1:100 negative under-sampler, soft-voted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
import warnings
from pathlib import Path

import catboost
import lightgbm
import numpy as np
import polars as pl
import xgboost

from features import schema
from features.errors import UserError
from features.io import read_dataset
from models.artifacts.files import SUBMISSION
from models.artifacts.submission import write_submission
from models.cv import derive_seed, patient_folds, undersample_negatives
from models.evaluation import isic_pauc
from pipelines._cli import run_cli

ERR = 1e-5
N_FOLDS = 5
NEGATIVES_PER_POSITIVE = 100  # imblearn's RandomUnderSampler(sampling_strategy=0.01)
RAW_NUMERIC = list(schema.NUMERIC_COLUMNS)
ONE_HOT = [
    "sex",
    "anatom_site_general",
    "tbp_tile_type",
    "tbp_lv_location",
    "tbp_lv_location_simple",
    "attribution",
    "combined_anatomical_site",
]


def c(name: str) -> pl.Expr:
    return pl.col(f"tbp_lv_{name}")


size, age = pl.col("clin_size_long_diam_mm"), pl.col("age_approx")
distance_3d = (c("x") ** 2 + c("y") ** 2 + c("z") ** 2).sqrt()
border_complexity = c("norm_border") + c("symm_2axis")
shape_index = c("areaMM2") / (c("perimeterMM") ** 2 + ERR)

# The notebook's lesion features, in its order (tbp_lv_ prefixes dropped in the names).
LESION_FEATURES: list[tuple[str, pl.Expr]] = [
    ("lesion_size_ratio", c("minorAxisMM") / (size + ERR)),
    ("lesion_shape_index", shape_index),
    ("hue_contrast", (c("H") - c("Hext")).abs()),
    ("luminance_contrast", (c("L") - c("Lext")).abs()),
    ("lesion_color_difference", (c("deltaA") ** 2 + c("deltaB") ** 2 + c("deltaL") ** 2).sqrt()),
    ("border_complexity", border_complexity),
    ("color_uniformity", c("color_std_mean") / (c("radial_color_std_max") + ERR)),
    ("position_distance_3d", distance_3d),
    ("perimeter_to_area_ratio", c("perimeterMM") / (c("areaMM2") + ERR)),
    ("area_to_perimeter_ratio", c("areaMM2") / (c("perimeterMM") + ERR)),
    ("lesion_visibility_score", c("deltaLBnorm") + c("norm_color")),
    ("symmetry_border_consistency", c("symm_2axis") * c("norm_border")),
    ("color_consistency", c("stdL") / (c("Lext") + ERR)),
    ("size_age_interaction", size * age),
    ("hue_color_std_interaction", c("H") * c("color_std_mean")),
    ("lesion_severity_index", (c("norm_border") + c("norm_color") + c("eccentricity")) / 3),
    ("shape_complexity_index", border_complexity + shape_index),
    ("color_contrast_index", c("deltaA") + c("deltaB") + c("deltaL") + c("deltaLBnorm")),
    ("log_lesion_area", (c("areaMM2") + 1).log()),
    ("normalized_lesion_size", size / (age + ERR)),
    ("mean_hue_difference", (c("H") + c("Hext")) / 2),
    ("std_dev_contrast", ((c("deltaA") ** 2 + c("deltaB") ** 2 + c("deltaL") ** 2) / 3).sqrt()),
    (
        "color_shape_composite_index",
        (c("color_std_mean") + c("area_perim_ratio") + c("symm_2axis")) / 3,
    ),
    ("lesion_orientation_3d", pl.arctan2(c("y"), c("x"))),
    ("overall_asymmetry", c("symm_2axis") + c("symm_2axis_angle")),
    ("color_variance_ratio", c("color_std_mean") / (c("stdLExt") + ERR)),
    ("border_color_interaction", c("norm_border") * c("norm_color")),
    ("size_color_contrast_ratio", size / (c("deltaLBnorm") + ERR)),
    ("age_normalized_nevi_confidence", c("nevi_confidence") / (age + ERR)),
    ("color_asymmetry_index", c("radial_color_std_max") * c("symm_2axis")),
    ("volume_approximation_3d", c("areaMM2") * distance_3d),
    (
        "color_range",
        (c("L") - c("Lext")).abs() + (c("A") - c("Aext")).abs() + (c("B") - c("Bext")).abs(),
    ),
    ("shape_color_consistency", c("eccentricity") * c("color_std_mean")),
    (
        "border_length_ratio",
        c("perimeterMM") / (2 * math.pi * (c("areaMM2") / math.pi).sqrt() + ERR),
    ),
    ("age_size_symmetry_index", age * size * c("symm_2axis")),
]
NEW_NUMERIC = [name for name, _ in LESION_FEATURES]

LGBM_PARAMS = dict(
    objective="binary",
    n_estimators=200,
    learning_rate=0.032,
    max_depth=4,
    num_leaves=103,
    bagging_fraction=0.77,
    bagging_freq=1,
    colsample_bytree=0.83,
    feature_fraction_bynode=0.40,
    min_data_in_leaf=85,
    scale_pos_weight=2.8,
    lambda_l1=0.08,
    lambda_l2=0.05,
    verbosity=-1,
)
CAT_PARAMS = dict(
    loss_function="Logloss",
    iterations=200,
    depth=7,
    learning_rate=0.069,
    l2_leaf_reg=6.2,
    subsample=0.62,
    bootstrap_type="Bernoulli",
    scale_pos_weight=2.6,
    min_data_in_leaf=24,
    verbose=False,
    allow_writing_files=False,
)
XGB_PARAMS = dict(
    tree_method="hist",
    n_estimators=200,
    learning_rate=0.085,
    max_depth=6,
    reg_lambda=8.9,
    reg_alpha=0.68,
    subsample=0.60,
    colsample_bytree=0.85,
    colsample_bylevel=0.55,
    colsample_bynode=0.50,
    scale_pos_weight=3.3,
    min_child_weight=5,
    verbosity=0,
)


def add_features(frame: pl.DataFrame, medians: dict[str, float]) -> pl.DataFrame:
    """Median fill, lesion features, combined site, patient z-scores and lesion count."""
    return (
        frame.with_columns(pl.col(name).fill_null(value) for name, value in medians.items())
        .with_columns(expr.alias(name) for name, expr in LESION_FEATURES)
        .with_columns(
            combined_anatomical_site=pl.col("anatom_site_general") + "_" + pl.col("tbp_lv_location")
        )
        .with_columns(
            (
                (pl.col(col) - pl.col(col).mean().over("patient_id"))
                / (pl.col(col).std().over("patient_id") + ERR)
            ).alias(f"{col}_patient_norm")
            for col in RAW_NUMERIC + NEW_NUMERIC
        )
        .with_columns(count_per_patient=pl.len().over("patient_id"))
    )


def one_hot(frame: pl.DataFrame, levels: dict[str, list[str]]) -> pl.DataFrame:
    """One 0/1 column per training level; a level train never saw (or a null) is all zeros."""
    return frame.with_columns(
        (pl.col(col) == level).fill_null(False).cast(pl.Int8).alias(f"{col}_{level}")
        for col, col_levels in levels.items()
        for level in col_levels
    )


def feature_matrices(
    train: pl.DataFrame, test: pl.DataFrame | None
) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Float32 model inputs for train and test, with statistics learned on train only."""
    medians = train.select(pl.col(RAW_NUMERIC).median()).row(0, named=True)
    train = add_features(train, medians)
    levels = {col: train[col].drop_nulls().unique().sort().to_list() for col in ONE_HOT}
    train = one_hot(train, levels)
    numeric = RAW_NUMERIC + NEW_NUMERIC
    names = (
        numeric
        + [f"{col}_patient_norm" for col in numeric]
        + ["count_per_patient"]
        + [f"{col}_{level}" for col, col_levels in levels.items() for level in col_levels]
    )
    x_test = None
    if test is not None:
        x_test = one_hot(add_features(test, medians), levels).select(names).to_numpy()
        x_test = x_test.astype(np.float32)
    return train.select(names).to_numpy().astype(np.float32), x_test, names


def make_models(seed: int, threads: int) -> list:
    return [
        lightgbm.LGBMClassifier(**LGBM_PARAMS, random_state=seed, n_jobs=threads),
        catboost.CatBoostClassifier(**CAT_PARAMS, random_seed=seed, thread_count=threads),
        xgboost.XGBClassifier(**XGB_PARAMS, random_state=seed, n_jobs=threads),
    ]


MODEL_NAMES = ("lgbm", "cat", "xgb")  # the order of make_models


def cross_validate(x, y, folds, x_test, seed: int, threads: int):
    """Soft-voted out-of-fold scores for every row, each model's own out-of-fold scores (by
    MODEL_NAMES) and the fold models' mean test score."""
    oof = np.zeros(len(y))
    by_model = {name: np.zeros(len(y)) for name in MODEL_NAMES}
    test_score = None if x_test is None else np.zeros(len(x_test))
    n_folds = int(folds.max()) + 1  # the folds given, which need not be N_FOLDS
    for fold in range(n_folds):
        train_idx, valid_idx = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        for k, model in enumerate(make_models(derive_seed(seed, fold), threads)):
            # Each model has its own under-sampler, as each notebook pipeline did.
            kept = train_idx[
                undersample_negatives(
                    y[train_idx], NEGATIVES_PER_POSITIVE, derive_seed(seed, fold, k)
                )
            ]
            model.fit(x[kept], y[kept])
            by_model[MODEL_NAMES[k]][valid_idx] = model.predict_proba(x[valid_idx])[:, 1]
            oof[valid_idx] += by_model[MODEL_NAMES[k]][valid_idx] / 3
            if x_test is not None:
                test_score += model.predict_proba(x_test)[:, 1] / (3 * n_folds)
        print(f"fold {fold}: pAUC {isic_pauc(y[valid_idx], oof[valid_idx]):.4f}", flush=True)
    return oof, by_model, test_score


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    start = time.perf_counter()
    data = read_dataset(args.data_dir)
    train = data.train
    y = train["target"].to_numpy().astype(np.int32)
    if args.folds_file is None:
        folds = patient_folds(train["patient_id"], y, N_FOLDS, args.seed)
    else:
        folds = _read_folds(args.folds_file, train)
    x, x_test, names = feature_matrices(train, data.test)
    print(f"{x.shape[0]} rows x {len(names)} features, {int(y.sum())} malignant", flush=True)
    threads = args.threads or os.cpu_count() or 1
    oof, by_model, test_score = cross_validate(x, y, folds, x_test, args.seed, threads)

    args.out.mkdir(parents=True, exist_ok=True)
    oof_frame = train.select("isic_id", "patient_id", "target").with_columns(
        fold=pl.Series(folds, dtype=pl.Int32),
        recipe=pl.Series(oof),
        **{f"recipe_{name}": pl.Series(scores) for name, scores in by_model.items()},
    )
    oof_frame.write_parquet(args.out / "oof.parquet")
    if x_test is not None:
        submission = pl.DataFrame({"isic_id": data.test["isic_id"], "target": test_score})
        # in the sample submission's order when there is one, checked as every submission is
        write_submission(args.out / SUBMISSION, submission, data.test["isic_id"], data.sample_ids)
    metrics = {
        "oof_pauc": isic_pauc(y, oof),
        "model_oof_pauc": {name: isic_pauc(y, scores) for name, scores in by_model.items()},
        "seconds": time.perf_counter() - start,
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"recipe OOF pAUC {metrics['oof_pauc']:.4f} in {metrics['seconds']:.0f} s: {args.out}")
    return 0


def _read_folds(path: Path, train: pl.DataFrame) -> np.ndarray:
    table = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    if not {"patient_id", "fold"} <= set(table.columns):
        raise UserError(f"{path}: expected columns patient_id,fold, got {','.join(table.columns)}")
    table = table.select(pl.col("patient_id").cast(pl.String), pl.col("fold").cast(pl.Int32))
    folds = train.select("patient_id").join(table, on="patient_id", how="left")["fold"]
    if folds.null_count():
        missing = train["patient_id"].filter(folds.is_null())[0]
        raise UserError(f"{path}: column 'patient_id': train patient {missing!r} has no fold")
    if sorted(folds.unique().to_list()) != list(range(N_FOLDS)):
        raise UserError(f"{path}: column 'fold': expected the values 0..{N_FOLDS - 1}")
    return folds.to_numpy()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.recipe", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="Kaggle layout folder")
    parser.add_argument(
        "--folds-file",
        type=Path,
        help="patient_id,fold CSV or Parquet (default: patient-grouped folds from --seed)",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--threads", type=int, default=0, help="threads (default: all cores)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    return parser


if __name__ == "__main__":
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    raise SystemExit(run_cli(main))
