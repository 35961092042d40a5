"""Reading what blends and comparisons take: a run or blend folder's out-of-fold scores, and a
run's test predictions in submission order with its folds. Score files are read by
`features.score_files`."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from features.errors import UserError, first_line
from features.frames import FrameSource
from features.io import READ_ERRORS
from models.artifacts.files import FOLDS, OOF, SUBMISSION, TEST_PREDICTIONS
from models.artifacts.folder import PARTIAL_SUFFIX
from models.blend import BLEND_COLUMN, ENSEMBLE_COLUMN, RunScores
from models.evaluation import KEY_COLUMNS

# `--run-columns models`: every model column of a run (not its ensemble).
MODEL_COLUMNS = "models"


def read_oof(folder: Path) -> pl.DataFrame:
    """oof.parquet of a run or blend folder; not of one still being built or left by a kill."""
    if Path(folder).name.endswith(PARTIAL_SUFFIX):
        raise UserError(f"{folder}: an unfinished folder; expected a finished run or blend folder")
    path = Path(folder) / OOF
    if not path.is_file():
        raise UserError(f"{folder}: not a run or blend folder (no {OOF})")
    try:
        return pl.read_parquet(path)
    except READ_ERRORS as error:
        raise UserError(f"{path}: cannot read it as Parquet ({first_line(error)})") from None


def read_run_scores(
    folder: Path, columns: str = ENSEMBLE_COLUMN, predictions: Path | FrameSource | None = None
) -> RunScores:
    """A run (or blend) folder as a blend input. `columns`: a comma list of its oof.parquet
    score columns, or `models` for each model's column. `predictions` (what `predict
    --predictions` wrote, or the frame `predict` returned, for another test file) replaces the
    run's own test predictions."""
    folder = Path(folder)
    oof = read_oof(folder)
    if columns == MODEL_COLUMNS:
        chosen = [c for c in oof.columns if c not in (*KEY_COLUMNS, ENSEMBLE_COLUMN, BLEND_COLUMN)]
    else:
        chosen = [c.strip() for c in columns.split(",") if c.strip()]
    test, folds = None, None
    test_label = str(folder / TEST_PREDICTIONS)
    if isinstance(predictions, FrameSource):
        test, test_label = predictions.frame, str(predictions)
    elif predictions is not None:
        if not Path(predictions).is_file():
            raise UserError(f"{predictions}: predictions file not found")
        test, test_label = pl.read_parquet(predictions), str(predictions)
    elif (folder / TEST_PREDICTIONS).is_file():
        test = pl.read_parquet(folder / TEST_PREDICTIONS)
        if (folder / SUBMISSION).is_file():
            # The submission's order is the sample submission's when the run had one.
            order = pl.read_csv(
                folder / SUBMISSION, columns=["isic_id"], schema_overrides={"isic_id": pl.String}
            )
            test = order.join(test, on="isic_id", how="left", maintain_order="left")
    if (folder / FOLDS).is_file():
        folds = pl.read_csv(folder / FOLDS, schema_overrides={"patient_id": pl.String})
    return RunScores(
        name=folder.resolve().name,
        label=str(folder / OOF),
        oof=oof,
        columns=chosen,
        test=test,
        test_label=test_label,
        folds=folds,
        folds_label=str(folder / FOLDS),
    )
