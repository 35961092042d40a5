"""Feature-build speed and memory: from the CSV files on disk to the final feature frames (train
and test), this project's builds against the public recipe's straightforward feature step,
recorded in benchmarks/RESULTS.md.

python -m benchmarks.features [--rows 400000] [--test-rows 200000] [--seed 42]
[--scale-rows 4000000] [--repeats 3] [--work DIR] [--results benchmarks/RESULTS.md]

Each measurement runs in a fresh Python process that reports its wall time (reading included,
interpreter start-up and imports not) and its peak resident memory, so no measurement inherits
another's caches or peak; each is repeated and the fastest run counts. `--scale-rows N` also
times the default build on N train rows (ten times the patients at 4,000,000) against the same
build on `--rows` train rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import add_data_arguments, ensure_data, section_head, write_section

SECTION = "benchmarks.features"
RECIPE_SET = ("lesion", "patient_norm", "patient_count")
# name -> what it builds
VARIANTS = {
    "recipe": "benchmarks/recipe.py's feature step (median fill, features, one-hot, numpy)",
    "recipe_set": f"the recipe's feature set built by this project ({', '.join(RECIPE_SET)})",
    "default": "the default feature set of configs/default.toml",
    "all": "every feature family",
}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.data_dir, args.train_only)))
        return 0
    work = args.work.resolve()
    data = work / f"data-{args.rows}-{args.test_rows}"
    big = work / f"data-{args.scale_rows}-0"
    # All data first: writing gigabytes of CSV leaves the page cache busy for a while, and a
    # timing taken then is not the build's own.
    ensure_data(data, args.rows, args.test_rows, args.seed)
    if args.scale_rows:
        ensure_data(big, args.scale_rows, 0, args.seed)
    results = {name: _fastest(args.repeats, name, data) for name in VARIANTS}
    scale = None
    if args.scale_rows:
        scale = (
            _fastest(args.repeats, "default", data, train_only=True),
            _fastest(args.repeats, "default", big, train_only=True),
        )
    table = _report(args, results, scale)
    print(table)
    write_section(args.results, table, SECTION)
    print(f"recorded in {args.results}")
    return 0


def _child(variant: str, data_dir: Path, train_only: bool) -> dict:
    import resource

    from features import io
    from features.build import FAMILIES, RAW_FAMILY, build_features, fit_spec
    from models.config import load_config

    config = load_config()
    start = time.perf_counter()
    train = io.read_train(data_dir / "train-metadata.csv")
    test = None if train_only else io.read_test(data_dir / "test-metadata.csv")
    if variant == "recipe":
        from benchmarks.recipe import feature_matrices

        x, x_test, names = feature_matrices(train, test)
        shapes = [x.shape, None if x_test is None else x_test.shape]
        width = len(names)
    else:
        families = {
            "recipe_set": list(RECIPE_SET),
            "default": list(config.features.families),
            "all": [f for f in FAMILIES if f != RAW_FAMILY],
        }[variant]
        spec = fit_spec(train, families, config.features.categoricals)
        frames = [build_features(frame, spec) for frame in (train, test) if frame is not None]
        shapes = [built.frame.shape for built in frames]
        width = len(frames[0].names)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return {"seconds": seconds, "peak_gib": peak, "features": width, "shapes": str(shapes)}


def _fastest(repeats: int, variant: str, data: Path, train_only: bool = False) -> dict:
    """The fastest of `repeats` fresh-process runs (the least disturbed by the machine)."""
    runs = [_measure(variant, data, train_only) for _ in range(repeats)]
    return min(runs, key=lambda run: run["seconds"])


def _measure(variant: str, data: Path, train_only: bool = False) -> dict:
    command = [sys.executable, "-m", "benchmarks.features", "--child", variant]
    command += ["--data-dir", str(data)] + (["--train-only"] if train_only else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"error: {variant} failed:\n{done.stderr[-2000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{variant}: {measured}", flush=True)
    return measured


def _report(args, results: dict, scale) -> str:
    recipe = results["recipe"]["seconds"]
    lines = [
        *section_head("Feature build: speed and memory", "benchmarks.features"),
        f"- data: synthetic (make_synthetic), {args.rows:,} train + {args.test_rows:,} test rows, "
        f"seed {args.seed}; CSV on disk to the final train and test feature frames, each "
        "variant in a fresh process (wall time from the first read, the fastest of "
        f"{args.repeats} runs; peak = max RSS)",
        "",
        "| variant | features | wall seconds | vs recipe | peak GiB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, what in VARIANTS.items():
        r = results[name]
        lines.append(
            f"| {name}: {what} | {r['features']} | {r['seconds']:.2f} | "
            f"{r['seconds'] / recipe:.2f} | {r['peak_gib']:.2f} |"
        )
    if scale is not None:
        small, big = scale
        lines += [
            "",
            f"- scaling, default set, train only: {args.rows:,} rows {small['seconds']:.2f} s, "
            f"{args.scale_rows:,} rows {big['seconds']:.2f} s "
            f"({big['seconds'] / small['seconds']:.1f} times; peak {big['peak_gib']:.2f} GiB)",
        ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.features", description=__doc__.splitlines()[0]
    )
    add_data_arguments(parser)
    parser.add_argument(
        "--scale-rows", type=int, default=0, help="also time the default build on N train rows"
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs per timing; the fastest counts (default 3)"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "tbp-features",
        help="folder for the data (default %(default)s)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("benchmarks/RESULTS.md"),
        help="markdown file to record the table in",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--train-only", action="store_true", help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
