"""Blend run folders and image-model scores (rank mean, weighted ranks, stacking; by default the
rank mean unless a fitted method beats it beyond noise) into a blend folder with honest
out-of-fold scores and, when every component has test scores, a submission."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TypeAlias

from features.errors import UserError
from features.frames import DataInput, as_source
from models.artifacts import folder_lock
from models.artifacts.blend_folder import FinishedBlend, ScoreSpec, make_blend
from models.blend import BEST, ENSEMBLE_COLUMN, METHODS
from pipelines._cli import run_cli

# `--scores NAME=TRAIN_FILE,TEST_FILE`: name -> (train, test), or (name, (train, test)) pairs
ScorePairs: TypeAlias = (
    "Mapping[str, tuple[DataInput, DataInput | None]]"
    " | Sequence[tuple[str, tuple[DataInput, DataInput | None]]]"
)


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    # Pairs, not a dict: a name given twice is kept twice (the second becomes NAME_2).
    finished = blend(**args | {"scores": [_score_pair(text) for text in args["scores"]]})
    print(summary_table(finished), file=sys.stdout)
    return 0


def blend(
    run: Path | Sequence[Path],
    *,
    out: Path,
    scores: ScorePairs | None = None,
    method: str = BEST,
    predictions: Sequence[Path | DataInput] = (),
    sample: Path | None = None,
    run_columns: str = ENSEMBLE_COLUMN,
    bootstrap: int = 1000,
    seed: int = 0,
) -> FinishedBlend:
    """Blend run folders (`run`: one, or a list; the runs `train` returned work too) and score
    files into the blend folder `out`; the command `python -m pipelines.blend` with its flags
    as keyword arguments. `scores` maps a name to its (train, test) pair of score files, each a
    path or a Polars or pandas DataFrame (test may be None); a list of (name, (train, test))
    pairs works too. `predictions` holds, per run, its scores of another test file: what
    `predict` returned or wrote with `predictions`. Returns the blend: `path`,
    `metrics` (its metrics.json as a dict) and `oof` (the out-of-fold scores, a Polars frame)."""
    runs = [Path(run)] if isinstance(run, str | PathLike) else [Path(r) for r in run]
    specs = [
        ScoreSpec(
            name,
            as_source(train, f"{name} train scores frame"),
            None if test is None else as_source(test, f"{name} test scores frame"),
        )
        for name, (train, test) in _pairs(scores or {})
    ]
    out = Path(out)
    with folder_lock(out, "blend"):
        return make_blend(
            runs,
            specs,
            out,
            method=method,
            run_columns=run_columns,
            bootstrap_samples=bootstrap,
            seed=seed,
            predictions=[
                as_source(p, f"predictions frame {i + 1}") for i, p in enumerate(predictions)
            ],
            sample=sample,
        )


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


def _pairs(scores: ScorePairs) -> list[tuple[str, tuple[DataInput, DataInput | None]]]:
    return list(scores.items() if isinstance(scores, Mapping) else scores)


def _score_pair(text: str) -> tuple[str, tuple[Path, Path | None]]:
    name, sep, files = text.partition("=")
    parts = [p for p in files.split(",") if p]
    if not sep or not name or not 1 <= len(parts) <= 2:
        raise UserError(f"--scores '{text}': expected NAME=TRAIN_FILE,TEST_FILE")
    return name, (Path(parts[0]), Path(parts[1]) if len(parts) == 2 else None)


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
