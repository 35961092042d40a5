"""What a blend combines: columns of run folders' out-of-fold and test scores, and score files
(an image model's, say), joined by `isic_id` onto the first run's rows.

Every fitted blend weight is judged on folds it did not see, which means something only when
every component's out-of-fold scores come from the same patient folds: runs must share their
folds, and a score file's train scores must be out-of-fold on them too (which this module
cannot check beyond the ids). A component ranks new lesions against its own out-of-fold
scores, so its out-of-fold column is kept as the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from features.errors import UserError
from models.blend.blender import BLEND_COLUMN, METHODS
from models.blend.in_run import ENSEMBLE_COLUMN
from models.evaluation import KEY_COLUMNS, aligned

# Column names a component may not take: the keys, the methods' and the chosen blend's.
RESERVED = (*KEY_COLUMNS, *METHODS, BLEND_COLUMN, ENSEMBLE_COLUMN)


@dataclass(frozen=True)
class RunScores:
    """One run folder's scores: `oof` (oof.parquet), `test` (test_predictions.parquet in
    submission order, or None), `folds` (folds.csv, or None) and the columns to blend."""

    name: str
    label: str  # where it came from, for messages
    oof: pl.DataFrame
    columns: list[str]
    test: pl.DataFrame | None = None
    test_label: str = ""
    folds: pl.DataFrame | None = None
    folds_label: str = ""


@dataclass(frozen=True)
class ScoreFile:
    """A score file: `isic_id` plus numeric columns, out-of-fold for train, and its test twin."""

    name: str
    train: pl.DataFrame
    train_label: str
    test: pl.DataFrame | None = None
    test_label: str = ""


@dataclass
class Components:
    """Every component's out-of-fold scores on `rows` (isic_id, patient_id, target, fold), and
    its test scores on `test_ids` where it has them."""

    rows: pl.DataFrame
    oof: dict[str, np.ndarray]
    test_ids: pl.Series | None
    test: dict[str, np.ndarray] = field(default_factory=dict)
    origin: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return list(self.oof)

    @property
    def complete_test(self) -> bool:
        """Whether every component has test scores (a submission can be written)."""
        return self.test_ids is not None and set(self.test) == set(self.oof)

    def test_in_order(self, ids: pl.Series) -> None:
        """Put the test lesions into the order of `ids`, which holds the same lesions (a
        sample submission's, checked by the caller)."""
        position = pl.DataFrame({"isic_id": self.test_ids, "row": np.arange(self.test_ids.len())})
        order = (
            ids.rename("isic_id")
            .to_frame()
            .join(position, on="isic_id", how="left", maintain_order="left")["row"]
            .to_numpy()
        )
        self.test_ids = self.test_ids.gather(order)
        self.test = {name: values[order] for name, values in self.test.items()}


def join_components(runs: list[RunScores], score_files: list[ScoreFile]) -> Components:
    """The components of `runs` (the first one's rows and folds are the reference) and
    `score_files`, checked: same rows and folds for every run, every score file's ids exactly
    the runs' rows (and their test lesions), numbers everywhere."""
    if not runs:
        raise UserError("--run: give at least one run folder; its rows, labels and folds anchor")
    first = runs[0]
    _has_keys(first)
    rows = first.oof.select(KEY_COLUMNS)
    test_ids = first.test["isic_id"] if first.test is not None else None
    components = Components(rows=rows, oof={}, test_ids=test_ids)
    for run in runs:
        _add_run(components, run, first)
    for scores in score_files:
        _add_score_file(components, scores)
    return components


def component_names(stem: str, columns: list[str], taken: set[str], bare: bool) -> list[str]:
    """`stem` when `bare` (a run's ensemble alone, a score file's only column), else
    `stem:column`; a name already taken gets `_2`, `_3`, ..."""
    names = []
    for column in columns:
        base = stem if bare else f"{stem}:{column}"
        name, k = base, 1
        while name in taken or name in RESERVED:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        names.append(name)
    return names


def _has_keys(run: RunScores) -> None:
    missing = [c for c in KEY_COLUMNS if c not in run.oof.columns]
    if missing:
        raise UserError(f"{run.label}: column '{missing[0]}' is missing; expected {KEY_COLUMNS}")


def _add_run(components: Components, run: RunScores, first: RunScores) -> None:
    _has_keys(run)
    oof = aligned(components.rows, run.oof, first.label, run.label)
    if run is not first:
        _same_repeat_folds(first, run)
    for column in run.columns:
        if column not in run.oof.columns:
            raise UserError(f"{run.label}: no score column '{column}' (has {run.oof.columns})")
    bare = run.columns == [ENSEMBLE_COLUMN]
    names = component_names(run.name, run.columns, set(components.oof), bare)
    test = None
    if run.test is not None and components.test_ids is not None:
        test = _on_ids(run.test, components.test_ids, run.test_label, "test lesions")
    for name, column in zip(names, run.columns, strict=True):
        components.oof[name] = _numbers(oof, column, run.label)
        components.origin[name] = {"source": run.label, "column": column}
        if test is not None:
            if column not in test.columns:
                raise UserError(f"{run.test_label}: no score column '{column}'")
            components.test[name] = _numbers(test, column, run.test_label)


def _add_score_file(components: Components, scores: ScoreFile) -> None:
    columns = _score_columns(scores.train, scores.train_label)
    train = _on_ids(scores.train, components.rows["isic_id"], scores.train_label, "run rows")
    test = None
    if scores.test is not None:
        if components.test_ids is None:
            raise UserError(
                f"{scores.test_label}: the runs have no test predictions to blend it with"
            )
        test = _on_ids(scores.test, components.test_ids, scores.test_label, "test lesions")
        missing = [c for c in columns if c not in test.columns]
        if missing:
            raise UserError(f"{scores.test_label}: score column '{missing[0]}' is missing")
    for name, column in zip(
        component_names(scores.name, columns, set(components.oof), len(columns) == 1),
        columns,
        strict=True,
    ):
        components.oof[name] = _numbers(train, column, scores.train_label)
        components.origin[name] = {"source": scores.train_label, "column": column}
        if test is not None:
            components.test[name] = _numbers(test, column, scores.test_label)


def _same_repeat_folds(first: RunScores, run: RunScores) -> None:
    """Every CV repeat's folds (folds.csv `fold_r1`, ...) agree where both runs have them;
    `aligned` has already checked the first repeat's through oof.parquet."""
    if first.folds is None or run.folds is None:
        return
    common = [c for c in first.folds.columns if c.startswith("fold_r") and c in run.folds.columns]
    if not common:
        return
    joined = first.folds.join(run.folds, on="patient_id", how="inner", suffix="__b")
    for column in common:
        moved = joined.filter(pl.col(column) != pl.col(f"{column}__b"))
        if moved.height:
            row = moved.row(0, named=True)
            raise UserError(
                f"{run.folds_label}: patient {row['patient_id']} is in {column} "
                f"{row[f'{column}__b']} there but {row[column]} in {first.folds_label}; "
                "train every run on the same folds (--folds-file)"
            )


def _score_columns(frame: pl.DataFrame, label: str) -> list[str]:
    if "isic_id" not in frame.columns:
        raise UserError(f"{label}: column 'isic_id' is missing; expected isic_id and scores")
    columns = [c for c in frame.columns if c != "isic_id"]
    if not columns:
        raise UserError(f"{label}: no score column; expected isic_id and numeric columns")
    for column in columns:
        if not frame[column].dtype.is_numeric():
            raise UserError(
                f"{label}: column '{column}' is {frame[column].dtype}; expected numbers"
            )
    return columns


def _on_ids(frame: pl.DataFrame, ids: pl.Series, label: str, what: str) -> pl.DataFrame:
    """`frame`'s rows in the order of `ids`, which it must hold exactly once each."""
    if "isic_id" not in frame.columns:
        raise UserError(f"{label}: column 'isic_id' is missing")
    frame = frame.with_columns(pl.col("isic_id").cast(pl.String))
    duplicated = frame.filter(pl.col("isic_id").is_duplicated())
    if duplicated.height:
        raise UserError(f"{label}: isic_id {duplicated['isic_id'][0]} occurs more than once")
    wanted = ids.rename("isic_id").cast(pl.String).to_frame()
    missing = wanted.join(frame, on="isic_id", how="anti")
    if missing.height:
        raise UserError(
            f"{label}: isic_id {missing['isic_id'][0]} of the {what} is missing "
            f"({missing.height} of {wanted.height} missing)"
        )
    extra = frame.join(wanted, on="isic_id", how="anti")
    if extra.height:
        raise UserError(
            f"{label}: isic_id {extra['isic_id'][0]} is not one of the {what} "
            f"({extra.height} extra rows)"
        )
    return wanted.join(frame, on="isic_id", how="left", maintain_order="left")


def _numbers(frame: pl.DataFrame, column: str, label: str) -> np.ndarray:
    values = frame[column].cast(pl.Float64)
    bad = frame.filter(values.is_null() | values.is_nan() | values.is_infinite())
    if bad.height:
        raise UserError(
            f"{label}: column '{column}' has no finite number for isic_id "
            f"{bad['isic_id'][0]} ({bad.height} rows); expected a score for every lesion"
        )
    return values.to_numpy()
