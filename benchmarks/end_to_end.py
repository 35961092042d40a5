"""End-to-end benchmark: train_gbdt against the public recipe on the same synthetic data and
folds, timed and memory-measured per command, recorded in benchmarks/RESULTS.md.

python -m benchmarks.end_to_end [--rows 400000] [--test-rows 200000] [--seed 42] [--work DIR]
[--results benchmarks/RESULTS.md]

Each command runs as a child of its own small wrapper process, which reports the child's wall
time and peak resident memory (`getrusage(RUSAGE_CHILDREN).ru_maxrss`). That figure is the
largest single process among the child and the descendants it waited for, so a fresh wrapper
per command keeps one command's peak from leaking into the next one's.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from models.metric import isic_pauc, paired_bootstrap_diff

SECTION_START = "<!-- benchmarks.end_to_end: start -->"
SECTION_END = "<!-- benchmarks.end_to_end: end -->"
BOOTSTRAP_SAMPLES = 1000

# Runs argv[2:] and writes {"seconds", "max_rss_kib", "returncode"} to the file argv[1].
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w") as handle:
    json.dump({"seconds": seconds, "max_rss_kib": peak, "returncode": code}, handle)
sys.exit(code)
"""


@dataclass
class Measured:
    seconds: float
    peak_gib: float


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = args.work.resolve()
    data, run, recipe = work / "data", work / "run", work / "recipe"
    _ensure_data(data, args.rows, args.test_rows, args.seed)

    py = sys.executable
    train_cmd = [py, "-m", "pipelines.train_gbdt", "--data-dir", str(data), "--out", str(run)]
    recipe_cmd = [
        py,
        "-m",
        "benchmarks.recipe",
        "--data-dir",
        str(data),
        "--folds-file",
        str(run / "folds.csv"),
        "--out",
        str(recipe),
        "--seed",
        str(args.seed),
    ]
    _remove(run)
    _remove(recipe)
    train = _measure("train_gbdt", train_cmd, work)
    base = _measure("recipe", recipe_cmd, work)

    ours = pl.read_parquet(run / "oof.parquet")
    theirs = pl.read_parquet(recipe / "oof.parquet").select("isic_id", "fold", "recipe")
    joined = ours.join(theirs, on="isic_id", how="inner", suffix="_recipe")
    if joined.height != ours.height or not joined["fold"].equals(joined["fold_recipe"]):
        raise SystemExit("error: the recipe's out-of-fold rows or folds differ from train_gbdt's")
    y = joined["target"].to_numpy()
    diff = paired_bootstrap_diff(
        y,
        joined["ensemble"].to_numpy(),
        joined["recipe"].to_numpy(),
        joined["patient_id"],
        n_boot=BOOTSTRAP_SAMPLES,
        seed=args.seed,
    )
    check = _check_predict(run, data / "test-metadata.csv", work) if args.test_rows else None

    table = _report(
        args,
        train,
        base,
        joined,
        diff,
        check,
        ensemble=isic_pauc(y, joined["ensemble"].to_numpy()),
        recipe=isic_pauc(y, joined["recipe"].to_numpy()),
    )
    print(table)
    _write_section(args.results, table)
    print(f"recorded in {args.results}")
    return 0


def _ensure_data(data: Path, rows: int, test_rows: int, seed: int) -> None:
    stamp = data / "make_synthetic.json"
    wanted = {"rows": rows, "test_rows": test_rows, "seed": seed}
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        print(f"reusing {data} ({wanted})", flush=True)
        return
    _remove(data)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.make_synthetic",
            "--out",
            str(data),
            "--rows",
            str(rows),
            "--test-rows",
            str(test_rows),
            "--seed",
            str(seed),
        ],
        check=True,
    )
    if not test_rows:  # make_synthetic writes a header-only test file the readers refuse
        for name in ("test-metadata.csv", "sample_submission.csv"):
            (data / name).unlink(missing_ok=True)
    stamp.write_text(json.dumps(wanted) + "\n")


def _measure(name: str, command: list[str], work: Path) -> Measured:
    """Run one command in its own wrapper; its output goes to WORK/NAME.log."""
    log_path, stats_path = work / f"{name}.log", work / f"{name}.stats.json"
    print(f"running {name}: {shlex.join(command)}", flush=True)
    with open(log_path, "w") as log:
        code = subprocess.call(
            [sys.executable, "-c", _WRAPPER, str(stats_path), *command],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if code != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-20:])
        raise SystemExit(f"error: {name} exited with {code}; last lines of {log_path}:\n{tail}")
    stats = json.loads(stats_path.read_text())
    measured = Measured(stats["seconds"], stats["max_rss_kib"] / 1024**2)
    print(f"  {measured.seconds:.1f} s, peak {measured.peak_gib:.2f} GiB", flush=True)
    return measured


