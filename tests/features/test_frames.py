"""Frames given where a data file is read: a Polars or pandas frame of a file's rows reads as the
file does, every fault is named with the frame and its 0-based row, and the content hash depends
on the values alone."""

from __future__ import annotations

import logging
import os

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from features import io, schema
from features.errors import UserError
from features.frames import FrameSource, as_source, describe_frame, frame_sha256, is_frame
from models.external import read_cohort, read_labels
from pipelines import make_synthetic


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    argv = ["--out", str(out), "--rows", "3000", "--test-rows", "500"]
    assert make_synthetic.main(argv) == 0
    return out


@pytest.fixture(scope="module")
def train_50(real_dir):
    """The 50 real train rows as `pl.read_csv` infers them."""
    return pl.read_csv(real_dir / "train-metadata-50.csv")


def _set(frame: pl.DataFrame, column: str, index: int, value) -> pl.DataFrame:
    """`frame` with one cell changed (the column becomes a supertype of its own and `value`)."""
    at = pl.int_range(pl.len()) == index
    return frame.with_columns(
        pl.when(at).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )


def _message(read, value) -> str:
    with pytest.raises(UserError) as error:
        read(value)
    return str(error.value)


# as_source


def test_as_source_tells_paths_from_frames(tmp_path):
    frame = pl.DataFrame({"isic_id": ["ISIC_1"]})
    assert as_source(str(tmp_path), "train frame") == tmp_path
    assert as_source(tmp_path, "train frame") == tmp_path
    source = as_source(frame, "train frame")
    assert isinstance(source, FrameSource) and source.frame is frame
    assert str(source) == "train frame"
    assert as_source(source, "other frame") is source
    converted = as_source(frame.to_pandas(), "test frame")
    assert str(converted) == "test frame" and converted.frame.equals(frame)
    assert [is_frame(v) for v in (frame, frame.to_pandas(), source, tmp_path, "x.csv")] == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_as_source_refuses_what_is_neither():
    assert _message(lambda v: as_source(v, "train frame"), 3) == (
        "train frame: expected a file path or a Polars or pandas DataFrame, got int"
    )
    assert "got LazyFrame" in _message(lambda v: as_source(v, "x"), pl.LazyFrame())


def test_a_pandas_frame_that_arrow_cannot_type_is_named():
    mixed = pd.DataFrame({"isic_id": ["ISIC_1", 2]})
    assert _message(io.read_train, mixed).startswith(
        "train frame: cannot convert the pandas DataFrame ("
    )
    repeated = pd.DataFrame([[1, 2]], columns=["a", "a"])
    assert _message(io.read_test, repeated).startswith("test frame: cannot convert")


# The same rows as a file and as a frame


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        ("train-metadata-5k.csv", io.read_train),
        ("train-metadata-50.csv", io.read_train),
        ("test-metadata.csv", io.read_test),
        ("test-metadata-first-release.csv", io.read_test),
    ],
)
def test_a_real_file_read_by_polars_or_pandas_reads_as_the_file(real_dir, name, reader):
    path = real_dir / name
    inferred = pl.read_csv(path)
    # pl.read_csv's own guesses, which the reader must cast rather than refuse.
    assert inferred.schema["tbp_lv_symm_2axis_angle"] == pl.Int64
    expected = reader(path)
    assert_frame_equal(reader(inferred), expected, check_exact=True)
    assert_frame_equal(reader(inferred.to_pandas()), expected, check_exact=True)


def test_the_real_5k_rows_cast_pl_read_csv_guesses(real_dir):
    inferred = pl.read_csv(real_dir / "train-metadata-5k.csv")
    assert inferred.schema["target"] == pl.Int64
    assert inferred.schema["mel_thick_mm"] == pl.String  # no value at all: a String column
    read = io.read_train(inferred)
    assert read.schema == io.read_train(real_dir / "train-metadata-5k.csv").schema
    assert read.schema["target"] == pl.Int8 and read.schema["mel_thick_mm"] == pl.Float64
    assert read["target"].to_list() == inferred["target"].to_list()


@pytest.mark.parametrize(
    ("name", "reader"),
    [("train-metadata.csv", io.read_train), ("test-metadata.csv", io.read_test)],
)
def test_a_synthetic_file_read_by_polars_or_pandas_reads_as_the_file(synthetic_dir, name, reader):
    path = synthetic_dir / name
    expected = reader(path)
    assert_frame_equal(reader(pl.read_csv(path)), expected, check_exact=True)
    assert_frame_equal(reader(pl.read_csv(path).to_pandas()), expected, check_exact=True)


