"""Prediction benchmark: `predict` on a large test file with a default run, timed and
memory-measured, against the code of an earlier revision on the same run and file, with a
per-library breakdown of both ways of scoring, recorded in benchmarks/RESULTS.md.

python -m benchmarks.predict [--rows 400000] [--test-rows 1000000] [--seed 42] [--work DIR]
[--before REV] [--results benchmarks/RESULTS.md]

- now: `python -m pipelines.predict` as it is (batches of whole patients, each library's
  input built once per batch and shared by its models);
- before (with `--before REV`): the same command from a worktree of REV, on the same run;
- per library, in one process: the input building and predicting of each library's five
  models as predict does it now, and as it did before (each model built its own input from
  the whole feature frame: XGBoost a DMatrix from Polars, LightGBM a column-major matrix).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks import harness

SECTION = "benchmarks.predict"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.profile:
        print(json.dumps(_profile(Path(args.profile[0]), Path(args.profile[1]))))
        return 0
    work = args.work.resolve()
    data, run = work / "data", work / "run"
    work.mkdir(parents=True, exist_ok=True)
    harness.ensure_data(data, args.rows, args.test_rows, args.seed)
    test = data / "test-metadata.csv"
    _ensure_run(data, run, work)
    py = sys.executable
    now = harness.measure("predict_now", _predict_command(run, test, work / "now.csv"), work)
    before = None
    if args.before:
        tree = _worktree(args.before, work / "before_tree")
        command = _predict_command(run, test, work / "before.csv")
        before = harness.measure("predict_before", command, work, cwd=tree)
    profile = json.loads(
        subprocess.run(
            [py, "-m", "benchmarks.predict", "--profile", str(run), str(test)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]
    )
    agreement = _agreement(work, before is not None)
    table = _report(args, now, before, profile, agreement)
    print(table)
    harness.write_section(args.results, table, SECTION)
    return 0


def _ensure_run(data: Path, run: Path, work: Path) -> None:
    """A default run trained on the train file alone (scoring the big test file is what is
    measured, not part of training); reused while the data stamp is the same."""
    stamp = (data / "make_synthetic.json").read_text()
    previous = work / "run.stamp"
    if (run / "manifest.json").is_file() and previous.is_file() and previous.read_text() == stamp:
        print(f"reusing {run}", flush=True)
        return
    harness.train_on_train_file(data, run, work)
    (work / "run.stamp").write_text(stamp)


def _predict_command(run: Path, test: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "pipelines.predict", "--run", str(run), "--test", str(test)] + [
        "--out",
        str(out),
    ]


def _worktree(rev: str, folder: Path) -> Path:
    """A detached checkout of `rev` (made once) to run its `predict` from."""
    if not folder.is_dir():
        subprocess.run(["git", "worktree", "add", "--detach", str(folder), rev], check=True)
    return folder


def _agreement(work: Path, with_before: bool) -> str:
    if not with_before:
        return "no earlier revision asked for (--before)"
    now = pl.read_csv(work / "now.csv")
    before = pl.read_csv(work / "before.csv")
    if not now["isic_id"].equals(before["isic_id"]):
        return "the two submissions list different ids or orders"
    gap = float(np.max(np.abs(now["target"].to_numpy() - before["target"].to_numpy())))
    return f"same ids in the same order; largest difference in target {gap:.2e}"


def _profile(run_dir: Path, test_path: Path) -> dict[str, float]:
    """Seconds of each stage in this process: read, features, and per library its input and
    five models' predictions now (shared input) and before (an input per model)."""
    import xgboost as xgb

    from features.build import build_features
    from features.io import read_test
    from models.artifacts import load_run
    from models.boosters import Matrix, booster

    run = load_run(run_dir)
    out: dict[str, float] = {}
    started = time.perf_counter()
    frame = read_test(test_path)
    out["read"] = time.perf_counter() - started
    started = time.perf_counter()
    built = build_features(frame, run.spec)
    out["features"] = time.perf_counter() - started
    x = Matrix(built.frame, run.feature_names, run.categorical)
    for name in run.model_names:
        models = [m.fitted for m in run.models if m.name == name]
        started = time.perf_counter()
        data = booster(name).prepare(x)
        now = [m.predict_prepared(data) for m in models]
        out[f"{name}_now"] = time.perf_counter() - started
        del data
        started = time.perf_counter()
        before = [_predict_as_before(name, m, x, xgb) for m in models]
        out[f"{name}_before"] = time.perf_counter() - started
        gap = max(float(np.max(np.abs(a - b))) for a, b in zip(now, before, strict=True))
        out[f"{name}_largest_difference"] = gap
    return out


def _predict_as_before(name: str, fitted, x, xgb) -> np.ndarray:
    """One model's prediction the way predict made it before the shared inputs."""
    if name == "lgbm":
        frame = x.frame.select(
            pl.col(n).to_physical().cast(pl.Float32) if n in x.categorical else pl.col(n)
            for n in x.names
        )
        return fitted.booster.predict(frame.to_numpy(), num_iteration=fitted.rounds)
    if name == "xgb":
        matrix = xgb.DMatrix(x.frame.select(x.names), enable_categorical=True)
        trees = min(fitted.rounds, fitted.booster.num_boosted_rounds())
        return fitted.booster.predict(matrix, iteration_range=(0, trees))
    return fitted.predict(x)  # CatBoost: a Pool per model, as before


def _report(args, now, before, profile: dict[str, float], agreement: str) -> str:
    lines = harness.section_head("Prediction: scoring a large test file", SECTION)
    lines += [
        f"- data: synthetic, {args.test_rows:,} test rows scored by a default run trained on "
        f"{args.rows:,} train rows (seed {args.seed}); the CSV is read inside the timing",
        "",
        "| | wall seconds | peak GiB (max RSS) |",
        "| --- | ---: | ---: |",
        f"| `predict` now | {now.seconds:.1f} | {now.peak_gib:.2f} |",
    ]
    if before is not None:
        lines += [
            f"| `predict` at {args.before} | {before.seconds:.1f} | {before.peak_gib:.2f} |",
            f"| now / before | {now.seconds / before.seconds:.2f} | "
            f"{now.peak_gib / before.peak_gib:.2f} |",
        ]
    lines += [
        "",
        f"- agreement of the two submissions: {agreement}",
        "",
        "Per stage, one process, the whole file at once (seconds):",
        "",
        "| stage | now | before | now / before | largest score difference |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| read the CSV | {profile['read']:.1f} | | | |",
        f"| features | {profile['features']:.1f} | | | |",
    ]
    for name in ("lgbm", "xgb", "cat"):
        if f"{name}_now" in profile:
            a, b = profile[f"{name}_now"], profile[f"{name}_before"]
            gap = profile[f"{name}_largest_difference"]
            lines.append(
                f"| {name}: inputs and fold models | {a:.1f} | {b:.1f} | {a / b:.2f} | {gap:.1e} |"
            )
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.predict", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=400_000, help="train rows (default 400000)")
    parser.add_argument(
        "--test-rows", type=int, default=1_000_000, help="test rows (default 1000000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="data seed (default 42)")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "tbp-predict-bench"
    )
    parser.add_argument("--before", metavar="REV", help="also time predict at this revision")
    parser.add_argument("--results", type=Path, default=Path("benchmarks/RESULTS.md"))
    parser.add_argument("--profile", nargs=2, metavar=("RUN", "TEST"), help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
