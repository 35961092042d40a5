"""Evaluate a saved run (or any score file) on a labelled cohort it never trained on:
discrimination, thresholds fixed in advance, calibration, net benefit, subgroups and shift, each
with a patient-bootstrap interval, written to an evaluation folder with its page."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from features.errors import UserError
from features.frames import DataInput, is_frame
from models.artifacts import Run, folder_lock
from models.external import Evaluation, default_evaluation_dir, evaluate_run, evaluate_scores
from pipelines._cli import add_batch_rows, run_cli
from reports.evaluation import summary_lines, write_evaluation_page


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    finished = evaluate(**vars(args))
    print(
        "\n".join([*summary_lines(finished.results), f"folder: {finished.path}"]), file=sys.stdout
    )
    return 0


def evaluate(
    cohort: DataInput,
    *,
    run: Path | Run | None = None,
    scores: DataInput | None = None,
    score_column: str = "target",
    probability: bool = False,
    labels: DataInput | None = None,
    image_scores: DataInput | None = None,
    allow_missing_scores: bool = False,
    batch_rows: int | None = None,
    eval_by: str | Sequence[str] = (),
    out: Path | None = None,
) -> Evaluation:
    """Evaluate the run folder `run` (or the score file `scores`) on the labelled `cohort` and
    write the evaluation folder `out` (default evaluations/<UTC time>); the command
    `python -m pipelines.evaluate` with its flags as keyword arguments. `cohort`, `labels`,
    `scores` and `image_scores` each take a path or a Polars or pandas DataFrame; `eval_by` a
    column name or a list of them. Returns the `Evaluation`: `path`, `results` (its
    evaluation.json as a dict) and `scores` (each cohort lesion's scores, a Polars frame)."""
    eval_by = [eval_by] if isinstance(eval_by, str) else list(eval_by)
    if (run is None) == (scores is None):
        raise UserError("expected either --run RUN_DIR or --scores FILE, not both or neither")
    if scores is not None and image_scores is not None:
        given = "" if is_frame(image_scores) else f" {image_scores}"
        raise UserError(f"--image-scores{given}: goes with --run; a score file is already scored")
    if run is not None and (probability or score_column != "target"):
        raise UserError("--probability and --score-column go with --scores, not with --run")
    out = Path(out) if out is not None else default_evaluation_dir()
    run = None if run is None else Path(run)  # a Run from `train` or `load_run` is its folder
    with folder_lock(out, "evaluate"):
        if run is not None:
            return evaluate_run(
                run,
                cohort,
                out,
                labels=labels,
                image_scores=image_scores,
                allow_missing_scores=allow_missing_scores,
                batch_rows=batch_rows,
                eval_by=eval_by,
                page=write_evaluation_page,
            )
        return evaluate_scores(
            scores,
            cohort,
            out,
            score_column=score_column,
            probability=probability,
            labels=labels,
            allow_missing_scores=allow_missing_scores,
            eval_by=eval_by,
            page=write_evaluation_page,
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.evaluate", description=__doc__.splitlines()[0]
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="a finished train_gbdt run folder to evaluate")
    source.add_argument(
        "--scores",
        type=Path,
        metavar="FILE",
        help="instead of a run, a score file (CSV or Parquet: isic_id and a score column), "
        "such as a blend's or an image model's submission",
    )
    parser.add_argument(
        "--score-column",
        default="target",
        metavar="NAME",
        help="with --scores: the column to evaluate (default target, a submission's)",
    )
    parser.add_argument(
        "--probability",
        action="store_true",
        help="with --scores: the column is a probability of malignancy, so calibration and net "
        "benefit apply",
    )
    parser.add_argument(
        "--cohort",
        type=Path,
        required=True,
        help="the labelled cohort: train-layout metadata (CSV or Parquet) with target, or "
        "test-layout metadata with --labels",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        metavar="FILE",
        help="isic_id,target for every cohort lesion, when the cohort is in the test layout",
    )
    parser.add_argument(
        "--image-scores",
        type=Path,
        metavar="FILE",
        help="the cohort lesions' image-model scores; required by a run trained with them",
    )
    parser.add_argument(
        "--allow-missing-scores",
        action="store_true",
        help="a lesion without an image score gets null image features; with --scores, a "
        "lesion without a score is left out (counted in a warning)",
    )
    add_batch_rows(parser)
    parser.add_argument(
        "--eval-by",
        action="append",
        default=[],
        metavar="COLUMN",
        help="also report the score per level of this categorical cohort column (repeatable); "
        "hospital, body site, sex, age band and tile type always are",
    )
    parser.add_argument(
        "--out", type=Path, help="evaluation folder to write (default evaluations/<UTC time>)"
    )
    return parser


def cli() -> int:
    """The `tbp-evaluate` console script."""
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
