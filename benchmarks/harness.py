"""What the benchmarks share: synthetic data on disk, one measured child process per command
(wall time and peak memory), the machine's description, and each benchmark's own section of
benchmarks/RESULTS.md."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features import synthetic
from features.io import file_sha256

# Runs argv[2:] and writes {"seconds", "max_rss_kib", "cpu_seconds", "returncode"} to the file
# argv[1]. The peak is the largest single process among the child and what it waited for, so a
# fresh wrapper per command keeps one command's peak from leaking into the next one's. CPU
# seconds (user + system) do not grow when other jobs share the cores; wall seconds do.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as handle:
    json.dump({"seconds": seconds, "max_rss_kib": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime, "returncode": code}, handle)
sys.exit(code)
"""


@dataclass
class Measured:
    seconds: float
    peak_gib: float
    cpu_seconds: float = 0.0  # user + system, of the command and its children


def ensure_data(
    data: Path, rows: int, test_rows: int, seed: int, extra: tuple[str, ...] = ()
) -> None:
    """make_synthetic's data in `data` (with `extra` flags, e.g. `--image-scores`), reused
    while the arguments and the generator's code are the same."""
    stamp = data / "make_synthetic.json"
    # the generator's own hash: data written by an older generator is written again
    package = Path(synthetic.__file__).parent
    files = "".join(file_sha256(f) for f in sorted(package.glob("*.py")))
    generator = hashlib.sha256(files.encode()).hexdigest()
    wanted = {"rows": rows, "test_rows": test_rows, "seed": seed, "generator": generator}
    if extra:  # only then, so that data made before `extra` existed is still reused
        wanted["extra"] = list(extra)
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        print(f"reusing {data} ({wanted})", flush=True)
        return
    remove(data)
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
            *extra,
        ],
        check=True,
    )
    if not test_rows:  # make_synthetic writes a header-only test file the readers refuse
        for name in ("test-metadata.csv", "sample_submission.csv"):
            (data / name).unlink(missing_ok=True)
    stamp.write_text(json.dumps(wanted) + "\n")


def measure(name: str, command: list[str], work: Path, cwd: Path | None = None) -> Measured:
    """Run one command in its own wrapper (in `cwd`, this folder by default); its output goes
    to WORK/NAME.log."""
    log_path, stats_path = work / f"{name}.log", work / f"{name}.stats.json"
    print(f"running {name}: {shlex.join(command)}", flush=True)
    with open(log_path, "w") as log:
        code = subprocess.call(
            [sys.executable, "-c", _WRAPPER, str(stats_path), *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
        )
    if code != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-20:])
        raise SystemExit(f"error: {name} exited with {code}; last lines of {log_path}:\n{tail}")
    stats = json.loads(stats_path.read_text())
    measured = Measured(stats["seconds"], stats["max_rss_kib"] / 1024**2, stats["cpu_seconds"])
    print(f"  {measured.seconds:.1f} s, peak {measured.peak_gib:.2f} GiB", flush=True)
    return measured


def section_head(title: str, module: str) -> list[str]:
    """The first lines of a RESULTS.md section: its title, the machine, the command as it was
    run and the date."""
    command = shlex.join(["python", "-m", module, *sys.argv[1:]])
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [
        f"## {title}",
        "",
        f"- machine: {machine()}",
        f"- command: `{command}`",
        f"- date: {date}",
    ]


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """--rows, --test-rows and --seed of the synthetic benchmark data."""
    parser.add_argument("--rows", type=int, default=400_000, help="train rows (default 400000)")
    parser.add_argument("--test-rows", type=int, default=200_000, help="test rows (default 200000)")
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")


def machine() -> str:
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


def train_on_train_file(data: Path, run: Path, work: Path) -> Measured:
    """`train_gbdt` with the default config on `data`'s train file alone (the big test file is
    scored later, by the command a benchmark measures), timed; `run` is replaced."""
    train_only = work / "train_only"
    remove(train_only)
    remove(run)
    train_only.mkdir(parents=True)
    (train_only / "train-metadata.csv").symlink_to(data / "train-metadata.csv")
    command = [sys.executable, "-m", "pipelines.train_gbdt", "--data-dir", str(train_only)]
    return measure("train_gbdt", [*command, "--out", str(run)], work)


def remove(path: Path) -> None:
    """Clear a previous output (and train_gbdt's .partial twin) so each run starts fresh."""
    for target in (path, path.with_name(path.name + ".partial")):
        if target.exists():
            shutil.rmtree(target)


def write_section(results: Path, text: str, name: str) -> None:
    """Replace the section between `<!-- NAME: start -->` and `<!-- NAME: end -->`, or append
    it; written to a temporary name and renamed into place."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    section = f"{start}\n{text}\n{end}\n"
    old = results.read_text() if results.is_file() else ""
    if start in old and end in old:
        before, rest = old.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        new = before + section + after
    else:
        new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + section
    results.parent.mkdir(parents=True, exist_ok=True)
    tmp = results.with_name(f".{results.name}.{os.getpid()}.tmp")
    tmp.write_text(new)
    os.replace(tmp, results)


@dataclass
class Comparison:
    ensemble: float  # the run's out-of-fold ensemble score
    recipe: float  # the recipe's, on the same rows
    diff: tuple[float, float, float]  # ensemble - recipe, 95 % paired patient-bootstrap interval


def against_recipe(run: Path, recipe: Path, seed: int, n_boot: int = 1000) -> Comparison:
    """Score a train_gbdt run folder against a benchmarks.recipe output on the same rows and
    folds (the first repeat's), with a paired patient-bootstrap interval."""
    return against_recipe_runs([run], [recipe], seed, n_boot)


def against_recipe_runs(
    runs: list[Path], recipes: list[Path], seed: int, n_boot: int = 1000
) -> Comparison:
    """The mean score of several train_gbdt runs against the mean of several recipe runs (other
    model seeds), all on the same rows and folds, with a paired patient-bootstrap interval."""
    from models.evaluation import isic_pauc, paired_bootstrap_diff

    frames = [pl.read_parquet(run / "oof.parquet") for run in runs]
    base = frames[0].select("isic_id", "patient_id", "target", "fold")
    ours = [_aligned(base, frame, "ensemble", run) for run, frame in zip(runs, frames, strict=True)]
    theirs = [
        _aligned(base, pl.read_parquet(recipe / "oof.parquet"), "recipe", recipe)
        for recipe in recipes
    ]
    y = base["target"].to_numpy()
    diff = paired_bootstrap_diff(y, ours, theirs, base["patient_id"], n_boot, seed)
    ensemble = float(np.mean([isic_pauc(y, s) for s in ours]))
    recipe = float(np.mean([isic_pauc(y, s) for s in theirs]))
    return Comparison(ensemble, recipe, diff)


def _aligned(base: pl.DataFrame, frame: pl.DataFrame, column: str, source: Path) -> np.ndarray:
    """`column` of `frame` in `base`'s row order; the rows and folds must be the same."""
    from features.errors import UserError
    from models.evaluation import aligned

    try:
        return aligned(base, frame, "the first run", str(source))[column].to_numpy()
    except UserError as error:
        raise SystemExit(f"error: {error}") from None
