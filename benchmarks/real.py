"""Real-row benchmark: the project's default configuration (or the default overlaid with a
partial TOML) against the public recipe on the 5,000 real SLICE-3D rows, over several split
seeds x patient-grouped folds, both sides on exactly the same folds; recorded in
benchmarks/RESULTS.md.

python -m benchmarks.real [--config FILE.toml] [--seeds 0-4] [--data FILE] [--threads N]
[--work DIR] [--no-write] [--results benchmarks/RESULTS.md]

For each split seed, `models.cv.patient_folds` makes the folds once and both sides train on
them in this process: the default through `models.cv.cross_validate` with the config's seed set
to the split seed, its ensemble column computed as train_gbdt computes it; the recipe through
`benchmarks.recipe.cross_validate` with the split seed as its seed. The split seed is thus the
model seed base too (the config's `seed` and `[cv] repeats` give way to the split seeds, its
`[training] threads` to `--threads`), and the run is deterministic. Reported per library and
for the ensemble: each split seed's pooled out-of-fold ISIC pAUC on both sides, their means
over seeds, and the paired difference default minus recipe with a 95 % patient-bootstrap
interval over all seeds together (the mean pAUC of each side's runs, resampled on the same
patients).

`--recipe-from DIR` reuses the recipe columns an earlier `--work DIR` saved on the same rows and
split seeds (checked), for trying overlays without training the recipe again.
`--work DIR` also saves each seed's out-of-fold columns, `DIR/{default,recipe}_seed{S}.parquet`
(`isic_id, patient_id, target, fold`, one column per model, `ensemble`), and `DIR/run.json`
(data, seeds, config, every score), for later analyses on the same rows and folds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from benchmarks import recipe
from benchmarks.harness import section_head, write_section
from features.build import build_features, fit_spec
from features.errors import UserError
from features.io import file_sha256, read_train
from models import artifacts
from models.blend import run_ensemble
from models.boosters import Matrix
from models.config import Config, load_config
from models.cv import cross_validate, patient_folds
from models.evaluation import isic_pauc, paired_bootstrap_diff
from pipelines._cli import run_cli

SECTION = "benchmarks.real"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "real" / "train-metadata-5k.csv"
ENSEMBLE = "ensemble"
SIDES = ("default", "recipe")
RECIPE_MODELS = ("lgbm", "xgb", "cat")
BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0


@dataclass
class SeedRun:
    """Both sides' out-of-fold scores for one split seed, on one set of folds."""

    split_seed: int
    folds: np.ndarray  # fold of every row, as both sides used it
    scores: dict[str, dict[str, np.ndarray]]  # side -> model or "ensemble" -> score per row
    seconds: dict[str, float]  # side -> training seconds


