"""Feature-family ablation: the same LightGBM set-up (the config's parameters, the project's
cross-validation with its inner early stopping) trained with and without each feature family on
the same patient-grouped folds, each difference with a 95 % paired patient-bootstrap interval,
recorded in benchmarks/RESULTS.md.

python -m benchmarks.ablation [--data-dir DIR] [--rows N] [--config FILE.toml] [--threads N]
[--model-seeds K] [--free-direction-sd S] [--results benchmarks/RESULTS.md]

The variants: the end-to-end issue's feature set (`lesion`, `patient_norm`, `patient_count`,
the "base"); the base without each of its families; the base plus each patient-context family
alone; and the base plus every context family ("context"). A family "helps" when its paired
interval excludes zero (above it). With `--model-seeds K` each variant is trained K times with
consecutive seeds on the same folds, and the interval covers those runs too: one training run
per variant leaves the training noise out.

`--free-direction-sd S` (synthetic data only) asks what the context families could find: the
generator also moves each malignant lesion S within-patient SDs from its patient in a random
colour and shape direction, and the table goes to a section of its own.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.harness import section_head, write_section
from features import synthetic
from features.build import FAMILIES, RAW_FAMILY, build_features, fit_spec
from features.errors import UserError
from features.io import read_dataset
from models.boosters import Matrix
from models.config import load_config
from models.cv import cross_validate, repeated_patient_folds
from models.evaluation import isic_pauc, paired_bootstrap_diff
from pipelines._cli import run_cli

SECTION = "benchmarks.ablation"
BASE = ("lesion", "patient_norm", "patient_count")
CONTEXT = tuple(f for f in FAMILIES if f not in (RAW_FAMILY, *BASE))
BOOTSTRAP_SAMPLES = 1000


def variants() -> dict[str, tuple[tuple[str, ...], str, str]]:
    """name -> (families, the variant it is compared with, what the difference measures)."""
    table = {"base": (BASE, "", "")}
    for family in BASE:
        table[f"base - {family}"] = (
            tuple(f for f in BASE if f != family),
            "base",
            f"drop {family}",
        )
    for family in CONTEXT:
        table[f"base + {family}"] = ((*BASE, family), "base", f"add {family}")
    table["context"] = ((*BASE, *CONTEXT), "base", "add every context family")
    return table


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = load_config(args.config).replace(
        models={"names": ["lgbm"]}, training={"threads": args.threads}, cv={"repeats": 1}
    )
    if args.data_dir is None:
        train, _ = synthetic.generate(
            args.rows,
            0,
            config.seed,
            config.synthetic.malignant_rate,
            free_direction_sd=args.free_direction_sd,
        )
        source = f"synthetic, {args.rows:,} rows, seed {config.seed}"
        if args.free_direction_sd:
            source += (
                f", malignant lesions moved {args.free_direction_sd:g} SDs in a free direction"
            )
    elif args.free_direction_sd:
        raise UserError("--free-direction-sd: changes synthetic data only, not --data-dir")
    else:
        train = read_dataset(args.data_dir).train
        source = str(args.data_dir)
    y = train["target"].to_numpy().astype(np.int8)
    patients = train["patient_id"].to_numpy()
    folds = repeated_patient_folds(patients, y, config.cv.folds, [config.seed])
    # variant -> one out-of-fold column per model seed (the same folds every time)
    scores: dict[str, list[np.ndarray]] = {}
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    for name, (families, _, _) in variants().items():
        start = time.perf_counter()
        spec = fit_spec(train, list(families), config.features.categoricals)
        built = build_features(train, spec)
        x = Matrix(built.frame, built.names, built.categorical, y)
        scores[name] = [
            cross_validate(x, patients, config.replace(seed=config.seed + offset), folds=folds).oof[
                "lgbm"
            ]
            for offset in range(args.model_seeds)
        ]
        seconds[name] = time.perf_counter() - start
        counts[name] = len(built.names)
        print(
            f"{name}: {counts[name]} features, OOF pAUC {_mean_pauc(y, scores[name]):.4f} "
            f"({seconds[name]:.0f} s)",
            flush=True,
        )
    table = _report(args, source, y, patients, scores, seconds, counts, config.seed)
    print(table)
    write_section(args.results, table, _section(args))
    print(f"recorded in {args.results}")
    return 0


def _title(args: argparse.Namespace) -> str:
    title = "Feature families: ablation (LightGBM)"
    if args.free_direction_sd:
        title += f", planted free-direction outliers of {args.free_direction_sd:g} SDs"
    return title


def _section(args: argparse.Namespace) -> str:
    return f"{SECTION}.free_direction" if args.free_direction_sd else SECTION


def _mean_pauc(y: np.ndarray, runs: list[np.ndarray]) -> float:
    return float(np.mean([isic_pauc(y, scores) for scores in runs]))


def _report(args, source, y, patients, scores, seconds, counts, seed) -> str:
    lines = [
        *section_head(_title(args), "benchmarks.ablation"),
        f"- data: {source}; {int(y.sum())} malignant, {len(set(patients)):,} patients; every "
        "variant on the same folds, LightGBM with the config's parameters and inner early "
        f"stopping, {args.threads} thread(s)",
        f"- model seeds: {args.model_seeds} per variant (config seed {seed} to "
        f"{seed + args.model_seeds - 1}); a variant's score is the mean over them",
        f"- difference: variant minus the one it is compared with, {BOOTSTRAP_SAMPLES} paired "
        "patient-bootstrap resamples over all its runs, 95 % interval; helps = interval above "
        "zero",
        "",
        "| variant | features | OOF pAUC | compared with | difference | 95 % interval | helps |",
        "| --- | ---: | ---: | --- | ---: | --- | --- |",
    ]
    for name, (_, against, what) in variants().items():
        score = _mean_pauc(y, scores[name])
        if not against:
            lines.append(f"| {name} | {counts[name]} | {score:.4f} | | | | |")
            continue
        diff, low, high = paired_bootstrap_diff(
            y, scores[name], scores[against], patients, n_boot=BOOTSTRAP_SAMPLES, seed=seed
        )
        if what.startswith("drop"):  # the family helps when removing it hurts
            diff, low, high = -diff, -high, -low
            what = what.replace("drop", "keep")
        verdict = "yes" if low > 0 else ("hurts" if high < 0 else "no")
        lines.append(
            f"| {name} | {counts[name]} | {score:.4f} | {against} ({what}) | {diff:+.4f} | "
            f"[{low:+.4f}, {high:+.4f}] | {verdict} |"
        )
    total = sum(seconds.values())
    lines += ["", f"- total {total:.0f} s for {len(scores)} variants"]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ablation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--data-dir", type=Path, help="Kaggle layout folder (default: synthetic)")
    parser.add_argument(
        "--rows",
        type=int,
        default=synthetic.EMBEDDED_TRAIN_ROWS,
        help="synthetic train rows without --data-dir (default %(default)s)",
    )
    parser.add_argument("--config", type=Path, help="partial TOML overlay on the default config")
    parser.add_argument("--threads", type=int, default=1, help="LightGBM threads (default 1)")
    parser.add_argument(
        "--model-seeds", type=int, default=1,
        help="trainings per variant with consecutive seeds, same folds (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--free-direction-sd", type=float, default=0.0,
        help="synthetic data only: also move malignant lesions this many within-patient SDs "
        "in a random direction (default 0: the calibrated data)",
    )  # fmt: skip
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("benchmarks/RESULTS.md"),
        help="markdown file to record the table in",
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
