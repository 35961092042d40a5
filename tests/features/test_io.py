"""Reading the Kaggle layout: the real files unchanged, and one clear line for each user error."""

from __future__ import annotations

import logging
import shutil

import polars as pl
import pytest

from features import io, schema
from features.errors import UserError


def test_reads_the_real_train_sample_with_the_schema(real_dir):
    frame = io.read_train(real_dir / "train-metadata-50.csv")
    assert frame.columns == list(schema.TRAIN_COLUMN_NAMES)
    assert frame.height == 50
    assert frame["target"].sum() == 20  # 20 malignant, as the README says
    assert frame.schema["age_approx"] == pl.Float64
    assert frame["age_approx"].null_count() == 2  # two empty fields in the file
    assert frame["sex"].null_count() == 1
    assert frame["mel_mitotic_index"].drop_nulls().to_list() == ["0/mm^2"] * 3


def test_reads_both_real_test_releases(real_dir, caplog):
    current = io.read_test(real_dir / "test-metadata.csv")
    assert current.columns == list(schema.TEST_COLUMN_NAMES)
    assert current["attribution"].to_list()[2] == "FNQH Cairns"
    assert current["age_approx"].to_list() == [45.0, 35.0, 65.0]
    with caplog.at_level(logging.WARNING):
        first = io.read_test(real_dir / "test-metadata-first-release.csv")
    assert first.height == 3
    assert "'tbp_lv_stdLExt' merely repeats column 'tbp_lv_Lext'" in caplog.text


def test_real_dataset_folder_with_sample_submission(real_dir, tmp_path):
    shutil.copy(real_dir / "train-metadata-50.csv", tmp_path / "train-metadata.csv")
    shutil.copy(real_dir / "test-metadata.csv", tmp_path / "test-metadata.csv")
    shutil.copy(real_dir / "sample_submission.csv", tmp_path / "sample_submission.csv")
    dataset = io.read_dataset(tmp_path)
    assert dataset.test.height == 3
    assert dataset.sample_ids.to_list() == dataset.test["isic_id"].to_list()
    assert set(dataset.hashes) == set(dataset.files.values())


def _write(tmp_path, frame: pl.DataFrame, name="train-metadata.csv"):
    path = tmp_path / name
    frame.write_csv(path)
    return path


@pytest.fixture
def train_frame(small_data):
    return small_data[0].head(200)


def test_na_and_empty_are_missing_and_inf_is_null(tmp_path, train_frame):
    path = _write(tmp_path, train_frame)
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("age_approx")] = "NA"
    cells[header.index("tbp_lv_A")] = ""
    cells[header.index("tbp_lv_B")] = "inf"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    frame = io.read_train(path)
    assert frame["age_approx"][0] is None
    assert frame["tbp_lv_A"][0] is None
    assert frame["tbp_lv_B"][0] is None
    assert frame["tbp_lv_B"][1] == pytest.approx(train_frame["tbp_lv_B"][1])


def test_parquet_twin_wins(tmp_path, train_frame, caplog):
    _write(tmp_path, train_frame.head(10))
    train_frame.write_parquet(tmp_path / "train-metadata.parquet")
    with caplog.at_level(logging.INFO):
        dataset = io.read_dataset(tmp_path)
    assert dataset.train.height == train_frame.height
    assert "Parquet twin" in caplog.text


def test_extra_columns_ignored_and_train_only_dropped_from_test(tmp_path, train_frame, caplog):
    with caplog.at_level(logging.WARNING):
        train = io.read_train(_write(tmp_path, train_frame.with_columns(my_note=pl.lit("x"))))
        test = io.read_test(_write(tmp_path, train_frame, "test-metadata.csv"))
    assert "my_note" not in train.columns
    assert "target" not in test.columns and "lesion_id" not in test.columns
    assert "ignoring unknown columns: my_note" in caplog.text
    assert "dropping train-only columns" in caplog.text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("tbp_lv_H"), "required column 'tbp_lv_H' is missing"),
        (
            lambda f: f.with_columns(pl.col("isic_id").shift(1, fill_value="ISIC_X")),
            None,
        ),  # fine: a shift keeps ids unique
        (
            lambda f: f.with_columns(isic_id=pl.lit("ISIC_0000001")),
            "column 'isic_id': 'ISIC_0000001' appears more than once (data rows 1, 2)",
        ),
        (
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 3)
                .then(None)
                .otherwise(pl.col("patient_id"))
                .alias("patient_id")
            ),
            "column 'patient_id', data row 4: value is missing",
        ),
        (
            lambda f: f.with_columns(
                pl.when(pl.int_range(pl.len()) == 5)
                .then(2)
                .otherwise(pl.col("target"))
                .alias("target")
            ),
            "column 'target', data row 6: expected 0 or 1, got 2",
        ),
    ],
)
def test_user_errors_name_the_file_and_column(tmp_path, train_frame, change, message):
    path = _write(tmp_path, change(train_frame))
    if message is None:
        io.read_train(path)
        return
    with pytest.raises(UserError) as error:
        io.read_train(path)
    assert str(error.value) == f"{path}: {message}"


