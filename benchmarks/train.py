"""Training benchmark: the default train_gbdt against the public-recipe baseline on the same data
and folds, both again with other model seeds (the training noise, and both sides' mean over
seeds), then one factor at a time (bags, split seeds), then the default on a large file; recorded
in benchmarks/RESULTS.md.

python -m benchmarks.train [--rows 400000] [--test-rows 200000] [--seed 42] [--bags 1,3,5]
[--seeds 1,3] [--model-seeds 3] [--large-rows 4000000] [--work DIR]
[--results benchmarks/RESULTS.md]

Every command runs in its own measuring wrapper (benchmarks/harness.py): wall time and the peak
memory of its largest process. Scores are out-of-fold ISIC pAUCs; each variant's difference from
the recipe comes with a 95 % paired patient-bootstrap interval over the same rows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import harness
from models.config import load_config

SECTION = "benchmarks.train"
BOOTSTRAP_SAMPLES = 1000


@dataclass
class Variant:
    label: str
    measured: harness.Measured
    score: float
    diff: tuple[float, float, float] | None  # ensemble - recipe, low, high


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = args.work.resolve()
    data = work / "data"
    harness.ensure_data(data, args.rows, args.test_rows, args.seed)
    defaults = load_config()
    default_bags = defaults.training.bags

    default_run = work / "default"
    default = harness.measure("default", _train_command(data, default_run), work)
    recipe_dir = work / "recipe"
    harness.remove(recipe_dir)
    recipe_command = _recipe_command(data, default_run, recipe_dir, args.seed)
    recipe = harness.measure("recipe", recipe_command, work)

    variants = [_variant(f"default ({default_bags} bag, 1 split seed)", default, default_run,
                         recipe_dir, args.seed)]  # fmt: skip
    # The same set-ups on the same folds with other seeds for the models and the negative
    # samples: how far training randomness alone moves the score (the paired interval
    # resamples patients, not training runs), and both sides' mean over those seeds.
    runs, recipes = [default_run], [recipe_dir]
    for offset in range(1, args.model_seeds):
        run = work / f"reseeded{offset}"
        overlay = work / f"reseeded{offset}.toml"
        overlay.write_text(f"seed = {defaults.seed + offset}\n")
        folds = ["--folds-file", str(default_run / "folds.csv"), "--config", str(overlay)]
        measured = harness.measure(run.name, _train_command(data, run, *folds), work)
        variants.append(_variant(f"default, model seed +{offset} (same folds)", measured, run,
                                 recipe_dir, args.seed))  # fmt: skip
        runs.append(run)
        recipes.append(work / f"recipe{offset}")
        harness.remove(recipes[-1])
        harness.measure(recipes[-1].name, _recipe_command(data, default_run, recipes[-1],
                                                          args.seed + offset), work)  # fmt: skip
    over_seeds = harness.against_recipe_runs(runs, recipes, args.seed, BOOTSTRAP_SAMPLES)
    for bags in args.bags:
        if bags == default_bags:
            continue
        run = work / f"bags{bags}"
        overlay = work / f"bags{bags}.toml"
        overlay.write_text(f"[training]\nbags = {bags}\n")
        measured = harness.measure(
            f"bags{bags}", _train_command(data, run, "--config", str(overlay)), work
        )
        variants.append(
            _variant(f"{bags} bags, 1 split seed", measured, run, recipe_dir, args.seed)
        )
    for seeds in args.seeds:
        if seeds == 1:
            continue
        run = work / f"seeds{seeds}"
        measured = harness.measure(
            f"seeds{seeds}", _train_command(data, run, "--seeds", str(seeds)), work
        )
        label = f"{default_bags} bag, {seeds} split seeds"
        variants.append(_variant(label, measured, run, recipe_dir, args.seed))

    large = None
    if args.large_rows:
        large_data = work / f"data-{args.large_rows}"
        harness.ensure_data(large_data, args.large_rows, 0, args.seed)
        large_run = work / "large"
        large = harness.measure("large", _train_command(large_data, large_run), work)
        harness.remove(large_run)

    recipe_score = harness.against_recipe(default_run, recipe_dir, args.seed, 1).recipe
    table = _report(args, recipe, recipe_score, variants, over_seeds, large)
    print(table)
    harness.write_section(args.results, table, SECTION)
    print(f"recorded in {args.results}")
    return 0


def _recipe_command(data: Path, default_run: Path, out: Path, seed: int) -> list[str]:
    """The recipe on the default run's folds; `seed` seeds its models and samples."""
    return [sys.executable, "-m", "benchmarks.recipe", "--data-dir", str(data),
            "--folds-file", str(default_run / "folds.csv"), "--out", str(out),
            "--seed", str(seed)]  # fmt: skip


