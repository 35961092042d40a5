"""Train the LightGBM, XGBoost and CatBoost ensemble on patient-grouped folds and write a run
folder (see DESIGN.md). Without --data-dir it trains on the embedded synthetic SLICE-3D data."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from features import synthetic
from features.errors import UserError
from features.io import Dataset, read_dataset
from models import artifacts
from models.config import MODEL_NAMES, load_config
from models.train import ENSEMBLE, TrainResult, train
from pipelines._cli import run_cli


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = load_config(args.config)
    overrides: dict = {}
    if args.models is not None:
        overrides["models"] = {"names": _model_names(args.models)}
    if args.folds is not None:
        overrides["cv"] = {"folds": args.folds}
    if args.seeds is not None:
        overrides.setdefault("cv", {})["repeats"] = args.seeds
    if overrides:
        config = config.replace(**overrides)
    if args.data_dir is None:
        s = config.synthetic
        train_frame, test_frame = synthetic.generate(
            s.train_rows, s.test_rows, config.seed, s.malignant_rate
        )
        dataset = Dataset(train_frame, test_frame if test_frame.height else None)
        inputs = {
            "embedded_synthetic": {
                "train_rows": s.train_rows,
                "test_rows": s.test_rows,
                "malignant_rate": s.malignant_rate,
                "seed": config.seed,
            }
        }
    else:
        dataset = read_dataset(args.data_dir)
        inputs = {"files": dataset.files, "sha256": dataset.hashes}
    out = args.out or artifacts.default_run_dir()
    result = train(dataset, config, out, inputs)
    print(summary_table(result), file=sys.stdout)
    return 0


def summary_table(result: TrainResult) -> str:
    m = result.metrics
    lines = [
        f"{m['n_rows']} lesions, {m['n_positive']} malignant, {m['n_patients']} patients, "
        f"{m['seconds']:.0f} s",
        f"{'model':<10}{'oof pAUC':>10}   {'95% patient-bootstrap CI':<26}{'top-15':>8}",
    ]
    for name, value in m["oof_pauc"].items():
        low, high = m["oof_pauc_ci"][name]
        marker = "  <- submission" if name == ENSEMBLE else ""
        lines.append(
            f"{name:<10}{value:>10.4f}   [{low:.4f}, {high:.4f}]{'':<10}"
            f"{m['oof_top15'][name]:>8.3f}{marker}"
        )
    lines.append(f"run folder: {result.run_dir}")
    for name in (artifacts.SUBMISSION, artifacts.METRICS, artifacts.OOF):
        if (result.run_dir / name).exists():
            lines.append(f"  {name}: {result.run_dir / name}")
    return "\n".join(lines)


def _model_names(text: str) -> list[str]:
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
    parser.add_argument("--out", type=Path, help="run folder (default runs/<UTC time>)")
    parser.add_argument("--config", type=Path, help="partial TOML overlay on configs/default.toml")
    parser.add_argument("--models", help="comma list of lgbm,xgb,cat (default: the config's)")
    parser.add_argument("--folds", type=int, help="patient-grouped folds (default: config)")
    parser.add_argument("--seeds", type=int, help="split seeds, i.e. CV repeats (default: config)")
    return parser


if __name__ == "__main__":
    warnings.filterwarnings("ignore", message="Failed to import numba")
    raise SystemExit(run_cli(main))
