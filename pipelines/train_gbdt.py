"""Train the LightGBM, XGBoost and CatBoost ensemble on patient-grouped folds and write a run
folder (see DESIGN.md). Without --data-dir it trains on the embedded synthetic SLICE-3D data."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from features.errors import UserError
from features.frames import DataInput, as_source
from features.overlap import warn_train_overlap
from features.score_files import read_score_file
from models import artifacts
from models.artifacts import Run
from models.blend import ENSEMBLE_COLUMN
from models.config import MODEL_NAMES, load_config
from models.image_inputs import ImageScores
from models.run import train as train_run
from pipelines._cli import run_cli
from pipelines._data import dataset_and_inputs

TRAIN_SCORES, TEST_SCORES = "train image-scores frame", "test image-scores frame"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run = train(**vars(args))
    print(summary_table(run), file=sys.stdout)
    return 0


def train(
    *,
    data_dir: Path | None = None,
    train: DataInput | None = None,
    test: DataInput | None = None,
    out: Path | None = None,
    config: Path | Mapping[str, Any] | None = None,
    models: str | Sequence[str] | None = None,
    folds: int | None = None,
    seeds: int | None = None,
    folds_file: Path | None = None,
    image_scores_train: DataInput | None = None,
    image_scores_test: DataInput | None = None,
    allow_missing_scores: bool = False,
    eval_by: str | None = None,
    leave_one_out: str | None = None,
    resume: bool = False,
    cluster: str | None = None,
) -> Run:
    """Train the ensemble on patient-grouped folds and write the run folder `out` (default
    runs/<UTC time>); the command `python -m pipelines.train_gbdt` with its flags as keyword
    arguments. The data: a Kaggle-layout folder `data_dir`, or `train` (and `test`) as paths or
    Polars or pandas DataFrames, else the embedded synthetic data. `config` is a partial TOML
    file or the same tables as a dict; `models` a comma list or a list of library names.
    Returns the finished run (`models.artifacts.Run`)."""
    if resume and out is None:
        raise UserError("--resume: name the run to continue with --out RUN_DIR")
    settings = load_config(config)
    overrides: dict = {}
    if models is not None:
        overrides["models"] = {"names": _model_names(models)}
    if folds is not None:
        overrides["cv"] = {"folds": folds}
    if seeds is not None:
        overrides.setdefault("cv", {})["repeats"] = seeds
    if overrides:
        settings = settings.replace(**overrides)
    out = Path(out) if out is not None else artifacts.default_run_dir()
    # Before the data is read: a second command on the same --out stops at once.
    with artifacts.folder_lock(out, "train_gbdt"):
        dataset, inputs = dataset_and_inputs(data_dir, settings, train, test)
        if dataset.test is not None:
            files = dataset.files
            warn_train_overlap(
                dataset.test, dataset.train, files.get("test", "test"), files.get("train", "train")
            )
        scores = _image_scores(image_scores_train, image_scores_test, allow_missing_scores)
        if scores is not None:
            inputs[artifacts.IMAGE_SCORES] = scores.describe()
        result = train_run(
            dataset,
            settings,
            out,
            inputs,
            folds_file=folds_file,
            eval_by=eval_by,
            leave_one_out=leave_one_out,
            resume_partial=resume,
            cluster=cluster,
            image_scores=scores,
        )
    return artifacts.load_run(result.run_dir)


def summary_table(run: Run) -> str:
    m = run.metrics
    lines = [
        f"{m['n_rows']} lesions, {m['n_positive']} malignant, {m['n_patients']} patients, "
        f"{m['seconds']:.0f} s",
        f"{'model':<10}{'oof pAUC':>10}   {'95% patient-bootstrap CI':<26}{'top-15':>8}",
    ]
    for name, value in m["oof_pauc"].items():
        low, high = m["oof_pauc_ci"][name]
        marker = "  <- submission" if name == ENSEMBLE_COLUMN else ""
        lines.append(
            f"{name:<10}{value:>10.4f}   [{low:.4f}, {high:.4f}]{'':<10}"
            f"{m['oof_top15'][name]:>8.3f}{marker}"
        )
    lines.extend(_group_lines(m))
    lines.append(f"run folder: {run.path}")
    for name in (artifacts.SUBMISSION, artifacts.METRICS, artifacts.OOF):
        if (run.path / name).exists():
            lines.append(f"  {name}: {run.path / name}")
    return "\n".join(lines)


def _group_lines(m: dict) -> list[str]:
    """The per-group tables of --eval-by and --leave-one-out, when asked for."""
    lines = []
    if "by_group" in m:
        names = list(m["oof_pauc"])
        lines.append(f"out-of-fold pAUC by {m['by_group']['column']}:")
        lines.append(
            f"{'group':<40}{'lesions':>9}{'malig.':>8}" + "".join(f"{n:>10}" for n in names)
        )
        for level, g in m["by_group"]["groups"].items():
            values = "".join(_cell(g["pauc"][n]) for n in names)
            lines.append(f"{level[:39]:<40}{g['n_rows']:>9}{g['n_positive']:>8}{values}")
    if "leave_one_out" in m:
        lines.append(
            f"leave one {m['leave_one_out']['column']} out (ensemble pAUC of the held-out group; "
            "in CV: the same rows' out-of-fold score):"
        )
        lines.append(f"{'group':<40}{'lesions':>9}{'malig.':>8}{'held out':>10}{'in CV':>10}")
        for level, g in m["leave_one_out"]["groups"].items():
            held = None if g["pauc"] is None else g["pauc"][ENSEMBLE_COLUMN]
            lines.append(
                f"{level[:39]:<40}{g['n_rows']:>9}{g['n_positive']:>8}{_cell(held)}"
                f"{_cell(g.get('in_cv_ensemble_pauc'))}"
            )
    return lines


def _cell(value) -> str:
    return f"{'-':>10}" if value is None else f"{value:>10.4f}"


def _image_scores(
    train: DataInput | None, test: DataInput | None, allow_missing: bool
) -> ImageScores | None:
    if train is None:
        if test is not None or allow_missing:
            given = "--image-scores-test" if test is not None else "--allow-missing-scores"
            raise UserError(f"{given}: expected --image-scores-train FILE with it")
        return None
    test_scores = None if test is None else read_score_file(as_source(test, TEST_SCORES))
    return ImageScores(read_score_file(as_source(train, TRAIN_SCORES)), test_scores, allow_missing)


def _model_names(value: str | Sequence[str]) -> list[str]:
    text = value if isinstance(value, str) else ",".join(value)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODEL_NAMES]
    if unknown or not names:
        raise UserError(f"--models: '{text}'; expected a comma list of {', '.join(MODEL_NAMES)}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.train_gbdt", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="Kaggle layout: train-metadata.csv "
        "(required), test-metadata.csv, sample_submission.csv; .parquet twins win",
    )
    parser.add_argument(
        "--train",
        type=Path,
        metavar="FILE",
        help="instead of --data-dir: the train metadata file (CSV or Parquet), any name",
    )
    parser.add_argument(
        "--test",
        type=Path,
        metavar="FILE",
        help="with --train: the test metadata file to score (CSV or Parquet)",
    )
    parser.add_argument("--out", type=Path, help="run folder (default runs/<UTC time>)")
    parser.add_argument("--config", type=Path, help="partial TOML overlay on configs/default.toml")
    parser.add_argument("--models", help="comma list of lgbm,xgb,cat (default: the config's)")
    parser.add_argument("--folds", type=int, help="patient-grouped folds (default: config)")
    parser.add_argument("--seeds", type=int, help="split seeds, i.e. CV repeats (default: config)")
    parser.add_argument(
        "--folds-file",
        type=Path,
        help="CSV or Parquet with patient_id,fold (and fold_r1.. for --seeds > 1): impose "
        "folds made elsewhere instead of the seeded split; a run's folds.csv works",
    )
    parser.add_argument(
        "--image-scores-train",
        type=Path,
        metavar="FILE",
        help="CSV or Parquet with isic_id and numeric image-model scores, out-of-fold on this "
        "run's folds (--folds-file): each score column becomes features (raw, over the patient "
        "mean, percentile within the patient, z-score within hospital x location x age band)",
    )
    parser.add_argument(
        "--image-scores-test",
        type=Path,
        metavar="FILE",
        help="the same columns for the test file's lesions (needed when there is a test file)",
    )
    parser.add_argument(
        "--allow-missing-scores",
        action="store_true",
        help="a lesion without a score gets null image features (counted in the log) instead "
        "of an error",
    )
    parser.add_argument(
        "--eval-by",
        metavar="COLUMN",
        help="also report the out-of-fold pAUC per group of this categorical column "
        "(metrics.json 'by_group'), e.g. attribution",
    )
    parser.add_argument(
        "--leave-one-out",
        metavar="COLUMN",
        help="also train without each group of this column in turn and score the held-out "
        "group (metrics.json 'leave_one_out'), e.g. attribution for leave-one-hospital-out",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the unfinished OUT.partial folder an interrupted run left: finished "
        "fits are kept, the rest run (same config and data required; needs --out)",
    )
    parser.add_argument(
        "--cluster",
        metavar="tcp://HOST:PORT",
        help="run the fits on this Dask scheduler instead of locally (pip install -e "
        "'.[distributed]'); same results as a local run",
    )
    return parser


def cli() -> int:
    """The `tbp-train` console script."""
    warnings.filterwarnings("ignore", message="Failed to import numba")
    return run_cli(main)


if __name__ == "__main__":
    raise SystemExit(cli())
