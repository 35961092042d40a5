"""The evaluation folder: built as `DIR.partial/` and renamed to DIR when complete, so a killed
or failed evaluation never leaves a DIR. It holds `evaluation.json` (the figures),
`scores.parquet` (each cohort lesion's scores) and the page (`evaluation.html` and
`evaluation.md`, written by the caller's `page` function: the page belongs to `reports/`).
An additive run's page also gets its curves and the cohort lesions' values of the features
they draw."""

from __future__ import annotations

import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from features.errors import UserError
from models import faults
from models.artifacts import partial_dir, write_json, write_parquet

log = logging.getLogger(__name__)

EVALUATION = "evaluation.json"
SCORES = "scores.parquet"


class Page(Protocol):
    """Writes the page's files into `folder` from the results, the scores with the grouping
    columns; for an additive run also its curves (`shape`, `shape_functions.parquet`) and the
    cohort lesions' values of the features drawn (`values`, row for row with `scores`)."""

    def __call__(
        self,
        results: dict[str, Any],
        scores: pl.DataFrame,
        folder: Path,
        *,
        shape: pl.DataFrame | None = None,
        values: pl.DataFrame | None = None,
    ) -> Any: ...


def default_evaluation_dir() -> Path:
    return Path("evaluations") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def refuse_existing(out: Path) -> None:
    """An evaluation never writes over another folder: checked before any work starts."""
    if Path(out).exists():
        raise UserError(f"{out}: evaluation folder already exists; choose another --out")


def write_evaluation(
    out: Path,
    results: dict[str, Any],
    scores: pl.DataFrame,
    context: pl.DataFrame,
    page: Page | None,
    curves: tuple[pl.DataFrame, pl.DataFrame] | None = None,
) -> Path:
    """Write the folder `out` through `out.partial/`: `scores` as scores.parquet, the page from
    `scores` joined with `context` (the grouping columns, row for row) and `curves` (an
    additive run's shape and the cohort's values, passed to the page as `shape` and `values`),
    then evaluation.json. A failure removes the partial folder; a kill leaves it for the next
    run to replace."""
    out = Path(out)
    refuse_existing(out)
    partial = partial_dir(out)
    if partial.exists():
        log.warning("%s: removing the unfinished evaluation left there", partial)
        shutil.rmtree(partial)
    try:
        partial.mkdir(parents=True)
    except OSError as error:
        raise UserError(f"{out}: cannot create its folder ({error.strerror})") from error
    try:
        write_parquet(partial / SCORES, scores)
        if page is not None:
            extra = context.select(c for c in context.columns if c not in scores.columns)
            frame = pl.concat([scores, extra], how="horizontal")
            if curves is None:
                page(results, frame, partial)
            else:
                page(results, frame, partial, shape=curves[0], values=curves[1])
        write_json(partial / EVALUATION, results)
        faults.reached("evaluation_done")
        os.replace(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return out