def parse_seeds(text: str) -> list[int]:
    """Split seeds from `A-B` (both ends included) or a comma list such as `0,2,5`."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d+\s*-\s*\d+", text):
            first, last = (int(part) for part in text.split("-"))
            if last < first:
                raise ValueError
            return list(range(first, last + 1))
        seeds = [int(part) for part in text.split(",")]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(
            f"'{text}': expected a range A-B with A <= B or distinct non-negative integers "
            "separated by commas"
        )
    return seeds


def run_seed(
    default_x: Matrix,
    recipe_x: np.ndarray,
    patients: np.ndarray,
    config: Config,
    split_seed: int,
    threads: int,
    recipe_from: Path | None = None,
    ids: pl.Series | None = None,
) -> SeedRun:
    """One split seed: its folds, then the default and the recipe trained on them (or the
    recipe's columns read back from `recipe_from`, an earlier `--work` on the same folds)."""
    y = np.asarray(default_x.y)
    folds = patient_folds(patients, y, config.cv.folds, split_seed)
    seeded = config.replace(seed=split_seed, cv={"repeats": 1}, training={"threads": threads})
    start = time.perf_counter()
    result = cross_validate(default_x, patients, seeded, folds=folds[np.newaxis, :])
    # The ensemble column exactly as train_gbdt writes it to oof.parquet.
    e = seeded.ensemble
    ensemble = run_ensemble(
        result.oof, result.oof_probability, y, result.folds, e.method, e.calibration
    )
    default = {**result.oof, ENSEMBLE: ensemble.oof}
    middle = time.perf_counter()
    if recipe_from is not None:
        recipe_scores = _saved_recipe(recipe_from, split_seed, ids, folds)
    else:
        # The recipe prints a line per fold; keep stdout for this benchmark's own lines.
        with contextlib.redirect_stdout(sys.stderr):
            soft_vote, by_model, _ = recipe.cross_validate(
                recipe_x, y.astype(np.int32), folds, None, split_seed, threads
            )
        recipe_scores = {name: by_model[name] for name in RECIPE_MODELS} | {ENSEMBLE: soft_vote}
    end = time.perf_counter()
    return SeedRun(
        split_seed,
        folds,
        {"default": default, "recipe": recipe_scores},
        {"default": middle - start, "recipe": end - middle},
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", message="X does not have valid feature names")
    warnings.filterwarnings("ignore", message="Failed to import numba")
    started = time.perf_counter()
    config = load_config(args.config)
    data = Path(args.data)
    if not data.is_file():
        raise UserError(
            f"{data}: real train file not found; expected the 5,000-row ISIC 2024 sample "
            "(../shared/data/real/train-metadata-5k.csv) or a file given with --data"
        )
    threads = args.threads or len(os.sched_getaffinity(0))
    train = read_train(data)
    spec = fit_spec(train, config.features.families, config.features.categoricals)
    built = build_features(train, spec)
    # Every array below follows the built frame's rows; the recipe gets the raw rows in it too.
    train = _in_order_of(train, built.frame)
    y = built.frame["target"].to_numpy().astype(np.int8)
    patients = built.frame["patient_id"].to_numpy()
    default_x = Matrix(built.frame, built.names, built.categorical, y)
    recipe_x, _, _ = recipe.feature_matrices(train, None)
    print(
        f"{data}: {y.size:,} rows, {int(y.sum())} malignant, {len(set(patients)):,} patients; "
        f"default {len(built.names)} features, recipe {recipe_x.shape[1]}; {threads} threads",
        flush=True,
    )
    runs = []
    for split_seed in args.seeds:
        run = run_seed(
            default_x, recipe_x, patients, config, split_seed, threads,
            args.recipe_from, built.frame["isic_id"],
        )  # fmt: skip
        runs.append(run)
        print(
            f"split seed {split_seed}: ensemble default "
            f"{isic_pauc(y, run.scores['default'][ENSEMBLE]):.4f} "
            f"({run.seconds['default']:.0f} s), recipe "
            f"{isic_pauc(y, run.scores['recipe'][ENSEMBLE]):.4f} ({run.seconds['recipe']:.0f} s)",
            flush=True,
        )
    names = [n for n in (*config.models.names, ENSEMBLE) if n in runs[0].scores["recipe"]]
    summary = summarise(y, patients, runs, names)
    seconds = time.perf_counter() - started
    source = {"path": str(data), "sha256": file_sha256(data), "rows": int(y.size),
              "malignant": int(y.sum()), "patients": len(set(patients))}  # fmt: skip
    if args.work is not None:
        _save(args.work, built.frame, runs, config, args, source, summary)
        print(f"out-of-fold columns saved in {args.work}", flush=True)
    table = _report(args, config, source, runs, summary, threads, seconds)
    print(table)
    if not args.no_write:
        write_section(args.results, table, section_key(args.config))
        print(f"recorded in {args.results}")
    return 0


def summarise(
    y: np.ndarray, patients: np.ndarray, runs: list[SeedRun], names: list[str]
) -> dict[str, dict[str, Any]]:
    """model -> per-seed scores of both sides, their means, and the paired difference with its
    interval over all seeds together."""
    summary = {}
    for name in names:
        default = [run.scores["default"][name] for run in runs]
        theirs = [run.scores["recipe"][name] for run in runs]
        diff = paired_bootstrap_diff(
            y, default, theirs, patients, n_boot=BOOTSTRAP_SAMPLES, seed=BOOTSTRAP_SEED
        )
        per_seed = {
            "default": [isic_pauc(y, s) for s in default],
            "recipe": [isic_pauc(y, s) for s in theirs],
        }
        summary[name] = {
            "per_seed": per_seed,
            "mean": {side: float(np.mean(values)) for side, values in per_seed.items()},
            "diff": list(diff),
        }
    return summary


def _saved_recipe(
    folder: Path, split_seed: int, ids: pl.Series, folds: np.ndarray
) -> dict[str, np.ndarray]:
    """The recipe's out-of-fold columns of one split seed from an earlier `--work` folder, in
    `ids`' order; refused unless that run had the same rows and folds (the recipe does not
    depend on the configuration being tried, so its columns can be reused)."""
    path = folder / f"recipe_seed{split_seed}.parquet"
    if not path.is_file():
        raise UserError(f"{path}: no saved recipe columns for split seed {split_seed}")
    saved = ids.to_frame().join(pl.read_parquet(path), on="isic_id", how="left")
    if (
        saved.height != ids.len()
        or saved["fold"].null_count()
        or not np.array_equal(saved["fold"].to_numpy(), folds)
    ):
        raise UserError(f"{path}: other rows or folds than split seed {split_seed} has here")
    return {name: saved[name].to_numpy() for name in (*RECIPE_MODELS, ENSEMBLE)}


def section_key(overlay: Path | None) -> str:
    """`benchmarks.real` for the default, `benchmarks.real:<stem>` for an overlay, so each
    overlay keeps a section of its own."""
    if overlay is None:
        return SECTION
    return f"{SECTION}:{re.sub(r'[^A-Za-z0-9_.]+', '_', Path(overlay).stem)}"


def _in_order_of(raw: pl.DataFrame, built: pl.DataFrame) -> pl.DataFrame:
    """`raw`'s rows in `built`'s order, by isic_id (the builders may reorder rows)."""
    return built.select("isic_id").join(raw, on="isic_id", how="left", maintain_order="left")


def _save(work: Path, frame, runs, config, args, source, summary) -> None:
    work.mkdir(parents=True, exist_ok=True)
    keys = frame.select("isic_id", "patient_id", "target")
    for run in runs:
        for side in SIDES:
            oof = keys.with_columns(
                pl.Series("fold", run.folds, dtype=pl.Int32),
                *(pl.Series(name, values) for name, values in run.scores[side].items()),
            )
            artifacts.write_parquet(work / f"{side}_seed{run.split_seed}.parquet", oof)
    record = {
        "data": source,
        "config_overlay": None if args.config is None else str(args.config),
        "split_seeds": [run.split_seed for run in runs],
        "folds": config.cv.folds,
        "config": config.to_dict(),
        "seconds": {side: [run.seconds[side] for run in runs] for side in SIDES},
        "pauc": summary,
    }
    artifacts.write_json(work / "run.json", record)


def _overlay_text(overlay: Path) -> str:
    """The overlay's settings as `section.key = value` pairs, for the record."""
    pairs: list[str] = []

    def walk(table: dict[str, Any], prefix: str) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                pairs.append(f"{prefix}{key} = {json.dumps(value)}")

    walk(tomllib.loads(Path(overlay).read_text(encoding="utf-8")), "")
    return ", ".join(pairs) or "(empty)"


def seed_list(seeds: list[int]) -> str:
    contiguous = len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1))
    return f"{seeds[0]}-{seeds[-1]}" if contiguous else ",".join(map(str, seeds))


