"""Write the embedded synthetic SLICE-3D data set in the Kaggle layout.

python -m pipelines.make_synthetic --out DIR [--rows N] [--test-rows N] [--seed S]
[--malignant-rate R] [--free-direction-sd S] [--image-scores] [--test-labels]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from features import synthetic
from features.errors import UserError
from pipelines._cli import run_cli


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = make_synthetic(**vars(args))
    written = []
    if args.image_scores:
        written += synthetic.IMAGE_FILES
    if args.test_labels:
        written.append(synthetic.TEST_LABELS_FILE)
    also = f" with {', '.join(written)}" if written else ""
    print(f"wrote {args.rows} train and {args.test_rows} test rows{also} to {out}")
    return 0


def make_synthetic(
    out: Path,
    *,
    rows: int = synthetic.EMBEDDED_TRAIN_ROWS,
    test_rows: int = synthetic.EMBEDDED_TEST_ROWS,
    seed: int = 42,
    malignant_rate: float = synthetic.DEFAULT_MALIGNANT_RATE,
    free_direction_sd: float = 0.0,
    image_scores: bool = False,
    test_labels: bool = False,
) -> Path:
    """Write synthetic SLICE-3D data in the Kaggle layout into the folder `out`; the command
    `python -m pipelines.make_synthetic` with its flags as keyword arguments. Returns the
    folder's path."""
    if rows < 1:
        raise UserError(f"--rows: expected a whole number >= 1, got {rows}")
    if test_rows < 0:
        raise UserError(f"--test-rows: expected a whole number >= 0, got {test_rows}")
    if rows + test_rows > 9_000_000:
        raise UserError("--rows plus --test-rows: expected at most 9,000,000 (7-digit isic_id)")
    if not 0.0 < malignant_rate < 1.0:
        raise UserError(f"--malignant-rate: expected a share between 0 and 1, got {malignant_rate}")
    if not 0.0 <= free_direction_sd < float("inf"):
        raise UserError(
            f"--free-direction-sd: expected a finite number >= 0, got {free_direction_sd}"
        )
    if test_labels and test_rows < 1:
        raise UserError("--test-labels: expected --test-rows >= 1 (the labels are the test rows')")
    out = Path(out)
    data = synthetic.draw(
        rows,
        test_rows,
        seed,
        malignant_rate,
        free_direction_sd=free_direction_sd,
        image_scores=image_scores,
    )
    synthetic.write_kaggle_layout(data.train, data.test, out)
    if data.image_scores is not None:
        synthetic.write_image_scores(data.image_scores, out)
    if test_labels:
        synthetic.write_test_labels(data.test_labels, out)
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.make_synthetic",
        description="Write synthetic SLICE-3D train-metadata.csv, test-metadata.csv and "
        "sample_submission.csv (Kaggle layout) into a folder.",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument(
        "--rows",
        type=int,
        default=synthetic.EMBEDDED_TRAIN_ROWS,
        help="train rows (default %(default)s)",
    )
    parser.add_argument(
        "--test-rows",
        type=int,
        default=synthetic.EMBEDDED_TEST_ROWS,
        help="test rows from other patients, 0 for none (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    parser.add_argument(
        "--malignant-rate",
        type=float,
        default=synthetic.DEFAULT_MALIGNANT_RATE,
        help="share of malignant lesions (default %(default)s, the real data's); a higher one "
        "gives small cohorts enough malignant lesions to score",
    )
    parser.add_argument(
        "--free-direction-sd",
        type=float,
        default=0.0,
        help="experiments only: malignant lesions also stand out from their patient in a "
        "random colour and shape direction, this many within-patient SDs (default 0: the "
        "calibrated data)",
    )
    parser.add_argument(
        "--image-scores",
        action="store_true",
        help="also write an image model's scores: train-image-scores.csv (out-of-fold on the "
        "image model's folds, image-folds.csv) and test-image-scores.csv",
    )
    parser.add_argument(
        "--test-labels",
        action="store_true",
        help="also write test-labels.csv (isic_id,target of the test rows): a labelled cohort "
        "for evaluate --cohort test-metadata.csv --labels test-labels.csv",
    )
    return parser


def cli() -> int:
    """The `tbp-make-synthetic` console script."""
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
