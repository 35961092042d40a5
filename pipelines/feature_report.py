"""Write the offline feature report: one self-contained HTML page (and a Markdown summary
beside it) on the data, the features, and, with --run, what the run's models learned and where
they work less well."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from features.errors import UserError
from pipelines._cli import run_cli
from reports import build_report, resolve_inputs, write_report

HTML_SUFFIXES = (".html", ".htm")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    html = feature_report(**vars(args))
    summary = html.with_suffix(".md")
    print(
        f"feature report: {html} ({html.stat().st_size / 1e6:.1f} MB), summary: {summary}",
        file=sys.stdout,
    )
    return 0


def feature_report(out: Path, *, data_dir: Path | None = None, run: Path | None = None) -> Path:
    """Write the feature report `out` (an .html file, its Markdown summary beside it as .md);
    the command `python -m pipelines.feature_report` with its flags as keyword arguments. The
    data: the Kaggle-layout folder `data_dir`, else the files `run`'s manifest records, else the
    embedded data; `run` (a run folder, or the run `train` returned) adds the model sections.
    Returns the page's path."""
    out = Path(out)
    if out.suffix.lower() not in HTML_SUFFIXES:
        raise UserError(
            f"--out {out}: expected an .html file name (the summary goes beside it as .md)"
        )
    if out.is_dir():
        raise UserError(f"--out {out}: is a folder; expected an .html file name")
    inputs = resolve_inputs(
        None if data_dir is None else Path(data_dir), None if run is None else Path(run)
    )
    report = build_report(inputs)
    out.parent.mkdir(parents=True, exist_ok=True)
    html, _ = write_report(report, out)
    return html


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.feature_report", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="Kaggle layout: train-metadata.csv (required), test-metadata.csv, and "
        "train-image.hdf5 for tiles; default: the run's recorded files, else the embedded data",
    )
    parser.add_argument("--run", type=Path, help="a train_gbdt run folder: adds the model sections")
    parser.add_argument(
        "--out", type=Path, required=True, help="the HTML file to write (FILE.md beside it)"
    )
    return parser


def cli() -> int:
    """The `tbp-feature-report` console script."""
    warnings.filterwarnings("ignore", message="Failed to import numba")
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
