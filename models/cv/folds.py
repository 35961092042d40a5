"""Patient-grouped, stratified, seeded folds: every patient's lesions sit in exactly one fold.

The split is made on patients, not rows: each patient is one sample, stratified by how many
malignant lesions it has (the ISIC 2024 2nd place stratified folds by the patient's malignant
share), then mapped back to rows. That is fast on millions of rows and, because every
malignant stratum holds at least ``n_folds`` patients, it puts malignant rows in every fold.
Patients are ordered by id before splitting, so a patient's fold depends on the set of patients,
their labels and the seed, never on the row order of the input.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.model_selection import StratifiedKFold

from features.csv_rows import Rows
from features.errors import UserError, first_line
from features.io import READ_ERRORS, csv_rows
from models.evaluation import patient_codes


def patient_folds(patient_ids, y, n_folds: int, seed: int) -> np.ndarray:
    """Fold index (0..n_folds-1, int32) for every row; each patient is in exactly one fold."""
    codes, n_patients = patient_codes(patient_ids)
    malignant = _malignant_per_patient(codes, n_patients, y)
    return _patient_level_folds(malignant, n_folds, seed, _folds_need(n_folds))[codes]


def repeated_patient_folds(patient_ids, y, n_folds: int, seeds: Sequence[int]) -> np.ndarray:
    """`patient_folds` once per split seed: shape (len(seeds), n_rows)."""
    codes, n_patients = patient_codes(patient_ids)
    malignant = _malignant_per_patient(codes, n_patients, y)
    need = _folds_need(n_folds)
    out = np.empty((len(seeds), codes.size), dtype=np.int32)
    for i, seed in enumerate(seeds):
        out[i] = _patient_level_folds(malignant, n_folds, seed, need)[codes]
    return out


def inner_split(patient_ids, y, n_splits: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One patient-grouped stratified holdout of about 1/n_splits of the patients.

    Returns (train_idx, valid_idx), sorted row indices; no patient is on both sides and, like
    the folds, both sides get patients with malignant lesions.
    """
    codes, n_patients = patient_codes(patient_ids)
    malignant = _malignant_per_patient(codes, n_patients, y)
    need = f"an inner split into {n_splits} parts needs at least {n_splits}"
    fold = _patient_level_folds(malignant, n_splits, seed, need)[codes]
    return np.flatnonzero(fold != 0), np.flatnonzero(fold == 0)


def _folds_need(n_folds: int) -> str:
    return f"{n_folds} folds need at least {n_folds}"


def _malignant_per_patient(codes: np.ndarray, n_patients: int, y) -> np.ndarray:
    target = np.asarray(y)
    if target.shape != codes.shape:
        raise ValueError(f"y has {target.size} values but patient_ids has {codes.size}")
    is_malignant = target == 1
    if np.count_nonzero(is_malignant | (target == 0)) != target.size:
        raise ValueError("y must hold only 0 (benign) and 1 (malignant), without missing values")
    return np.bincount(codes[is_malignant], minlength=n_patients)


def _patient_level_folds(malignant: np.ndarray, n_folds: int, seed: int, need: str) -> np.ndarray:
    """Fold of every patient, given each patient's malignant-lesion count."""
    if n_folds < 2:
        raise UserError(f"the number of folds must be at least 2, got {n_folds}")
    n_with = int(np.count_nonzero(malignant))
    if n_with < n_folds:
        subject = "patient has" if n_with == 1 else "patients have"
        raise UserError(
            f"only {n_with} {subject} a malignant lesion; {need} — use fewer folds or more data"
        )
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold = np.empty(malignant.size, dtype=np.int32)
    with warnings.catch_warnings():
        # Only the benign-only stratum can be that small (see _strata); its patients simply
        # cannot reach every fold, which is harmless.
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        splits = list(splitter.split(malignant, _strata(malignant, n_folds)))
    for k, (_, test) in enumerate(splits):
        fold[test] = k
    return fold


