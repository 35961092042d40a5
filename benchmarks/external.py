"""External validation on the real rows, one hospital at a time: train on the other hospitals'
patients, then `pipelines.evaluate` the saved run on the held-out hospital; recorded in
benchmarks/RESULTS.md and shown in docs/evaluation.md.

python -m benchmarks.external [--data FILE] [--min-malignant 10] [--config FILE.toml]
[--work DIR] [--no-write] [--results benchmarks/RESULTS.md]

Each hospital (`attribution`) with at least `--min-malignant` malignant lesions is held out in
turn. Its lesions are the cohort (the train layout, with `target`); the rest is the training
file of a default `train_gbdt` run. Patients never span hospitals in SLICE-3D, so the cohort is
external in the sense that matters: no patient, and no lesion of the hospital, was seen.

The real rows keep every malignant lesion and about 1 % of the benign ones: their malignant
rate is about 80 times the full data's, and a run trained on them is calibrated to that rate.
A hospital whose rate differs from the other hospitals' shows it in O/E.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from benchmarks import harness
from benchmarks.real import DEFAULT_DATA

SECTION = "benchmarks.external"
HOSPITAL = "attribution"


@dataclass
class HeldOut:
    hospital: str
    evaluation: dict
    training_rate: float  # malignant share of the rows the run trained on
    training_oof_pauc: float  # the run's own out-of-fold ensemble score (internal validation)
    seconds: float  # train_gbdt and evaluate together


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rows = pl.read_csv(args.data, infer_schema=False)
    target = pl.col("target").cast(pl.Int8)
    counts = (
        rows.group_by(HOSPITAL)
        .agg(target.sum().alias("malignant"))
        .filter(pl.col("malignant") >= args.min_malignant)
        .sort("malignant", descending=True)
    )
    work = args.work.resolve()
    results = [
        _hold_out(rows, hospital, work / f"hospital_{i}", args.config)
        for i, hospital in enumerate(counts[HOSPITAL])
    ]
    table = _report(args, results)
    print(table)
    if not args.no_write:
        harness.write_section(args.results, table, SECTION)
        print(f"recorded in {args.results}")
    return 0


def _hold_out(rows: pl.DataFrame, hospital: str, folder: Path, config: Path | None) -> HeldOut:
    harness.remove(folder)
    (folder / "data").mkdir(parents=True)
    training = rows.filter(pl.col(HOSPITAL) != hospital)
    training.write_csv(folder / "data" / "train-metadata.csv")
    rows.filter(pl.col(HOSPITAL) == hospital).write_csv(folder / "cohort.csv")
    py = sys.executable
    train = [py, "-m", "pipelines.train_gbdt", "--data-dir", str(folder / "data")]
    train += ["--out", str(folder / "run")] + (["--config", str(config)] if config else [])
    trained = harness.measure(f"{folder.name}_train", train, folder)
    evaluate = [py, "-m", "pipelines.evaluate", "--run", str(folder / "run")]
    evaluate += ["--cohort", str(folder / "cohort.csv"), "--out", str(folder / "evaluation")]
    evaluated = harness.measure(f"{folder.name}_evaluate", evaluate, folder)
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    return HeldOut(
        hospital=hospital,
        evaluation=json.loads((folder / "evaluation" / "evaluation.json").read_text()),
        training_rate=metrics["n_positive"] / metrics["n_rows"],
        training_oof_pauc=metrics["oof_pauc"]["ensemble"],
        seconds=trained.seconds + evaluated.seconds,
    )


def _report(args, results: list[HeldOut]) -> str:
    lines = harness.section_head(
        "External validation: one real hospital held out at a time", SECTION
    )
    lines += [
        f"- data: {args.data} (the 5,000 real rows); hospitals with at least "
        f"{args.min_malignant} malignant lesions; config: {args.config or 'the default'}",
        "- each row: train_gbdt on the other hospitals, then evaluate on this one; intervals "
        "are 95 % patient-bootstrap intervals",
        "",
        "| held-out hospital | lesions | malignant | patients | ISIC score | "
        "run's own out-of-fold score | O/E | calibration slope | malignant rate: cohort / "
        "training |",
        "| --- | ---: | ---: | ---: | --- | ---: | --- | --- | ---: |",
    ]
    for held in results:
        e = held.evaluation
        calibration = e["calibration"]
        rate = e["n_positive"] / e["n_rows"]
        lines.append(
            f"| {held.hospital} | {e['n_rows']:,} | {e['n_positive']} | {e['n_patients']} | "
            f"{_with_interval(e['pauc']['ensemble'], e['pauc_ci']['ensemble'])} | "
            f"{held.training_oof_pauc:.4f} | "
            f"{_with_interval(calibration['observed_expected'], calibration['observed_expected_ci'], 2)} | "  # noqa: E501
            f"{_with_interval(calibration['slope'], calibration['slope_ci'], 2)} | "
            f"{rate:.3f} / {held.training_rate:.3f} |"
        )
    seconds = sum(h.seconds for h in results)
    lines += ["", f"- {seconds:.0f} s for all hospitals (training and evaluating)"]
    return "\n".join(lines)


def _with_interval(value, interval, digits: int = 4) -> str:
    if value is None:
        return "-"
    if not interval:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.external", description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--min-malignant", type=int, default=10)
    parser.add_argument("--config", type=Path, help="partial TOML overlay for every run")
    parser.add_argument("--work", type=Path, default=Path("/tmp/tbp-external"))
    parser.add_argument("--no-write", action="store_true", help="print, do not record")
    parser.add_argument("--results", type=Path, default=Path("benchmarks/RESULTS.md"))
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
