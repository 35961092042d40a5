"""Real-row benchmark of InterpretML's Explainable Boosting Machine, the field's usual glass box,
on the 5,000 real SLICE-3D rows: a comparison only, not one of the project's models (it saves
by pickle and validates on rows, not patients); recorded in benchmarks/RESULTS.md.

python -m benchmarks.ebm [--config FILE.toml] [--seeds 0-4] [--data FILE] [--work DIR]
[--against DIR] [--no-write] [--results benchmarks/RESULTS.md]

Needs the `bench` extra (`pip install -e '.[bench]'`, interpret-core); without it the command
prints one line saying so and exits 0. For each split seed, the folds are `benchmarks.real`'s
(`models.cv.patient_folds` on the same built rows, with the config's fold count), so the EBM's
out-of-fold column pairs with the columns a `benchmarks.real --work DIR` run saved. Each
training fold fits `ExplainableBoostingClassifier` on the feature matrix the config builds
(categoricals as strings), with `interactions=0` (purely additive, like the stumps of
`configs/glassbox.toml`), `random_state` = the split seed and every other setting at the
library's default; the held-out fold is scored with `predict_proba`. Reported: each split
seed's pooled out-of-fold ISIC pAUC and training seconds, their mean, and with `--against DIR`
the paired difference EBM minus that folder's default `ensemble` and minus its `lgbm` column,
with a 95 % patient-bootstrap interval over all seeds together (as `benchmarks.real` computes
it). `--work DIR` saves each seed's column as `DIR/ebm_seed{S}.parquet` (`isic_id, patient_id,
target, fold, ebm`) and `DIR/run.json`.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks.harness import section_head, write_section

# The same seeds, bootstrap and record format as benchmarks.real, so the two tables pair.
from benchmarks.real import (
    BOOTSTRAP_SAMPLES,
    BOOTSTRAP_SEED,
    add_real_rows_arguments,
    seed_list,
    shown_path,
)
from features.build import Built, build_features, fit_spec
from features.errors import UserError
from features.io import file_sha256, read_train
from models import artifacts
from models.config import load_config
from models.cv import patient_folds
from models.evaluation import isic_pauc, paired_bootstrap_diff
from pipelines._cli import run_cli

SECTION = "benchmarks.ebm"
COLUMN = "ebm"
# The columns of a benchmarks.real --work folder the EBM is paired with.
AGAINST = ("ensemble", "lgbm")
SKIP_LINE = (
    "benchmarks.ebm: skipped: interpret is not installed; the comparison needs the bench "
    "extra (pip install -e '.[bench]')"
)
# Settings shown in the record, read from the estimator the benchmark makes, so the text is
# what ran.
SHOWN_SETTINGS = (
    "interactions", "outer_bags", "inner_bags", "learning_rate", "max_bins", "max_leaves",
    "min_samples_leaf", "validation_size", "max_rounds", "early_stopping_rounds",
    "smoothing_rounds", "n_jobs",
)  # fmt: skip


@dataclass
class SeedRun:
    """The EBM's out-of-fold scores for one split seed."""

    split_seed: int
    folds: np.ndarray
    scores: np.ndarray
    seconds: float


def ebm_class() -> type | None:
    """InterpretML's classifier, or None where the `bench` extra is not installed."""
    try:
        from interpret.glassbox import ExplainableBoostingClassifier
    except ImportError:
        return None
    return ExplainableBoostingClassifier


def make_ebm(estimator: type, split_seed: int) -> Any:
    """The benchmark's EBM: purely additive, seeded by the split seed, the rest the defaults."""
    return estimator(interactions=0, random_state=split_seed)


def feature_table(built: Built):
    """The built features as the pandas frame the EBM takes: numbers as they are (nulls become
    NaN, its missing value), categoricals as strings (it treats them as nominal)."""
    frame = built.frame.select(built.names)
    return frame.with_columns(pl.col(built.categorical).cast(pl.String)).to_pandas()


