"""The robustness table's tools: the small data set, run and score files every case starts
from, and the faults a case puts into its copy of them (each a function of the workspace)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from features import synthetic

TRAIN = "train-metadata.csv"
TEST = "test-metadata.csv"
SAMPLE = "sample_submission.csv"
TRAIN_SCORES = "train-scores.csv"
TEST_SCORES = "test-scores.csv"
FILES = (TRAIN, TEST, SAMPLE, TRAIN_SCORES, TEST_SCORES)
# Quick enough that a trained case costs about a second: few rounds and resamples, 2 folds.
FAST_TOML = """
[cv]
folds = 2
[training]
fixed_rounds = { lgbm = 20 }
max_rounds = 30
min_rounds = 5
early_stopping_rounds = 10
bootstrap_samples = 10
threads = 1
[models]
names = ["lgbm"]
[models.lgbm]
num_leaves = 4
"""


@dataclass(frozen=True)
class Workspace:
    """One case's folder: `data` holds fresh copies of FILES, `run` is the shared trained run
    (read only), `config` the fast config."""

    dir: Path
    data: Path
    run: Path
    config: Path

    def placeholders(self) -> dict[str, str]:
        return {"dir": str(self.dir), "data": str(self.data), "run": str(self.run)}

    def normalise(self, text: str) -> str:
        """Paths as the table writes them: DATA, RUN and DIR for the case's own folders."""
        for name in ("data", "run", "dir"):
            text = text.replace(str(getattr(self, name)), name.upper())
        return text


Fault = Callable[[Workspace], None]


def make_base(folder: Path) -> Path:
    """The data every case copies: 1,500 train lesions (30 malignant), 60 test lesions, the
    sample submission, and score files for the blends."""
    folder.mkdir(parents=True, exist_ok=True)
    train, test = synthetic.generate(1500, 60, seed=3, malignant_rate=0.02)
    synthetic.write_kaggle_layout(train, test, folder)
    rng = np.random.default_rng(0)
    for ids, name in ((train["isic_id"], TRAIN_SCORES), (test["isic_id"], TEST_SCORES)):
        pl.DataFrame({"isic_id": ids, "image": rng.random(len(ids))}).write_csv(folder / name)
    (folder / "fast.toml").write_text(FAST_TOML)
    return folder


def workspace(base: Path, run: Path, folder: Path) -> Workspace:
    data = folder / "data"
    data.mkdir(parents=True)
    for name in FILES:
        shutil.copy(base / name, data / name)
    shutil.copy(base / "fast.toml", folder / "fast.toml")
    return Workspace(folder, data, run, folder / "fast.toml")


# The faults. Each returns a Fault; row numbers count data rows from 1, as the messages do.


def nothing() -> Fault:
    return lambda ws: None


def all_of(*faults: Fault) -> Fault:
    def apply(ws: Workspace) -> None:
        for fault in faults:
            fault(ws)

    return apply


def remove(name: str) -> Fault:
    return lambda ws: (ws.data / name).unlink()


def empty(name: str) -> Fault:
    return lambda ws: (ws.data / name).write_bytes(b"")


def header_only(name: str) -> Fault:
    def apply(ws: Workspace) -> None:
        path = ws.data / name
        path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")

    return apply


