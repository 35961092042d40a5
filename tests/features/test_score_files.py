"""Score files: CSV, Parquet and frames read alike, and every fault a user can fix named with its
file (or frame), column or row."""

from __future__ import annotations

import polars as pl
import pytest

from features.errors import UserError
from features.frames import frame_sha256
from features.score_files import read_score_file


def _write(tmp_path, text: str, name: str = "scores.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_and_parquet_read_the_same(tmp_path):
    frame = pl.DataFrame({"isic_id": ["ISIC_1", "ISIC_2"], "cnn": [0.25, 0.5], "vit": [1, 2]})
    frame.write_csv(tmp_path / "s.csv")
    frame.write_parquet(tmp_path / "s.parquet")
    a, b = read_score_file(tmp_path / "s.csv"), read_score_file(tmp_path / "s.parquet")
    assert a.columns == b.columns == ["cnn", "vit"]
    assert a.frame.equals(b.frame)
    assert a.frame.schema == {"isic_id": pl.String, "cnn": pl.Float64, "vit": pl.Float64}
    assert len(a.sha256) == 64 and a.sha256 != b.sha256


def test_missing_values_are_null(tmp_path):
    path = _write(tmp_path, "isic_id,cnn\nISIC_1,\nISIC_2,NA\nISIC_3,0.5\nISIC_4,nan\n")
    assert read_score_file(path).frame["cnn"].to_list() == [None, None, 0.5, None]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cnn\n0.5\n", "required column 'isic_id' is missing"),
        ("isic_id\nISIC_1\n", "expected 'isic_id' and at least one numeric score column"),
        ("isic_id,cnn\nISIC_1,0.5\nISIC_2,high\n", "column 'cnn', data row 2: cannot read 'high'"),
        (
            "isic_id,cnn\nISIC_1,0.5\nISIC_1,0.7\n",
            "'ISIC_1' appears more than once (data rows 1, 2",
        ),
        ("isic_id,cnn\nISIC_1,0.5\n,0.7\n", "column 'isic_id', data row 2: value is missing"),
        ("isic_id,cnn\nISIC_1,inf\n", "column 'cnn', data row 1: expected a finite number"),
        ("isic_id,target\nISIC_1,1\n", "column 'target' is a metadata, label or fold column"),
        ("isic_id,cnn,cnn\nISIC_1,1,2\n", "column 'cnn' appears more than once"),
        ("isic_id,cnn\n", "file has a header but no rows"),
        ("", "file is empty"),
    ],
)
def test_user_errors_name_the_file_and_the_place(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(UserError) as error:
        read_score_file(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_a_text_column_in_parquet_is_named(tmp_path):
    path = tmp_path / "s.parquet"
    pl.DataFrame({"isic_id": ["ISIC_1"], "cnn": ["0.5"], "fold_name": ["a"]}).write_parquet(path)
    with pytest.raises(UserError, match="column 'cnn' holds String; expected numeric scores"):
        read_score_file(path)


def test_a_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        read_score_file(tmp_path / "nope.csv")


def test_a_frame_reads_as_the_file_with_the_hash_of_its_scores(tmp_path):
    frame = pl.DataFrame(
        {
            "isic_id": ["ISIC_1", "ISIC_2", "ISIC_3"],
            "cnn": [0.25, None, float("nan")],
            "vit": [1, 2, 3],
        }
    )
    expected = pl.DataFrame(
        {
            "isic_id": ["ISIC_1", "ISIC_2", "ISIC_3"],
            "cnn": [0.25, None, None],
            "vit": [1.0, 2.0, 3.0],
        }
    )
    read = read_score_file(frame)
    assert read.frame.equals(expected) and read.frame.schema == expected.schema
    assert str(read.path) == "score frame" and read.path.frame is frame
    assert read.rows.data_row(2) == 2
    assert read.sha256 == frame_sha256(expected)
    frame.write_csv(tmp_path / "s.csv")
    assert read_score_file(tmp_path / "s.csv").frame.equals(read.frame)
    from_pandas = read_score_file(frame.to_pandas())
    assert from_pandas.frame.equals(expected) and from_pandas.sha256 == read.sha256
    only_vit = read_score_file(frame, columns=["vit"])
    assert only_vit.columns == ["vit"] and only_vit.sha256 == frame_sha256(expected.drop("cnn"))


def test_a_frames_integer_ids_read_as_text():
    read = read_score_file(pl.DataFrame({"isic_id": [7, 8], "cnn": [0.1, 0.2]}))
    assert read.frame["isic_id"].to_list() == ["7", "8"]


ONE = ["ISIC_1"]
TWO = ["ISIC_1", "ISIC_2"]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"isic_id": ONE, "cnn": [True]}, "column 'cnn' holds Boolean; expected numeric scores"),
        ({"isic_id": ONE, "cnn": ["0.5"]}, "column 'cnn' holds String; expected numeric scores"),
        (
            {"isic_id": TWO, "cnn": [0.5, float("inf")]},
            "column 'cnn', data row 1: expected a finite number, got inf",
        ),
        (
            {"isic_id": ONE * 2, "cnn": [0.5, 0.7]},
            "column 'isic_id': 'ISIC_1' appears more than once (data rows 0, 1)",
        ),
        ({"isic_id": [*ONE, None], "cnn": [0.5, 0.7]}, "column 'isic_id', data row 1: value is"),
        ({"cnn": [0.5]}, "required column 'isic_id' is missing"),
        ({"isic_id": [], "cnn": []}, "has no rows"),
        ({"isic_id": ONE, "target": [1]}, "column 'target' is a metadata, label or fold column"),
        (
            {"isic_id": [[1]], "cnn": [0.5]},
            "column 'isic_id' holds List(Int64); expected text or integer ids",
        ),
    ],
)
def test_frame_faults_name_the_frame_and_its_row(frame, message):
    with pytest.raises(UserError) as error:
        read_score_file(pl.DataFrame(frame))
    assert str(error.value).startswith(f"score frame: {message}")