def run_seed(estimator: type, table, y: np.ndarray, folds: np.ndarray, split_seed: int) -> SeedRun:
    """One split seed on its folds: one EBM per training fold, its held-out fold scored."""
    scores = np.full(y.size, np.nan)
    start = time.perf_counter()
    for fold in np.unique(folds):
        held = folds == fold
        model = make_ebm(estimator, split_seed)
        model.fit(table.iloc[np.flatnonzero(~held)], y[~held])
        scores[held] = model.predict_proba(table.iloc[np.flatnonzero(held)])[:, 1]
    return SeedRun(split_seed, folds, scores, time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    estimator = ebm_class()
    if estimator is None:
        print(SKIP_LINE, flush=True)
        return 0
    # The EBM warns on every fit that its plots do not draw missing values (nothing here plots),
    # numpy on a feature with no value in a training fold, and logs every bag at INFO.
    warnings.filterwarnings("ignore", message="Missing values detected")
    warnings.filterwarnings("ignore", message="All-NaN slice encountered")
    logging.getLogger("interpret").setLevel(logging.WARNING)
    started = time.perf_counter()
    config = load_config(args.config)
    data = Path(args.data)
    if not data.is_file():
        raise UserError(
            f"{data}: real train file not found; expected the 5,000-row ISIC 2024 sample "
            "(../shared/data/real/train-metadata-5k.csv) or a file given with --data"
        )
    train = read_train(data)
    spec = fit_spec(train, config.features.families, config.features.categoricals)
    built = build_features(train, spec)
    y = built.frame["target"].to_numpy().astype(np.int8)
    patients = built.frame["patient_id"].to_numpy()
    table = feature_table(built)
    print(
        f"{data}: {y.size:,} rows, {int(y.sum())} malignant, {len(set(patients)):,} patients; "
        f"{len(built.names)} features ({len(built.categorical)} categorical)",
        flush=True,
    )
    # benchmarks.real's folds: the same function on the same rows, fold count and split seed.
    folds = {seed: patient_folds(patients, y, config.cv.folds, seed) for seed in args.seeds}
    against = None
    if args.against is not None:  # checked before the fits, not after them
        ids = built.frame["isic_id"]
        against = {
            seed: saved_columns(args.against, seed, ids, seed_folds)
            for seed, seed_folds in folds.items()
        }
    runs: list[SeedRun] = []
    for split_seed, seed_folds in folds.items():
        run = run_seed(estimator, table, y, seed_folds, split_seed)
        runs.append(run)
        print(
            f"split seed {split_seed}: ebm {isic_pauc(y, run.scores):.4f} ({run.seconds:.0f} s)",
            flush=True,
        )
    summary = summarise(y, patients, runs, against)
    params = make_ebm(estimator, 0).get_params()
    settings = {k: v for k, v in params.items() if k in SHOWN_SETTINGS}
    source = {"path": str(data), "sha256": file_sha256(data), "rows": int(y.size),
              "malignant": int(y.sum()), "patients": len(set(patients))}  # fmt: skip
    if args.work is not None:
        _save(args.work, built.frame, runs, args, source, settings, summary)
        print(f"out-of-fold columns saved in {args.work}", flush=True)
    table_text = _report(args, config.cv.folds, source, runs, summary, settings)
    print(table_text)
    print(f"{time.perf_counter() - started:.0f} s in all", flush=True)
    if not args.no_write:
        write_section(args.results, table_text, SECTION)
        print(f"recorded in {args.results}")
    return 0


def saved_columns(
    folder: Path, split_seed: int, ids: pl.Series, folds: np.ndarray
) -> dict[str, np.ndarray]:
    """The default's `ensemble` and `lgbm` columns of one split seed from a `benchmarks.real
    --work` folder, in `ids`' order; refused unless that run had the same rows and folds."""
    path = folder / f"default_seed{split_seed}.parquet"
    if not path.is_file():
        raise UserError(f"{path}: no saved default columns for split seed {split_seed}")
    saved = pl.read_parquet(path)
    missing = [c for c in ("isic_id", "fold", *AGAINST) if c not in saved.columns]
    if missing:
        raise UserError(f"{path}: no column '{missing[0]}'; expected {', '.join(AGAINST)}")
    joined = ids.to_frame().join(saved, on="isic_id", how="left", maintain_order="left")
    if (
        saved.height != ids.len()
        or joined["fold"].null_count()
        or not np.array_equal(joined["fold"].to_numpy(), folds)
    ):
        raise UserError(f"{path}: other rows or folds than split seed {split_seed} has here")
    return {name: joined[name].to_numpy() for name in AGAINST}


def summarise(
    y: np.ndarray,
    patients: np.ndarray,
    runs: list[SeedRun],
    against: dict[int, dict[str, np.ndarray]] | None,
) -> dict[str, Any]:
    """Per-seed scores, their mean and, with `against`, each paired column's per-seed scores
    and the difference EBM minus it, with its interval over all seeds together."""
    per_seed = [isic_pauc(y, run.scores) for run in runs]
    summary: dict[str, Any] = {
        COLUMN: {"per_seed": per_seed, "mean": float(np.mean(per_seed))},
        "seconds": [run.seconds for run in runs],
        "against": {},
    }
    for name in AGAINST if against is not None else ():
        theirs = [against[run.split_seed][name] for run in runs]
        diff = paired_bootstrap_diff(
            y, [run.scores for run in runs], theirs, patients,
            n_boot=BOOTSTRAP_SAMPLES, seed=BOOTSTRAP_SEED,
        )  # fmt: skip
        scores = [isic_pauc(y, s) for s in theirs]
        summary["against"][name] = {
            "per_seed": scores,
            "mean": float(np.mean(scores)),
            "diff": list(diff),
        }
    return summary


def _save(work: Path, frame, runs, args, source, settings, summary) -> None:
    work.mkdir(parents=True, exist_ok=True)
    keys = frame.select("isic_id", "patient_id", "target")
    for run in runs:
        oof = keys.with_columns(
            pl.Series("fold", run.folds, dtype=pl.Int32), pl.Series(COLUMN, run.scores)
        )
        artifacts.write_parquet(work / f"{COLUMN}_seed{run.split_seed}.parquet", oof)
    record = {
        "data": source,
        "config_overlay": None if args.config is None else str(args.config),
        "split_seeds": [run.split_seed for run in runs],
        "interpret": _interpret_version(),
        "settings": settings,
        "against": None if args.against is None else str(args.against),
        "pauc": summary,
    }
    artifacts.write_json(work / "run.json", record)


def _interpret_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    for name in ("interpret-core", "interpret"):
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            continue
    return "interpret (version unknown)"


def _report(args, n_folds, source, runs, summary, settings) -> str:
    seeds = [run.split_seed for run in runs]
    shown = ", ".join(f"{k} = {v}" for k, v in settings.items() if k != "interactions")
    lines = [
        *section_head("Real rows: InterpretML's EBM, a glass box for comparison", SECTION),
        f"- data: `{shown_path(Path(source['path']))}` (sha256 {source['sha256'][:12]}), "
        f"{source['rows']:,} rows, {source['malignant']} malignant, {source['patients']:,} "
        "patients",
        f"- model: {_interpret_version()} `ExplainableBoostingClassifier(interactions=0, "
        f"random_state=split seed)` on the default config's features (categoricals as "
        f"strings), every other setting the library's default ({shown}); it validates "
        "early stopping on rows, not patients",
        f"- folds: split seeds {seed_list(seeds)} x {n_folds} patient-grouped folds "
        "(`models.cv.patient_folds`), the same as `benchmarks.real`'s",
        "- score: pooled out-of-fold ISIC pAUC (0 to 0.2) per split seed"
        + (
            f"; difference = EBM - the `benchmarks.real --work {args.against}` column over all "
            f"seeds together, 95 % interval from {BOOTSTRAP_SAMPLES} paired patient-bootstrap "
            "resamples"
            if summary["against"]
            else ""
        ),
        f"- time: EBM {sum(summary['seconds']):.0f} s for {len(runs)} seeds "
        f"({', '.join(f'{s:.0f}' for s in summary['seconds'])} s)",
        "",
        "| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |",
        "| --- | " + " | ".join("---:" for _ in seeds) + " | ---: |",
        _row("ebm", summary[COLUMN]["per_seed"], summary[COLUMN]["mean"]),
    ]
    for name, entry in summary["against"].items():
        lines.append(_row(f"default {name}", entry["per_seed"], entry["mean"]))
        diffs = np.subtract(summary[COLUMN]["per_seed"], entry["per_seed"])
        lines.append(
            _row(f"ebm - default {name}", diffs, summary[COLUMN]["mean"] - entry["mean"], "+")
        )
    if summary["against"]:
        lines += [
            "",
            "| against | ebm (mean) | default (mean) | ebm - default | 95 % interval | verdict |",
            "| --- | ---: | ---: | ---: | --- | --- |",
        ]
        for name, entry in summary["against"].items():
            observed, low, high = entry["diff"]
            verdict = "better" if low > 0 else ("worse" if high < 0 else "within noise")
            lines.append(
                f"| {name} | {summary[COLUMN]['mean']:.4f} | {entry['mean']:.4f} | "
                f"{observed:+.4f} | [{low:+.4f}, {high:+.4f}] | {verdict} |"
            )
    return "\n".join(lines)


def _row(name: str, values, mean: float, sign: str = "") -> str:
    cells = " | ".join(f"{v:{sign}.4f}" for v in values)
    return f"| {name} | {cells} | {mean:{sign}.4f} |"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ebm", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--config", type=Path,
        help="partial TOML overlay on the default config (its features and fold count)",
    )  # fmt: skip
    add_real_rows_arguments(parser)
    parser.add_argument(
        "--against", type=Path,
        help="a benchmarks.real --work folder on the same rows and seeds, to pair with",
    )  # fmt: skip
    return parser


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