def edit(name: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> Fault:
    """Rewrite a CSV through `change`, every column as text."""

    def apply(ws: Workspace) -> None:
        path = ws.data / name
        change(pl.read_csv(path, infer_schema=False)).write_csv(path)

    return apply


def drop_column(name: str, column: str) -> Fault:
    return edit(name, lambda frame: frame.drop(column))


def set_cell(name: str, column: str, row: int, value: str | None) -> Fault:
    def change(frame: pl.DataFrame) -> pl.DataFrame:
        index = pl.int_range(pl.len()) == row - 1
        cell = pl.when(index).then(pl.lit(value, pl.String)).otherwise(pl.col(column))
        return frame.with_columns(cell.alias(column))

    return edit(name, change)


def set_column(name: str, column: str, value: str | None) -> Fault:
    return edit(name, lambda frame: frame.with_columns(pl.lit(value, pl.String).alias(column)))


def copy_cell(name: str, column: str, source_row: int, row: int) -> Fault:
    """Row `row` takes row `source_row`'s value: a duplicated id."""

    def apply(ws: Workspace) -> None:
        frame = pl.read_csv(ws.data / name, infer_schema=False)
        set_cell(name, column, row, frame[column][source_row - 1])(ws)

    return apply


def drop_rows(name: str, rows: list[int]) -> Fault:
    return edit(
        name, lambda frame: frame.filter(~pl.int_range(pl.len()).is_in([r - 1 for r in rows]))
    )


def append_row(name: str, isic_id: str) -> Fault:
    """An extra row: a copy of the first under a new id."""

    def change(frame: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([frame, frame.head(1).with_columns(pl.lit(isic_id).alias("isic_id"))])

    return edit(name, change)


def raw_bytes_in_row(name: str, row: int, data: bytes) -> Fault:
    """`data` (e.g. bytes that are not UTF-8) put into the first cell after the id of `row`."""

    def apply(ws: Workspace) -> None:
        path = ws.data / name
        lines = path.read_bytes().split(b"\n")
        cells = lines[row].split(b",")
        cells[1] = data
        lines[row] = b",".join(cells)
        path.write_bytes(b"\n".join(lines))

    return apply


def drop_last_cell(name: str, row: int) -> Fault:
    """Data row `row` loses its last cell (and the comma before it): a row shorter than the
    header in the middle of the file."""

    def apply(ws: Workspace) -> None:
        path = ws.data / name
        lines = path.read_bytes().split(b"\n")
        lines[row] = lines[row].rsplit(b",", 1)[0]
        path.write_bytes(b"\n".join(lines))

    return apply


def blank_lines(name: str, before_row: int | None = None, count: int = 2) -> Fault:
    """`count` blank lines before data row `before_row`, or at the end of the file (None), as
    editors and `cat` leave them."""

    def apply(ws: Workspace) -> None:
        path = ws.data / name
        lines = path.read_bytes().split(b"\n")
        at = len(lines) if before_row is None else before_row
        lines[at:at] = [b""] * count
        path.write_bytes(b"\n".join(lines))

    return apply


def train_lesions_in_test(rows: int) -> Fault:
    """The test file's first `rows` lesions replaced by the train file's first ones (their
    patients with them), and the sample submission's ids with them."""

    def apply(ws: Workspace) -> None:
        train = pl.read_csv(ws.data / TRAIN, infer_schema=False)
        test = pl.read_csv(ws.data / TEST, infer_schema=False)
        copied = train.head(rows).select(test.columns)
        pl.concat([copied, test.slice(rows)]).write_csv(ws.data / TEST)
        sample = pl.read_csv(ws.data / SAMPLE, infer_schema=False)
        renamed = pl.col("isic_id").replace(test["isic_id"].head(rows), copied["isic_id"])
        sample.with_columns(renamed).write_csv(ws.data / SAMPLE)

    return apply


def train_patient_in_test(row: int) -> Fault:
    """Test lesion `row` moved to the first train lesion's patient."""

    def apply(ws: Workspace) -> None:
        patient = pl.read_csv(ws.data / TRAIN, infer_schema=False)["patient_id"][0]
        set_cell(TEST, "patient_id", row, patient)(ws)

    return apply


def folds_file(name: str = "folds.csv") -> Fault:
    """A folds file for the train file's patients (two folds), in the data folder."""

    def apply(ws: Workspace) -> None:
        patients = pl.read_csv(ws.data / TRAIN, infer_schema=False)["patient_id"].unique()
        folds = pl.int_range(pl.len(), eager=False) % 2
        patients.sort().to_frame().with_columns(folds.alias("fold")).write_csv(ws.data / name)

    return apply


def cut_mid_line(name: str, keep: int = 10) -> Fault:
    """The file ends `keep` bytes into its last line, as an interrupted copy leaves it."""

    def apply(ws: Workspace) -> None:
        path = ws.data / name
        content = path.read_bytes().rstrip(b"\n")
        path.write_bytes(content[: content.rfind(b"\n") + 1 + keep])

    return apply


def no_final_line_break(name: str) -> Fault:
    def apply(ws: Workspace) -> None:
        path = ws.data / name
        path.write_bytes(path.read_bytes().rstrip(b"\n"))

    return apply


def as_parquet(name: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> Fault:
    """The CSV replaced by a Parquet twin holding `change` of its text columns."""

    def apply(ws: Workspace) -> None:
        path = ws.data / name
        change(pl.read_csv(path, infer_schema=False)).write_parquet(path.with_suffix(".parquet"))
        path.unlink()

    return apply


def write(relative: str, text: str) -> Fault:
    """A file written into the case folder (a config, or a file where a folder should be)."""
    return lambda ws: (ws.dir / relative).write_text(text)


def copy_run(relative: str, change: Callable[[Path], None] = lambda folder: None) -> Fault:
    """A copy of the shared run in the case folder, changed by `change`."""

    def apply(ws: Workspace) -> None:
        folder = ws.dir / relative
        shutil.copytree(ws.run, folder)
        change(folder)

    return apply