def _train_command(data: Path, run: Path, *extra: str) -> list[str]:
    harness.remove(run)
    return [sys.executable, "-m", "pipelines.train_gbdt", "--data-dir", str(data),
            "--out", str(run), *extra]  # fmt: skip


def _variant(label: str, measured: harness.Measured, run: Path, recipe: Path, seed: int) -> Variant:
    comparison = harness.against_recipe(run, recipe, seed, BOOTSTRAP_SAMPLES)
    return Variant(label, measured, comparison.ensemble, comparison.diff)


def _report(
    args, recipe, recipe_score, variants: list[Variant], over_seeds: harness.Comparison, large
) -> str:
    lines = [
        *harness.section_head(
            "Training: the default set-up, bags and split seeds against the public recipe",
            "benchmarks.train",
        ),
        f"- data: synthetic, {args.rows:,} train and {args.test_rows:,} test rows, seed "
        f"{args.seed}; every variant on the default run's folds (the recipe too)",
        "",
        "| variant | wall s | / recipe | peak GiB | OOF pAUC | - recipe [95 % paired CI] |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| public recipe | {recipe.seconds:.1f} | 1.00 | {recipe.peak_gib:.2f} | "
        f"{recipe_score:.4f} | |",
    ]
    for v in variants:
        observed, low, high = v.diff
        lines.append(
            f"| {v.label} | {v.measured.seconds:.1f} | {v.measured.seconds / recipe.seconds:.2f} "
            f"| {v.measured.peak_gib:.2f} | {v.score:.4f} | "
            f"{observed:+.4f} [{low:+.4f}, {high:+.4f}] |"
        )
    observed, low, high = over_seeds.diff
    lines += [
        "",
        f"- mean over {args.model_seeds} model seeds on each side (same folds; the recipe's "
        f"runs with `--seed` {args.seed} to {args.seed + args.model_seeds - 1}): default "
        f"{over_seeds.ensemble:.4f}, recipe {over_seeds.recipe:.4f}, difference {observed:+.4f} "
        f"[{low:+.4f}, {high:+.4f}] (paired patient bootstrap over all runs)",
    ]
    if large is not None:
        lines += [
            "",
            f"- the default on {args.large_rows:,} train rows (no test file): "
            f"{large.seconds:.0f} s, peak {large.peak_gib:.2f} GiB",
        ]
    return "\n".join(lines)


def _int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.train", description=__doc__.splitlines()[0]
    )
    harness.add_data_arguments(parser)
    parser.add_argument("--bags", type=_int_list, default=[1, 3, 5], help="bag counts to time")
    parser.add_argument("--seeds", type=_int_list, default=[1, 3], help="split seeds to time")
    parser.add_argument(
        "--model-seeds", type=int, default=3,
        help="model seeds for the default and the recipe, on the same folds (default 3)",
    )  # fmt: skip
    parser.add_argument(
        "--large-rows", type=int, default=4_000_000, help="rows of the large run (0 skips it)"
    )
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "tbp-train",
        help="folder for the data and outputs (default %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--results", type=Path, default=Path("benchmarks/RESULTS.md"),
        help="markdown file to record the table in",
    )  # fmt: skip
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
