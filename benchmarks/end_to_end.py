"""End-to-end benchmark: train_gbdt against the public recipe on the same synthetic data and
folds, timed and memory-measured per command, recorded in benchmarks/RESULTS.md.

python -m benchmarks.end_to_end [--rows 400000] [--test-rows 200000] [--seed 42] [--work DIR]
[--results benchmarks/RESULTS.md]

Each command runs in its own measuring wrapper (benchmarks/harness.py), which reports its wall
time and the peak resident memory of its largest process.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks import harness

SECTION = "benchmarks.end_to_end"
BOOTSTRAP_SAMPLES = 1000


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = args.work.resolve()
    data, run, recipe = work / "data", work / "run", work / "recipe"
    harness.ensure_data(data, args.rows, args.test_rows, args.seed)

    py = sys.executable
    train_cmd = [py, "-m", "pipelines.train_gbdt", "--data-dir", str(data), "--out", str(run)]
    recipe_cmd = [
        py,
        "-m",
        "benchmarks.recipe",
        "--data-dir",
        str(data),
        "--folds-file",
        str(run / "folds.csv"),
        "--out",
        str(recipe),
        "--seed",
        str(args.seed),
    ]
    harness.remove(run)
    harness.remove(recipe)
    train = harness.measure("train_gbdt", train_cmd, work)
    base = harness.measure("recipe", recipe_cmd, work)

    comparison = harness.against_recipe(run, recipe, args.seed, BOOTSTRAP_SAMPLES)
    check = _check_predict(run, data / "test-metadata.csv", work) if args.test_rows else None

    metrics = json.loads((run / "metrics.json").read_text())
    recipe_models = json.loads((recipe / "metrics.json").read_text())["model_oof_pauc"]
    table = _report(args, train, base, comparison, check, metrics, recipe_models)
    print(table)
    harness.write_section(args.results, table, SECTION)
    print(f"recorded in {args.results}")
    return 0


def _check_predict(run: Path, test: Path, work: Path) -> str:
    """Does pipelines.predict, from the saved run alone, give the run's own submission?"""
    out = work / "predict.csv"
    command = [
        sys.executable,
        "-m",
        "pipelines.predict",
        "--run",
        str(run),
        "--test",
        str(test),
        "--out",
        str(out),
    ]
    timing = harness.measure("predict", command, work)
    saved, again = pl.read_csv(run / "submission.csv"), pl.read_csv(out)
    joined = saved.join(again, on="isic_id", how="full", suffix="_predict")
    if joined.height != saved.height or joined["target_predict"].null_count():
        return f"no: isic_id sets differ ({saved.height} vs {again.height} rows)"
    gap = float(np.max(np.abs(joined["target"].to_numpy() - joined["target_predict"].to_numpy())))
    same_order = saved["isic_id"].equals(again["isic_id"])
    verdict = "equal" if gap == 0 else f"not equal, max abs diff {gap:.3g}"
    order = "same row order" if same_order else "different row order"
    return f"{verdict} ({saved.height} rows, {order}; predict took {timing.seconds:.1f} s)"


def _report(
    args,
    train: harness.Measured,
    base: harness.Measured,
    comparison: harness.Comparison,
    check,
    metrics: dict,
    recipe_models: dict[str, float],
) -> str:
    observed, low, high = comparison.diff
    n_pos, n_patients = metrics["n_positive"], metrics["n_patients"]
    lines = [
        *harness.section_head(
            "End to end: train_gbdt against the public recipe", "benchmarks.end_to_end"
        ),
        f"- data: synthetic, {args.rows:,} train rows ({n_pos} malignant, {n_patients:,} "
        f"patients), {args.test_rows:,} test rows, seed {args.seed}; both on the same folds",
        "",
        "| | train_gbdt (ensemble) | recipe | train_gbdt / recipe |",
        "| --- | ---: | ---: | ---: |",
        f"| wall seconds | {train.seconds:.1f} | {base.seconds:.1f} | "
        f"{train.seconds / base.seconds:.2f} |",
        f"| peak memory (GiB, max RSS) | {train.peak_gib:.2f} | {base.peak_gib:.2f} | "
        f"{train.peak_gib / base.peak_gib:.2f} |",
        f"| OOF pAUC | {comparison.ensemble:.4f} | {comparison.recipe:.4f} | |",
        *(
            f"| OOF pAUC, {name} alone | {metrics['oof_pauc'][name]:.4f} | "
            f"{recipe_models[name]:.4f} | |"
            for name in recipe_models
            if name in metrics["oof_pauc"]
        ),
        "",
        f"- paired patient bootstrap, ensemble - recipe ({BOOTSTRAP_SAMPLES} resamples): "
        f"{observed:+.4f}, 95 % interval [{low:+.4f}, {high:+.4f}]",
        f"- `pipelines.predict` reproduces the run's submission.csv: "
        f"{check or 'not checked (no test rows)'}",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.end_to_end", description=__doc__.splitlines()[0]
    )
    harness.add_data_arguments(parser)
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "tbp-e2e",
        help="folder for the data and outputs (default %(default)s)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("benchmarks/RESULTS.md"),
        help="markdown file to record the table in",
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