def test_categorical_columns_read_as_their_text(real_dir, train_50):
    expected = io.read_train(real_dir / "train-metadata-50.csv")
    categorical = train_50.with_columns(
        pl.col("sex").cast(pl.Categorical),
        pl.col("anatom_site_general").cast(pl.Enum(schema.SITE_LEVELS)),
        pl.col("isic_id").cast(pl.Categorical),
        # Numbers kept as categories: Polars casts no category to a number itself.
        pl.col("age_approx").cast(pl.String).cast(pl.Categorical),
    )
    assert_frame_equal(io.read_train(categorical), expected, check_exact=True)
    as_pandas = train_50.to_pandas().astype({"sex": "category", "tbp_tile_type": "category"})
    assert_frame_equal(io.read_train(as_pandas), expected, check_exact=True)


def test_reading_a_frame_leaves_it_and_the_folder_as_they_were(train_50, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    given = train_50.clone()
    io.read_train(given)
    assert given.equals(train_50) and given.schema == train_50.schema
    assert list(tmp_path.iterdir()) == []


# Faults: named with the frame and its 0-based row


def test_a_fault_is_named_with_the_frames_index_where_a_file_names_its_data_row(train_50, tmp_path):
    bad = _set(train_50, "target", 3, 2)
    path = tmp_path / "train.csv"
    bad.write_csv(path)
    assert _message(io.read_train, path) == (
        f"{path}: column 'target', data row 4: expected 0 or 1, got 2"
    )
    assert _message(io.read_train, bad) == (
        "train frame: column 'target', data row 3: expected 0 or 1, got 2"
    )
    assert bad["target"][3] == 2  # row 3 of the frame is the bad one


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("tbp_lv_H"), "required column 'tbp_lv_H' is missing"),
        (lambda f: f.head(0), "has no rows"),
        (
            lambda f: _set(f, "isic_id", 1, f["isic_id"][0]),
            "column 'isic_id': '{id0}' appears more than once (data rows 0, 1)",
        ),
        (
            lambda f: _set(f, "patient_id", 4, None),
            "column 'patient_id', data row 4: value is missing",
        ),
        (
            lambda f: _set(f.with_columns(pl.col("tbp_lv_L").cast(str)), "tbp_lv_L", 7, "12;5"),
            "column 'tbp_lv_L', data row 7: cannot read '12;5' as a number",
        ),
        (
            lambda f: _set(f.with_columns(pl.col("target").cast(pl.Float64)), "target", 2, 0.5),
            "column 'target', data row 2: cannot read '0.5' as a number",
        ),
        (
            lambda f: _set(f, "target", 5, None),
            "column 'target', data row 5: expected 0 or 1, got None",
        ),
        (
            lambda f: _set(f, "target", 6, 300),
            "column 'target', data row 6: cannot read '300' as a number",
        ),
        (
            lambda f: f.with_columns(pl.concat_list("tbp_lv_A").alias("tbp_lv_A")),
            "column 'tbp_lv_A' holds List(Float64); expected numbers",
        ),
    ],
)  # fmt: skip
def test_train_frame_faults_are_one_line_naming_the_frame(train_50, change, message):
    text = message.format(id0=train_50["isic_id"][0])
    assert _message(io.read_train, change(train_50)) == f"train frame: {text}"


def test_a_pandas_frame_is_named_with_its_position_not_its_index(train_50):
    shuffled = train_50.to_pandas().sample(frac=1.0, random_state=0)
    shuffled.iloc[3, shuffled.columns.get_loc("target")] = 2
    assert _message(io.read_train, shuffled) == (
        "train frame: column 'target', data row 3: expected 0 or 1, got 2"
    )


def test_soft_faults_are_logged_with_the_frames_name(train_50, caplog):
    frame = _set(train_50, "tbp_lv_B", 0, float("inf"))
    frame = _set(frame, "tbp_lv_C", 1, float("nan"))
    frame = frame.with_columns(my_note=pl.lit("x"), tbp_lv_A=pl.lit(None, pl.Float64))
    with caplog.at_level(logging.WARNING):
        read = io.read_train(frame)
    assert read["tbp_lv_B"][0] is None and read["tbp_lv_C"][1] is None
    assert read["tbp_lv_B"][1] == train_50["tbp_lv_B"][1]
    assert "my_note" not in read.columns
    assert "train frame: column 'tbp_lv_B': 1 inf or NaN values read as missing" in caplog.text
    assert "train frame: column 'tbp_lv_C': 1 inf or NaN values read as missing" in caplog.text
    assert "train frame: ignoring unknown columns: my_note" in caplog.text
    assert "train frame: no value in any row of column 'tbp_lv_A'" in caplog.text


