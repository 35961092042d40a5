"""Score a test file with a finished run folder, offline: rebuild the features from the run's
stored spec and average its saved models."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from features.frames import DataInput, as_source
from features.io import TEST_FRAME, check_sample_matches, read_sample_ids, read_test
from features.overlap import warn_train_overlap
from features.score_files import IMAGE_SCORES_FRAME, read_score_file
from models import artifacts
from models.artifacts import Run
from models.artifacts.submission import write_submission
from pipelines._cli import add_batch_rows, run_cli


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    # The command writes submission.csv by default; the function writes only what it is asked.
    out = args.pop("out") or Path("submission.csv")
    predictions = predict(**args, out=out)
    print(f"scored {predictions.height} lesions with {args['run']}: {out}", file=sys.stdout)
    return 0


def predict(
    run: Path | Run,
    test: DataInput,
    *,
    sample: Path | None = None,
    out: Path | None = None,
    image_scores: DataInput | None = None,
    allow_missing_scores: bool = False,
    batch_rows: int | None = None,
    predictions: Path | None = None,
) -> pl.DataFrame:
    """Score `test` (test-layout metadata: a path, or a Polars or pandas DataFrame) with the
    finished run folder `run`; the command `python -m pipelines.predict` with its flags as
    keyword arguments. Returns the predictions as a Polars frame (`isic_id`, every model's
    score, the ensemble and the calibrated `probability` when the run has one), in `test`'s
    order. Writes the submission CSV only when `out` is given (in `sample`'s row order when
    given), and every score to the Parquet `predictions` when given."""
    loaded = run if isinstance(run, Run) else artifacts.load_run(run)
    source = as_source(test, TEST_FRAME)
    frame = read_test(source)
    warn_train_overlap(frame, loaded.trained_on, source, f"the run's {loaded.path / artifacts.OOF}")
    order = None
    if sample is not None:
        order = read_sample_ids(sample)
        check_sample_matches(frame, order, source, sample)
    scores = None
    if image_scores is not None:
        scores = read_score_file(as_source(image_scores, IMAGE_SCORES_FRAME))
    scored = loaded.score(frame, batch_rows, scores, allow_missing_scores)
    if out is not None:
        submission = artifacts.submission_frame(scored, order)
        write_submission(Path(out), submission, frame["isic_id"], order)
    if predictions is not None:
        artifacts.write_parquet(Path(predictions), scored)
    return scored


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.predict", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--run", type=Path, required=True, help="a finished train_gbdt run folder")
    parser.add_argument("--test", type=Path, required=True, help="test-metadata CSV or Parquet")
    parser.add_argument("--sample", type=Path, help="sample_submission.csv: row order to follow")
    parser.add_argument(
        "--out",
        type=Path,
        help="submission CSV (default submission.csv; from Python, written only when given)",
    )
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
