"""Image-model scores benchmark: what an image model's scores add to the metadata ensemble on
synthetic rows with image scores (`make_synthetic --image-scores`), as GBDT features and as
blend partners, each against the metadata-only default on the same folds (the image model's,
via --folds-file), recorded in benchmarks/RESULTS.md.

python -m benchmarks.image_scores [--rows 400000] [--test-rows 1000] [--seed 11]
[--model-seeds 1] [--work DIR] [--results benchmarks/RESULTS.md] [--no-write]

Rows: the metadata-only default (`train_gbdt`), the image score alone, image scores as features
(`train_gbdt --image-scores-train/--image-scores-test`), the rank mean, weighted rank and
stacked blends of the metadata run with the image score (`pipelines.blend`, each method scored
out of fold inside the patient folds), and features plus blend (`pipelines.blend` of the
with-features run and the image score, its default method). Paired differences and verdicts
come from `models.evaluation.compare_scores`, as `pipelines.compare` prints them. With
`--model-seeds N` every training run is repeated with N model seeds on the same folds and a
row's score is the mean over them (the paired interval resamples patients over all of them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks import harness
from features import synthetic
from features.synthetic import image
from models.artifacts.blend_inputs import read_oof
from models.blend import ENSEMBLE_COLUMN
from models.config import load_config
from models.evaluation import Comparison, aligned, compare_scores

SECTION = "benchmarks.image_scores"
BOOTSTRAP_SAMPLES = 1000
SCORES_NAME = "image"  # the score file's name in the blends
# A blend folder's oof.parquet column of each method (`pipelines.blend --method`).
RANK_MEAN, WEIGHTED_RANK, STACK = "rank_mean", "weighted_rank", "stack"


@dataclass
class Row:
    name: str
    how: str
    runs: list[np.ndarray]  # the row's out-of-fold scores, one array per model seed


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    work = args.work.resolve()
    data = work / "data"
    work.mkdir(parents=True, exist_ok=True)
    harness.ensure_data(data, args.rows, args.test_rows, args.seed, ("--image-scores",))
    train_scores, test_scores, folds = (data / name for name in synthetic.IMAGE_FILES)
    base_seed = load_config().seed
    seconds: dict[str, list[float]] = {"metadata": [], "features": []}
    meta, feat, blend_meta, blend_feat = [], [], [], []
    for i in range(args.model_seeds):
        overlay = work / f"seed{i}.toml"
        overlay.write_text(f"seed = {base_seed + i}\n")
        common = ["--data-dir", str(data), "--folds-file", str(folds), "--config", str(overlay)]
        image_args = ["--image-scores-train", str(train_scores)]
        image_args += ["--image-scores-test", str(test_scores)]
        for kind, extra, runs in (("metadata", [], meta), ("features", image_args, feat)):
            out = work / f"{kind}_s{i}"
            harness.remove(out)
            command = [sys.executable, "-m", "pipelines.train_gbdt", *common, *extra]
            seconds[kind].append(
                harness.measure(f"{kind}_s{i}", [*command, "--out", str(out)], work).seconds
            )
            runs.append(out)
        pair = f"{SCORES_NAME}={train_scores},{test_scores}"
        for run, blends in ((meta[-1], blend_meta), (feat[-1], blend_feat)):
            out = work / f"blend_{run.name}"
            harness.remove(out)
            command = [sys.executable, "-m", "pipelines.blend", "--run", str(run)]
            command += ["--scores", pair, "--out", str(out)]
            harness.measure(out.name, command, work)
            blends.append(out)
    table = _report(args, data, meta, feat, blend_meta, blend_feat, seconds)
    print(table)
    if args.write:
        harness.write_section(args.results, table, SECTION)
        print(f"recorded in {args.results}")
    return 0


def _report(args, data, meta, feat, blend_meta, blend_feat, seconds) -> str:
    base = read_oof(meta[0]).select("isic_id", "patient_id", "target", "fold")
    label = f"{meta[0]}/oof.parquet"

    def column(folders: list[Path], name: str) -> list[np.ndarray]:
        return [aligned(base, read_oof(f), label, f"{f}/oof.parquet")[name] for f in folders]

    image_alone = (
        base.select("isic_id")
        .join(pl.read_csv(data / synthetic.IMAGE_FILES[0]), on="isic_id", how="left")
        .get_column(image.SCORE_COLUMN)
        .to_numpy()
    )
    chosen = json.loads((blend_feat[0] / "metrics.json").read_text())["method"]
    rows = [
        Row("metadata only (the default)", "train_gbdt", column(meta, ENSEMBLE_COLUMN)),
        Row("image score alone", "the out-of-fold score file", [image_alone]),
        Row("image scores as features", "train_gbdt --image-scores-train, -test",
            column(feat, ENSEMBLE_COLUMN)),
        Row("rank blend", "blend --method rank_mean", column(blend_meta, RANK_MEAN)),
        Row("weighted blend", "blend --method weighted_rank", column(blend_meta, WEIGHTED_RANK)),
        Row("stacking", "blend --method stack", column(blend_meta, STACK)),
        Row("features plus blend", f"blend of the features run (best: {chosen})",
            column(blend_feat, ENSEMBLE_COLUMN)),
    ]  # fmt: skip
    y = base["target"].to_numpy()
    patients = base["patient_id"].to_numpy()
    reference = rows[0].runs
    lines = [
        *harness.section_head("Image-model scores: features and blends", SECTION),
        f"- data: `make_synthetic --rows {args.rows} --test-rows {args.test_rows} --seed "
        f"{args.seed} --image-scores`: {y.size:,} train rows, {int(y.sum())} malignant, "
        f"{len(set(patients)):,} patients; every run on the image model's folds "
        f"(`--folds-file image-folds.csv`)",
        f"- model seeds: {args.model_seeds} per training run (config seed "
        f"{load_config().seed} onwards), a row's score is the mean over them; the paired "
        f"interval resamples patients ({BOOTSTRAP_SAMPLES} times) over all of them",
        f"- train_gbdt wall seconds (mean): metadata only {np.mean(seconds['metadata']):.0f}, "
        f"with image features {np.mean(seconds['features']):.0f}; load average at the end "
        f"{', '.join(f'{v:.1f}' for v in os.getloadavg())} (1, 5, 15 min): on a shared "
        "machine the seconds include other jobs' load",
        "",
        "| variant | how | OOF pAUC | 95 % interval | - metadata only | 95 % paired interval "
        "| verdict |",
        "| --- | --- | ---: | --- | ---: | --- | --- |",
    ]
    for row in rows:
        c = compare_scores(y, reference, row.runs, patients, BOOTSTRAP_SAMPLES, args.seed)
        lines.append(_line(row, c, row is rows[0]))
    return "\n".join(lines)


def _line(row: Row, c: Comparison, is_reference: bool) -> str:
    head = f"| {row.name} | {row.how} | {c.score_b:.4f} | [{c.interval_b[0]:.4f}, "
    head += f"{c.interval_b[1]:.4f}] |"
    if is_reference:
        return head + " | | |"
    return head + f" {c.difference:+.4f} | [{c.low:+.4f}, {c.high:+.4f}] | {c.verdict} |"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.image_scores", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=400_000, help="train rows (default 400000)")
    parser.add_argument("--test-rows", type=int, default=1_000, help="test rows (default 1000)")
    parser.add_argument("--seed", type=int, default=11, help="data seed (default 11)")
    parser.add_argument(
        "--model-seeds", type=int, default=1, help="model seeds per training run (default 1)"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "tbp-image-scores",
        help="folder for the data and outputs (default %(default)s)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=Path("benchmarks/RESULTS.md"),
        help="markdown file to record the table in",
    )
    parser.add_argument(
        "--no-write", dest="write", action="store_false", help="print the table only"
    )
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