def test_a_test_frame_drops_train_only_columns_and_warns_as_a_file_does(real_dir, caplog):
    with caplog.at_level(logging.WARNING):
        test = io.read_test(pl.read_csv(real_dir / "train-metadata-50.csv"))
        io.read_test(pl.read_csv(real_dir / "test-metadata-first-release.csv"))
    assert test.columns == list(schema.TEST_COLUMN_NAMES)
    assert "test frame: dropping train-only columns from the test frame: target, lesion_id" in (
        caplog.text
    )
    assert "test frame: column 'tbp_lv_stdLExt' merely repeats column 'tbp_lv_Lext'" in (
        caplog.text
    )


# frame_sha256


def test_the_hash_is_the_same_whatever_the_chunks(train_50):
    parts = pl.concat([train_50.head(20), train_50.slice(20)], rechunk=False)
    assert parts.n_chunks() == 2
    assert frame_sha256(parts) == frame_sha256(parts.rechunk()) == frame_sha256(train_50)
    assert frame_sha256(train_50.slice(20)) == frame_sha256(train_50.slice(20).rechunk())


def test_the_hash_changes_with_any_value_name_or_type(train_50):
    base = frame_sha256(train_50)
    changed = [
        _set(train_50, "tbp_lv_A", 30, train_50["tbp_lv_A"][30] + 1e-9),
        _set(train_50, "sex", 0, "x"),
        train_50.head(49),
        train_50.rename({"tbp_lv_A": "tbp_lv_a"}),
        train_50.with_columns(pl.col("target").cast(pl.Int8)),
    ]
    assert all(frame_sha256(frame) != base for frame in changed)
    # A missing value is not 0 or "", and text is not cut anywhere else.
    assert frame_sha256(pl.DataFrame({"a": [None, 1.0]})) != frame_sha256(
        pl.DataFrame({"a": [0.0, 1.0]})
    )
    assert frame_sha256(pl.DataFrame({"s": [None, "a"]})) != frame_sha256(
        pl.DataFrame({"s": ["", "a"]})
    )
    assert frame_sha256(pl.DataFrame({"s": ["ab", "c"]})) != frame_sha256(
        pl.DataFrame({"s": ["a", "bc"]})
    )


def test_the_same_rows_from_pandas_or_polars_hash_the_same(real_dir):
    inferred = pl.read_csv(real_dir / "train-metadata-5k.csv")
    from_polars, from_pandas = io.read_train(inferred), io.read_train(inferred.to_pandas())
    assert from_polars["age_approx"].null_count() > 0  # where pandas stores NaN under a null
    assert frame_sha256(from_polars) == frame_sha256(from_pandas)
    assert describe_frame(from_pandas) == {
        "rows": 5000,
        "columns": list(schema.TRAIN_COLUMN_NAMES),
        "sha256": frame_sha256(from_polars),
    }


# The cohort and its labels


def test_a_cohort_and_its_labels_read_from_frames_as_from_files(real_dir, train_50, tmp_path):
    metadata, labels = real_dir / "train-metadata-50.csv", tmp_path / "labels.csv"
    train_50.select("isic_id", "target").reverse().write_csv(labels)
    from_files = read_cohort(metadata, labels)
    cohort = read_cohort(train_50, pl.read_csv(labels).to_pandas())
    assert_frame_equal(cohort.frame, from_files.frame, check_exact=True)
    assert cohort.frame["target"].to_list() == train_50["target"].to_list()
    assert str(cohort.path) == "cohort frame" and str(cohort.label_source) == "labels frame"
    assert cohort.data_row(7) == 7 and from_files.data_row(7) == 8
    train = read_cohort(train_50.to_pandas())
    assert train.labels is None and str(train.label_source) == "cohort frame"
    assert_frame_equal(train.frame, read_cohort(metadata).frame, check_exact=True)


def test_cohort_frame_faults_name_the_frames(train_50):
    test = train_50.drop("target")
    labels = train_50.select("isic_id", "target")
    assert _message(read_labels, _set(labels, "target", 1, 2)) == (
        "labels frame: column 'target', data row 1: expected 0 or 1, got 2"
    )
    lost = test["isic_id"][7]
    assert _message(lambda f: read_cohort(test, f), labels.filter(pl.col("isic_id") != lost)) == (
        f"labels frame: isic_id {lost} (data row 7 of cohort frame) has no label (1 of 50 "
        "cohort lesions without one); expected a label for every cohort lesion"
    )
    assert _message(read_cohort, test).startswith(
        "cohort frame: required column 'target' is missing; expected a train-layout cohort"
    )
    assert _message(read_cohort, labels.with_columns(target=pl.lit(0))).startswith(
        "cohort frame: required column 'patient_id' is missing"
    )


def test_os_pathlike_reads_as_its_path(real_dir):
    class Folder(os.PathLike):
        def __fspath__(self):
            return str(real_dir / "test-metadata.csv")

    assert io.read_test(Folder()).equals(io.read_test(real_dir / "test-metadata.csv"))