def _strata(malignant: np.ndarray, n_folds: int) -> np.ndarray:
    """Stratum per patient: benign-only, then malignant-count buckets of >= n_folds patients.

    StratifiedKFold deals every stratum out round-robin, so a stratum with at least n_folds
    patients reaches every fold; merging neighbouring counts until each bucket is that large
    keeps malignant patients in every fold. Benign-only patients stay their own stratum even
    when there are fewer than n_folds of them: merged into a malignant bucket they could take
    a malignant patient's place in some fold.
    """
    counts = np.bincount(malignant)
    bucket_of_count = np.zeros(counts.size, dtype=np.int64)
    bucket, filled = 1, 0
    for count in range(1, counts.size):
        if counts[count] == 0:
            continue
        if filled >= n_folds:
            bucket, filled = bucket + 1, 0
        bucket_of_count[count] = bucket
        filled += counts[count]
    if filled < n_folds and bucket > 1:
        bucket_of_count[bucket_of_count == bucket] = bucket - 1
    return bucket_of_count[malignant]


def read_folds_file(path, patient_ids, repeats: int = 1) -> np.ndarray:
    """Folds made elsewhere, (repeats, rows): `path` is a CSV or Parquet file with `patient_id`
    and `fold` (and `fold_r1`, `fold_r2`, ... for more repeats, as a run's folds.csv has).

    Fold values must be the integers 0..K-1 with K >= 2; each patient has one row; every
    patient of the training data must be in the file. Anything else is a user error naming the
    file and the row."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: folds file not found")
    table, rows = _read_table(path)
    columns = ["fold"] + [f"fold_r{r}" for r in range(1, repeats)]
    for column in ["patient_id", *columns]:
        if column not in table.columns:
            raise UserError(
                f"{path}: column '{column}' is missing; expected patient_id,fold"
                + (
                    f" and fold_r1..fold_r{repeats - 1} for {repeats} repeats"
                    if repeats > 1
                    else ""
                )
            )
    table = table.select(pl.col("patient_id").cast(pl.String), *columns).with_row_index("row")
    duplicated = table.filter(pl.col("patient_id").is_duplicated())
    if duplicated.height:
        first = duplicated.row(0, named=True)
        raise UserError(
            f"{path}: data row {rows.data_row(first['row'])}: patient_id '{first['patient_id']}' "
            "appears more than once; expected one row per patient"
        )
    folds = []
    for column in columns:
        values = table[column].cast(pl.Int64, strict=False)
        raw = table[column].cast(pl.String)
        bad = (values.is_null() | (values < 0)) | (raw.str.contains(r"[.eE]").fill_null(False))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise UserError(
                f"{path}: data row {rows.data_row(row)}: column '{column}' is '{raw[row]}'; "
                "expected a non-negative integer fold"
            )
        distinct = sorted(set(values.to_list()))
        if len(distinct) < 2 or distinct != list(range(len(distinct))):
            raise UserError(
                f"{path}: column '{column}' has folds {distinct[:10]}; expected 0..K-1 with K >= 2"
            )
        folds.append(values.to_numpy())
    ids = patient_ids if isinstance(patient_ids, pl.Series) else pl.Series(values=patient_ids)
    lookup = ids.cast(pl.String).rename("patient_id").to_frame().with_row_index("train_row")
    joined = lookup.join(table, on="patient_id", how="left", maintain_order="left")
    missing = joined.filter(pl.col("row").is_null())
    if missing.height:
        first = missing.row(0, named=True)
        raise UserError(
            f"{path}: patient_id '{first['patient_id']}' (training row {first['train_row'] + 1}) "
            f"is not in the folds file; {missing['patient_id'].n_unique()} patients are missing"
        )
    positions = joined["row"].to_numpy()
    return np.vstack([f[positions] for f in folds]).astype(np.int32)


def _read_table(path: Path) -> tuple[pl.DataFrame, Rows]:
    """The folds file as text, and where its rows are."""
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path), Rows.plain()
        rows = csv_rows(path, pl.read_csv(path, n_rows=0, infer_schema=False).columns)
        return rows.without_blank(pl.read_csv(path, infer_schema=False)), rows
    except READ_ERRORS as error:
        raise UserError(
            f"{path}: not a readable CSV or Parquet file ({first_line(error)})"
        ) from None
