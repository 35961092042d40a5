"""Is a setting better than the default? The paired difference between two `benchmarks.real
--work` folders made on the same rows and split seeds (so on the same folds): per library and
for the ensemble, the mean over seeds on each side and `changed - base` with a 95 %
patient-bootstrap interval over all seeds together, and the verdict of
`models.evaluation.compare_scores` (better, worse, within noise).

python -m benchmarks.decide BASE_WORK CHANGED_WORK [--side default]

Both folders hold `default_seed<S>.parquet` (the configuration that `benchmarks.real` ran,
default or overlay) and `recipe_seed<S>.parquet`; `--side recipe` compares the recipe columns.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import polars as pl

from features.errors import UserError
from models.evaluation import compare_scores
from pipelines._cli import run_cli

BOOTSTRAP_SAMPLES = 1000


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    base, changed = _columns(args.base, args.side), _columns(args.changed, args.side)
    seeds = sorted(set(base) & set(changed))
    if not seeds:
        raise UserError(f"{args.changed}: no split seed in common with {args.base}")
    keys = base[seeds[0]].select("isic_id", "patient_id", "target")
    for seed in seeds:
        for frame, folder in ((base[seed], args.base), (changed[seed], args.changed)):
            if not frame.select("isic_id", "fold").equals(base[seed].select("isic_id", "fold")):
                raise UserError(f"{folder}: split seed {seed} has other rows or folds")
    y, patients = keys["target"].to_numpy(), keys["patient_id"].to_numpy()
    # The columns both sides have: an overlay may train fewer libraries than the base.
    names = [
        c
        for c in base[seeds[0]].columns
        if c not in ("isic_id", "patient_id", "target", "fold") and c in changed[seeds[0]].columns
    ]
    print(f"{args.changed} - {args.base}, split seeds {seeds}, {BOOTSTRAP_SAMPLES} resamples")
    print("| model | base | changed | changed - base | 95 % interval | verdict |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for name in names:
        ours = [changed[s][name].to_numpy() for s in seeds]
        theirs = [base[s][name].to_numpy() for s in seeds]
        c = compare_scores(y, theirs, ours, patients, BOOTSTRAP_SAMPLES)
        print(
            f"| {name} | {c.score_a:.4f} | {c.score_b:.4f} | {c.difference:+.4f} | "
            f"[{c.low:+.4f}, {c.high:+.4f}] | {c.verdict} |"
        )
    return 0


def _columns(folder: Path, side: str) -> dict[int, pl.DataFrame]:
    files = sorted(folder.glob(f"{side}_seed*.parquet"))
    if not files:
        raise UserError(f"{folder}: no {side}_seed<S>.parquet; run benchmarks.real --work there")
    return {int(re.search(r"seed(\d+)", f.stem).group(1)): pl.read_parquet(f) for f in files}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.decide", description=__doc__.splitlines()[0]
    )
    parser.add_argument("base", type=Path, help="benchmarks.real --work folder of the default")
    parser.add_argument("changed", type=Path, help="the same for the setting tried")
    parser.add_argument("--side", default="default", choices=["default", "recipe"])
    return parser


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
