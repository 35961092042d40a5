"""Is B better than A? Two run or blend folders scored on the same rows and folds: each
out-of-fold score, the paired difference B - A with a patient-bootstrap interval, and one
verdict line (better, worse, within noise). Exit 0 whatever the verdict."""

from __future__ import annotations

import argparse
from pathlib import Path

from features.errors import UserError
from models.artifacts.blend_inputs import read_oof
from models.blend import ENSEMBLE_COLUMN
from models.evaluation import Comparison, aligned, compare_scores
from pipelines._cli import run_cli


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    comparison = compare(**vars(args))
    column_a, column_b = args.column_a or args.column, args.column_b or args.column
    print(report(comparison, f"{args.a} [{column_a}]", f"{args.b} [{column_b}]"))
    return 0


def compare(
    a: Path,
    b: Path,
    *,
    column: str = ENSEMBLE_COLUMN,
    column_a: str | None = None,
    column_b: str | None = None,
    bootstrap: int = 1000,
    seed: int = 0,
) -> Comparison:
    """Is B better than A? The command `python -m pipelines.compare` with its flags as keyword
    arguments: `a` and `b` are run or blend folders (or the runs `train` returned) scored on the
    same rows and folds. Returns the `Comparison`: both out-of-fold ISIC scores with their
    patient-bootstrap intervals, the paired difference B - A with its interval, and `verdict`,
    "better", "worse" or "within noise"."""
    a, b = Path(a), Path(b)
    column_a = column_a or column
    column_b = column_b or column
    frame_a, frame_b = read_oof(a), read_oof(b)
    for frame, folder, name in ((frame_a, a, column_a), (frame_b, b, column_b)):
        if name not in frame.columns:
            raise UserError(f"{folder}/oof.parquet: no score column '{name}'")
        if not frame.schema[name].is_numeric():
            raise UserError(
                f"{folder}/oof.parquet: column '{name}' holds {frame.schema[name]}; "
                "expected numeric scores"
            )
    b_on_a = aligned(frame_a, frame_b, f"{a}/oof.parquet", f"{b}/oof.parquet")
    return compare_scores(
        frame_a["target"].to_numpy(),
        frame_a[column_a].to_numpy(),
        b_on_a[column_b].to_numpy(),
        frame_a["patient_id"].to_numpy(),
        bootstrap,
        seed,
    )


def report(c: Comparison, name_a: str, name_b: str) -> str:
    percent = round(100 * c.level)
    return "\n".join(
        [
            f"A  {c.score_a:.4f}  [{c.interval_a[0]:.4f}, {c.interval_a[1]:.4f}]  {name_a}",
            f"B  {c.score_b:.4f}  [{c.interval_b[0]:.4f}, {c.interval_b[1]:.4f}]  {name_b}",
            f"B - A  {c.difference:+.4f}  {percent} % patient-bootstrap interval "
            f"[{c.low:+.4f}, {c.high:+.4f}] ({c.resamples} resamples)",
            f"verdict: {c.verdict}",
        ]
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.compare", description=__doc__.splitlines()[0]
    )
    parser.add_argument("a", type=Path, help="run or blend folder A (the baseline)")
    parser.add_argument("b", type=Path, help="run or blend folder B (the candidate)")
    parser.add_argument(
        "--column", default=ENSEMBLE_COLUMN, help="oof.parquet score column (default ensemble)"
    )
    parser.add_argument("--column-a", help="A's column when it differs from --column")
    parser.add_argument("--column-b", help="B's column when it differs from --column")
    parser.add_argument(
        "--bootstrap", type=int, default=1000, help="patient-bootstrap resamples (default 1000)"
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    return parser


def cli() -> int:
    """The `tbp-compare` console script."""
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
