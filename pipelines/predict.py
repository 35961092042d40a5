"""Score a test file with a finished run folder, offline: rebuild the features from the run's
stored spec and average its saved models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from features.io import check_sample_matches, read_sample_ids, read_test
from features.overlap import warn_train_overlap
from features.score_files import read_score_file
from models import artifacts
from models.artifacts.submission import write_submission
from pipelines._cli import add_batch_rows, run_cli


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run = artifacts.load_run(args.run)
    test = read_test(args.test)
    warn_train_overlap(test, run.trained_on, args.test, f"the run's {args.run / artifacts.OOF}")
    order = None
    if args.sample is not None:
        order = read_sample_ids(args.sample)
        check_sample_matches(test, order, args.test, args.sample)
    scores = None if args.image_scores is None else read_score_file(args.image_scores)
    predictions = run.predict(test, args.batch_rows, scores, args.allow_missing_scores)
    out = args.out or Path("submission.csv")
    submission = artifacts.submission_frame(predictions, order)
    write_submission(out, submission, test["isic_id"], order)
    if args.predictions is not None:
        artifacts.write_parquet(args.predictions, predictions)
    print(f"scored {predictions.height} lesions with {args.run}: {out}", file=sys.stdout)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.predict", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--run", type=Path, required=True, help="a finished train_gbdt run folder")
    parser.add_argument("--test", type=Path, required=True, help="test-metadata CSV or Parquet")
    parser.add_argument("--sample", type=Path, help="sample_submission.csv: row order to follow")
    parser.add_argument("--out", type=Path, help="submission CSV (default submission.csv)")
    parser.add_argument(
        "--image-scores",
        type=Path,
        metavar="FILE",
        help="the test lesions' image-model scores (CSV or Parquet, isic_id and the score "
        "columns the run was trained with); required by a run trained with image scores",
    )
    parser.add_argument(
        "--allow-missing-scores",
        action="store_true",
        help="a lesion without a score gets null image features instead of an error",
    )
    add_batch_rows(parser)
    parser.add_argument(
        "--predictions",
        type=Path,
        help="also write every model's score and the ensemble to this Parquet",
    )
    return parser


def cli() -> int:
    """The `tbp-predict` console script."""
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