def test_unparseable_value_is_quoted_with_its_row(tmp_path, train_frame):
    path = _write(tmp_path, train_frame.with_columns(pl.col("tbp_lv_L").cast(pl.String)))
    text = path.read_text().splitlines()
    header = text[0].split(",")
    cells = text[7].split(",")
    cells[header.index("tbp_lv_L")] = "12,5".replace(",", ";")
    text[7] = ",".join(cells)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(
        UserError, match=r"column 'tbp_lv_L', data row 7: cannot read '12;5' as a number"
    ):
        io.read_train(path)


def test_missing_empty_and_header_only_files(tmp_path, train_frame):
    with pytest.raises(UserError, match="file not found"):
        io.read_train(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(UserError, match="empty.csv: file is empty"):
        io.read_train(tmp_path / "empty.csv")
    path = _write(tmp_path, train_frame.head(0), "header.csv")
    with pytest.raises(UserError, match="header but no rows"):
        io.read_train(path)
    with pytest.raises(UserError, match="no train-metadata.csv or train-metadata.parquet"):
        io.read_dataset(tmp_path)


def test_sample_submission_must_match_test_ids(tmp_path, small_data):
    train, test = small_data
    _write(tmp_path, train.head(100))
    _write(tmp_path, test.head(10), "test-metadata.csv")
    sample = test.head(9).select("isic_id", target=pl.lit(0.3))
    _write(tmp_path, sample, "sample_submission.csv")
    with pytest.raises(
        UserError,
        match=r"sample_submission.csv: isic_id set does not match .*"
        r"test id .* is not in it",
    ):
        io.read_dataset(tmp_path)


def test_typed_fast_path_equals_the_text_path(tmp_path, train_frame):
    path = _write(tmp_path, train_frame)
    header = io._header(path)
    columns = [c for c in schema.TRAIN_COLUMN_NAMES if c in header]
    dtypes = schema.schema_for(columns)
    rows = io.csv_rows(path, header)
    fast = io._read_typed_csv(path, header, columns, dtypes, rows)
    assert fast is not None
    assert fast.equals(io._read_as_text(path, header, columns, dtypes, rows))


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("train-metadata-50.csv", io.read_train),
        ("test-metadata.csv", io.read_test),
        ("sample_submission.csv", io.read_sample_ids),
    ],
)
def test_real_files_with_blank_lines_read_as_without(real_dir, tmp_path, name, reader, caplog):
    lines = (real_dir / name).read_bytes().split(b"\n")
    lines[2:2] = [b""]  # before data row 2
    padded = tmp_path / name
    padded.write_bytes(b"\n".join(lines) + b"\n\r\n\n")
    with caplog.at_level(logging.WARNING):
        read = reader(padded)
    assert read.equals(reader(real_dir / name))
    assert f"{padded}: data row 2 is a blank line; skipped it (blank lines" in caplog.text


def test_a_real_row_without_a_cell_is_named_with_its_row(real_dir, tmp_path):
    lines = (real_dir / "train-metadata-50.csv").read_bytes().split(b"\n")
    lines[30] = lines[30].rsplit(b",", 1)[0]
    short = tmp_path / "train-metadata.csv"
    short.write_bytes(b"\n".join(lines))
    with pytest.raises(UserError, match=r"train-metadata.csv: data row 30 has 54 of 55 fields"):
        io.read_train(short)


def test_a_fractional_target_in_parquet_is_named_not_truncated(tmp_path, train_frame):
    target = pl.when(pl.int_range(pl.len()) == 2).then(0.5).otherwise(pl.col("target"))
    path = tmp_path / "train-metadata.parquet"
    train_frame.with_columns(target.alias("target")).write_parquet(path)
    with pytest.raises(UserError) as error:
        io.read_train(path)
    assert str(error.value) == f"{path}: column 'target', data row 3: cannot read '0.5' as a number"
    whole = tmp_path / "whole.parquet"
    train_frame.with_columns(pl.col("target").cast(pl.Float64)).write_parquet(whole)
    assert io.read_train(whole)["target"].to_list() == train_frame["target"].to_list()