def _report(args, config, source, runs, summary, threads, seconds) -> str:
    seeds = [run.split_seed for run in runs]
    title = "Real rows: the default configuration against the public recipe"
    if args.config is not None:
        title = f"Real rows: the default + `{Path(args.config).name}` against the public recipe"
    lines = [
        *section_head(title, "benchmarks.real"),
        f"- data: `{shown_path(Path(source['path']))}` (sha256 {source['sha256'][:12]}), "
        f"{source['rows']:,} rows, {source['malignant']} malignant, {source['patients']:,} "
        "patients",
    ]
    if args.config is not None:
        lines.append(f"- overlay on configs/default.toml: {_overlay_text(args.config)}")
    lines += [
        f"- folds: split seeds {seed_list(seeds)} x {config.cv.folds} patient-grouped folds "
        "(`models.cv.patient_folds`), the same folds for both sides; the split seed is also "
        "each side's model seed base",
        "- score: pooled out-of-fold ISIC pAUC (0 to 0.2) per split seed; difference = default "
        f"- recipe over all seeds together, 95 % interval from {BOOTSTRAP_SAMPLES} paired "
        "patient-bootstrap resamples",
        f"- time: default {sum(r.seconds['default'] for r in runs):.0f} s, recipe "
        f"{sum(r.seconds['recipe'] for r in runs):.0f} s, {seconds:.0f} s in all, "
        f"{threads} threads",
        "",
        "| model | side | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |",
        "| --- | --- | " + " | ".join("---:" for _ in seeds) + " | ---: |",
    ]
    for name, entry in summary.items():
        per_seed, mean = entry["per_seed"], entry["mean"]
        for side in SIDES:
            cells = " | ".join(f"{v:.4f}" for v in per_seed[side])
            lines.append(f"| {name} | {side} | {cells} | {mean[side]:.4f} |")
        diffs = np.subtract(per_seed["default"], per_seed["recipe"])
        cells = " | ".join(f"{v:+.4f}" for v in diffs)
        lines.append(
            f"| {name} | default - recipe | {cells} | {mean['default'] - mean['recipe']:+.4f} |"
        )
    lines += [
        "",
        "| model | default (mean) | recipe (mean) | default - recipe | 95 % interval | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for name, entry in summary.items():
        observed, low, high = entry["diff"]
        verdict = "better" if low > 0 else ("worse" if high < 0 else "within noise")
        lines.append(
            f"| {name} | {entry['mean']['default']:.4f} | {entry['mean']['recipe']:.4f} | "
            f"{observed:+.4f} | [{low:+.4f}, {high:+.4f}] | {verdict} |"
        )
    return "\n".join(lines)


def shown_path(path: Path) -> str:
    """A path under the repository's parent as the repository sees it (`../shared/...`)."""
    try:
        return str(Path("..") / path.resolve().relative_to(REPO.parent))
    except ValueError:
        return str(path)


def add_real_rows_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags every benchmark on the real rows shares: which rows and split seeds, where the
    out-of-fold columns go, and where the table is recorded."""
    parser.add_argument(
        "--seeds", type=parse_seeds, default=list(range(5)),
        help="split seeds: a range A-B or a comma list (default 0-4)",
    )  # fmt: skip
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA,
        help="real train file, CSV or Parquet (default ../shared/data/real/train-metadata-5k.csv)",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, help="folder for the out-of-fold columns")
    parser.add_argument(
        "--no-write", action="store_true", help="print the table without recording it"
    )
    parser.add_argument(
        "--results", type=Path, default=Path("benchmarks/RESULTS.md"),
        help="markdown file to record the table in",
    )  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.real", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", type=Path, help="partial TOML overlay on the default config")
    add_real_rows_arguments(parser)
    parser.add_argument("--threads", type=int, default=0, help="threads (default: all cores)")
    parser.add_argument(
        "--recipe-from", type=Path,
        help="reuse the recipe's columns saved by an earlier --work on the same rows and seeds",
    )  # fmt: skip
    return parser


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
