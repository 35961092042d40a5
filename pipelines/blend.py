"""Blend run folders and image-model scores (rank mean, weighted ranks, stacking; by default the
rank mean unless a fitted method beats it beyond noise) into a blend folder with honest
out-of-fold scores and, when every component has test scores, a submission."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from features.errors import UserError
from models.artifacts import folder_lock
from models.artifacts.blend_folder import FinishedBlend, ScoreSpec, make_blend
from models.blend import BEST, ENSEMBLE_COLUMN, METHODS
from pipelines._cli import run_cli


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    with folder_lock(args.out, "blend"):
        finished = make_blend(
            args.run,
            [_score_spec(text) for text in args.scores],
            args.out,
            method=args.method,
            run_columns=args.run_columns,
            bootstrap_samples=args.bootstrap,
            seed=args.seed,
            predictions=args.predictions,
            sample=args.sample,
        )
    print(summary_table(finished), file=sys.stdout)
    return 0


def summary_table(finished: FinishedBlend) -> str:
    m = finished.metrics
    lines = [
        f"{m['n_rows']} lesions, {m['n_positive']} malignant, {m['n_patients']} patients: "
        f"{finished.path}",
        f"{'column':<28}{'oof pAUC':>10}   95% patient-bootstrap CI",
    ]
    for name, value in m["oof_pauc"].items():
        if name == ENSEMBLE_COLUMN:
            continue
        low, high = m["oof_pauc_ci"][name]
        marker = "  <- chosen" if name == m["method"] else ""
        lines.append(f"{name[:27]:<28}{value:>10.4f}   [{low:.4f}, {high:.4f}]{marker}")
    for name, c in m["against_rank_mean"].items():
        lines.append(
            f"{name} - rank_mean: {c['difference']:+.4f} [{c['low']:+.4f}, {c['high']:+.4f}] "
            f"{c['verdict']}"
        )
    lines.append(f"method: {m['method']} (asked: {m['asked']})")
    if not m["submission"]:
        lines.append("no submission.csv: not every component has test scores")
    return "\n".join(lines)


def _score_spec(text: str) -> ScoreSpec:
    name, sep, files = text.partition("=")
    parts = [p for p in files.split(",") if p]
    if not sep or not name or not 1 <= len(parts) <= 2:
        raise UserError(f"--scores '{text}': expected NAME=TRAIN_FILE,TEST_FILE")
    return ScoreSpec(name, Path(parts[0]), Path(parts[1]) if len(parts) == 2 else None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.blend", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--run",
        type=Path,
        action="append",
        required=True,
        help="a run folder (repeat for more); all on the same folds. The first one's rows, "
        "labels, folds and test order anchor the blend",
    )
    parser.add_argument(
        "--scores",
        action="append",
        default=[],
        metavar="NAME=TRAIN_FILE,TEST_FILE",
        help="a score file pair (CSV or Parquet: isic_id and numeric columns): out-of-fold "
        "scores on the runs' folds for train, plain scores for test (repeatable)",
    )
    parser.add_argument(
        "--method",
        default=BEST,
        choices=[*METHODS, BEST],
        help="the blend written as 'ensemble' and submitted (default best: the rank mean "
        "unless a fitted method beats it beyond noise); every method is scored regardless",
    )
    parser.add_argument("--out", type=Path, required=True, help="blend folder to write")
    parser.add_argument(
        "--predictions",
        type=Path,
        action="append",
        default=[],
        help="test predictions of the n-th --run on another test file (what predict "
        "--predictions writes), instead of the run's own test_predictions.parquet; repeat "
        "once per --run, in the same order",
    )
    parser.add_argument(
        "--sample",
        type=Path,
        help="sample_submission.csv: the submission's row order (default: the first run's)",
    )
    parser.add_argument(
        "--run-columns",
        default=ENSEMBLE_COLUMN,
        help="which oof.parquet columns of each run to blend: a comma list, or 'models' for "
        "each model's column (default ensemble)",
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        help="patient-bootstrap resamples for intervals and comparisons (default 1000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    return parser


def cli() -> int:
    """The `tbp-blend` console script."""
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