def _check_predict(run: Path, test: Path, work: Path) -> str:
    """Does pipelines.predict, from the saved run alone, give the run's own submission?"""
    out = work / "predict.csv"
    command = [
        sys.executable,
        "-m",
        "pipelines.predict",
        "--run",
        str(run),
        "--test",
        str(test),
        "--out",
        str(out),
    ]
    timing = _measure("predict", command, work)
    saved, again = pl.read_csv(run / "submission.csv"), pl.read_csv(out)
    joined = saved.join(again, on="isic_id", how="full", suffix="_predict")
    if joined.height != saved.height or joined["target_predict"].null_count():
        return f"no: isic_id sets differ ({saved.height} vs {again.height} rows)"
    gap = float(np.max(np.abs(joined["target"].to_numpy() - joined["target_predict"].to_numpy())))
    same_order = saved["isic_id"].equals(again["isic_id"])
    verdict = "equal" if gap == 0 else f"not equal, max abs diff {gap:.3g}"
    order = "same row order" if same_order else "different row order"
    return f"{verdict} ({saved.height} rows, {order}; predict took {timing.seconds:.1f} s)"


def _report(
    args,
    train: Measured,
    base: Measured,
    joined: pl.DataFrame,
    diff,
    check,
    ensemble: float,
    recipe: float,
) -> str:
    observed, low, high = diff
    n_pos, n_patients = int(joined["target"].sum()), joined["patient_id"].n_unique()
    command = shlex.join(["python", "-m", "benchmarks.end_to_end", *sys.argv[1:]])
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "## End to end: train_gbdt against the public recipe",
        "",
        f"- machine: {_machine()}",
        f"- command: `{command}`",
        f"- date: {date}",
        f"- data: synthetic, {args.rows:,} train rows ({n_pos} malignant, {n_patients:,} "
        f"patients), {args.test_rows:,} test rows, seed {args.seed}; both on the same folds",
        "",
        "| | train_gbdt (ensemble) | recipe | train_gbdt / recipe |",
        "| --- | ---: | ---: | ---: |",
        f"| wall seconds | {train.seconds:.1f} | {base.seconds:.1f} | "
        f"{train.seconds / base.seconds:.2f} |",
        f"| peak memory (GiB, max RSS) | {train.peak_gib:.2f} | {base.peak_gib:.2f} | "
        f"{train.peak_gib / base.peak_gib:.2f} |",
        f"| OOF pAUC | {ensemble:.4f} | {recipe:.4f} | |",
        "",
        f"- paired patient bootstrap, ensemble - recipe ({BOOTSTRAP_SAMPLES} resamples): "
        f"{observed:+.4f}, 95 % interval [{low:+.4f}, {high:+.4f}]",
        f"- `pipelines.predict` reproduces the run's submission.csv: "
        f"{check or 'not checked (no test rows)'}",
    ]
    return "\n".join(lines)


def _machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    memory = "unknown memory"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cores} cores (nproc), {memory}, {cpu}"


def _write_section(results: Path, table: str) -> None:
    """Replace this benchmark's section of the results file, or append it."""
    section = f"{SECTION_START}\n{table}\n{SECTION_END}\n"
    text = results.read_text() if results.is_file() else ""
    if SECTION_START in text and SECTION_END in text:
        before, rest = text.split(SECTION_START, 1)
        after = rest.split(SECTION_END, 1)[1].lstrip("\n")
        text = before + section + after
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name(f".{results.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, results)


def _remove(path: Path) -> None:
    """Clear a previous output (and train_gbdt's .partial twin) so each run starts fresh."""
    for target in (path, path.with_name(path.name + ".partial")):
        if target.exists():
            shutil.rmtree(target)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.end_to_end", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=400_000, help="train rows (default 400000)")
    parser.add_argument("--test-rows", type=int, default=200_000, help="test rows (default 200000)")
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "tbp-e2e",
        help="folder for the data and outputs (default %(default)s)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("benchmarks/RESULTS.md"),
        help="markdown file to record the table in",
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
