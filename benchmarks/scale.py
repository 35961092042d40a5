"""Scale benchmark: the default train_gbdt on 4,000,000 train rows and `predict` on 2,000,000
test rows at several batch sizes, each with its wall time, CPU time and peak memory against the
machine's memory, recorded in benchmarks/RESULTS.md.

python -m benchmarks.scale [--rows 4000000] [--test-rows 2000000] [--seed 42]
[--batch-rows 50000,200000,2000000] [--work DIR] [--retrain] [--results benchmarks/RESULTS.md]

- the synthetic data (make_synthetic) is generated once into WORK/data and reused while its
  arguments and the generator's code are the same;
- train_gbdt trains on the train file alone (scoring the test file is measured separately);
  the run and its measurement are reused while the data are the same (`--retrain` to redo);
- predict scores the whole test file once per batch size (`--batch-rows`), the last one by
  default the whole file in one batch: the peaks show what the batch bounds and what the file
  itself costs; the submissions of every batch size are compared (the scores must not depend
  on it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks import harness
from models.config import load_config

SECTION = "benchmarks.scale"


@dataclass
class Scored:
    batch_rows: int
    batches: int
    measured: harness.Measured
    submission: Path


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    data = work / "data"
    started = time.perf_counter()
    harness.ensure_data(data, args.rows, args.test_rows, args.seed)
    generated = time.perf_counter() - started
    run = work / "run"
    trained = _ensure_run(data, run, work, args.retrain)
    test = data / "test-metadata.csv"
    sizes = args.batch_rows or [50_000, load_config().predict.batch_rows, args.test_rows]
    patients = pl.read_csv(test, columns=["patient_id"])["patient_id"]
    scored = [_predict(run, test, size, patients, work) for size in sizes]
    table = _report(args, generated, trained, scored, (load_start, os.getloadavg()))
    print(table)
    harness.write_section(args.results, table, SECTION)
    print(f"recorded in {args.results}")
    return 0


@dataclass
class Trained:
    measured: harness.Measured
    loads: list[list[float]]  # load averages at the start and the end of training
    reused: bool


def _ensure_run(data: Path, run: Path, work: Path, retrain: bool) -> Trained:
    """train_gbdt on the train file alone, measured; the run and its measurement are reused
    while the data are the same (training is most of this benchmark's hour), unless
    `retrain`."""
    stamp, stats = work / "run.stamp.json", work / "train_gbdt.stats.json"
    data_stamp = json.loads((data / "make_synthetic.json").read_text())
    if not retrain and (run / "manifest.json").is_file() and stamp.is_file() and stats.is_file():
        previous = json.loads(stamp.read_text())
        if previous["data"] == data_stamp:
            print(f"reusing {run} and its measurement", flush=True)
            numbers = json.loads(stats.read_text())
            measured = harness.Measured(
                numbers["seconds"], numbers["max_rss_kib"] / 1024**2, numbers["cpu_seconds"]
            )
            return Trained(measured, previous["loads"], reused=True)
    start = list(os.getloadavg())
    measured = harness.train_on_train_file(data, run, work)
    loads = [start, list(os.getloadavg())]
    stamp.write_text(json.dumps({"data": data_stamp, "loads": loads}) + "\n")
    return Trained(measured, loads, reused=False)


def _predict(run: Path, test: Path, batch_rows: int, patients: pl.Series, work: Path) -> Scored:
    from models.artifacts.scoring import patient_batches

    out = work / f"submission-{batch_rows}.csv"
    command = [sys.executable, "-m", "pipelines.predict", "--run", str(run), "--test", str(test),
               "--out", str(out), "--batch-rows", str(batch_rows)]  # fmt: skip
    measured = harness.measure(f"predict-{batch_rows}", command, work)
    # the same batching predict did, counted here rather than parsed from its log
    batches = len(patient_batches(patients, batch_rows))
    return Scored(batch_rows, batches, measured, out)


def _agreement(scored: list[Scored]) -> str:
    first = pl.read_csv(scored[0].submission)
    gap = 0.0
    for other in scored[1:]:
        frame = pl.read_csv(other.submission)
        if not frame["isic_id"].equals(first["isic_id"]):
            return f"{other.submission.name} lists other ids or another order than the first"
        diff = np.abs(frame["target"].to_numpy() - first["target"].to_numpy())
        gap = max(gap, float(np.max(diff)))
    return f"same ids in the same order at every batch size; largest difference in target {gap:.1e}"


def _report(args, generated, trained: Trained, scored: list[Scored], loads) -> str:
    memory = _memory_gib()
    title = f"Scale: {args.rows:,} train rows, {args.test_rows:,} test rows"
    lines = harness.section_head(title, SECTION)
    when = (
        "in an earlier call on the same data, with that time's code and default config, whose "
        "run is reused"
        if trained.reused
        else "here"
    )
    lines += [
        f"- data: synthetic, {args.rows:,} train and {args.test_rows:,} test rows (seed "
        f"{args.seed}); generating or reusing it took {generated:.0f} s; train_gbdt trains on "
        f"the train file alone (measured {when}), predict scores the test file with that run",
        f"- load average (1, 5, 15 min) on 2 shared cores, other engineers' jobs included: "
        f"training from {_load(trained.loads[0])} to {_load(trained.loads[1])}; predict from "
        f"{_load(loads[0])} to {_load(loads[1])}. Other jobs inflate wall seconds, not CPU "
        "seconds",
        "",
        "| command | wall s | CPU s | peak GiB (max RSS) | share of the machine's memory |",
        "| --- | ---: | ---: | ---: | ---: |",
        _row("train_gbdt, default config", trained.measured, memory),
    ]
    for s in scored:
        batches = f"{s.batches:,} batch" + ("es" if s.batches > 1 else "")
        label = f"predict, --batch-rows {s.batch_rows:,} ({batches})"
        lines.append(_row(label, s.measured, memory))
    peaks = [s.measured.peak_gib for s in scored]
    highest = max([trained.measured.peak_gib, *peaks])
    lines += [
        "",
        f"- every peak against the machine's {memory:.1f} GiB: "
        + ("within it" if highest < memory else "NOT within it"),
        f"- predict's peak from {min(peaks):.2f} to {max(peaks):.2f} GiB across batch sizes: "
        "the whole test frame is read once, the features and each library's input are built "
        "per batch of whole patients",
        f"- {_agreement(scored)}",
    ]
    return "\n".join(lines)


def _row(label: str, measured: harness.Measured, memory: float) -> str:
    return (
        f"| {label} | {measured.seconds:.0f} | {measured.cpu_seconds:.0f} | "
        f"{measured.peak_gib:.2f} | {measured.peak_gib / memory:.0%} |"
    )


def _load(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def _memory_gib() -> float:
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    return pages * size / 1024**3


def _int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected whole numbers >= 1, got {text}")
    return values


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=4_000_000, help="train rows (default 4000000)")
    parser.add_argument(
        "--test-rows", type=int, default=2_000_000, help="test rows (default 2000000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument(
        "--batch-rows",
        type=_int_list,
        help="predict's batch sizes, comma-separated (default: 50000, the config's "
        "[predict] batch_rows and the whole test file)",
    )
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "tbp-scale-bench"
    )
    parser.add_argument(
        "--retrain", action="store_true", help="train again even where WORK holds the run"
    )
    parser.add_argument("--results", type=Path, default=Path("benchmarks/RESULTS.md"))
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
