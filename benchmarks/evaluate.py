"""Evaluation benchmark: `evaluate` on a large labelled synthetic cohort against `predict` on the
same file with the same run, timed and memory-measured; recorded in benchmarks/RESULTS.md.

python -m benchmarks.evaluate [--rows 400000] [--test-rows 1000000] [--seed 42] [--work DIR]
[--results benchmarks/RESULTS.md]

The data are `make_synthetic --test-labels`: the test file and its labels from the same draw.
The run is a default `train_gbdt` on the train file alone. The target: `evaluate` takes at most
3 times `predict`'s wall time. Its ISIC score must equal the score of `predict`'s submission
against the same labels (the same models, the same ranking).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from benchmarks import harness
from models.evaluation import isic_pauc

SECTION = "benchmarks.evaluate"
TARGET_RATIO = 3.0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = args.work.resolve()
    data, run = work / "data", work / "run"
    work.mkdir(parents=True, exist_ok=True)
    harness.ensure_data(data, args.rows, args.test_rows, args.seed, extra=("--test-labels",))
    stamp = (data / "make_synthetic.json").read_text()
    previous = work / "run.stamp"
    if not (
        previous.is_file() and previous.read_text() == stamp and (run / "metrics.json").exists()
    ):
        harness.train_on_train_file(data, run, work)
        previous.write_text(stamp)
    test, labels = data / "test-metadata.csv", data / "test-labels.csv"
    py = sys.executable
    submission = work / "submission.csv"
    predict = [py, "-m", "pipelines.predict", "--run", str(run), "--test", str(test)]
    predicted = harness.measure("predict", [*predict, "--out", str(submission)], work)
    evaluation = work / "evaluation"
    harness.remove(evaluation)
    evaluate = [py, "-m", "pipelines.evaluate", "--run", str(run), "--cohort", str(test)]
    evaluate += ["--labels", str(labels), "--out", str(evaluation)]
    evaluated = harness.measure("evaluate", evaluate, work)
    results = json.loads((evaluation / "evaluation.json").read_text())
    joined = pl.read_csv(submission).join(pl.read_csv(labels), on="isic_id", suffix="_label")
    predict_pauc = isic_pauc(joined["target_label"].to_numpy(), joined["target"].to_numpy())
    table = _report(args, predicted, evaluated, results, predict_pauc)
    print(table)
    harness.write_section(args.results, table, SECTION)
    print(f"recorded in {args.results}")
    return 0


def _report(args, predicted, evaluated, results: dict, predict_pauc: float) -> str:
    ratio = evaluated.seconds / predicted.seconds
    lines = harness.section_head(
        f"Evaluate on {args.test_rows:,} labelled rows against predict on the same file", SECTION
    )
    lines += [
        f"- data: synthetic, {args.rows:,} train and {args.test_rows:,} labelled test rows (seed "
        f"{args.seed}); the run: train_gbdt (default config) on the train file alone",
        f"- bootstrap resamples: {results['bootstrap_samples']} (the run's own), for every "
        "interval",
        "",
        "| command | wall s | CPU s | peak GiB |",
        "| --- | ---: | ---: | ---: |",
        f"| `predict` | {predicted.seconds:.1f} | {predicted.cpu_seconds:.1f} | "
        f"{predicted.peak_gib:.2f} |",
        f"| `evaluate` | {evaluated.seconds:.1f} | {evaluated.cpu_seconds:.1f} | "
        f"{evaluated.peak_gib:.2f} |",
        "",
        f"- evaluate / predict wall time: {ratio:.2f} (target: at most {TARGET_RATIO:.0f}; "
        f"{'met' if ratio <= TARGET_RATIO else 'NOT met'})",
        f"- ISIC score of the ensemble in evaluation.json: {results['pauc']['ensemble']:.6f}; "
        f"of predict's submission.csv against test-labels.csv: {predict_pauc:.6f} "
        f"({'equal' if abs(results['pauc']['ensemble'] - predict_pauc) < 1e-9 else 'DIFFERENT'})",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.evaluate", description=__doc__)
    harness.add_data_arguments(parser)
    parser.set_defaults(test_rows=1_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/tbp-evaluate-bench"))
    parser.add_argument("--results", type=Path, default=Path("benchmarks/RESULTS.md"))
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
