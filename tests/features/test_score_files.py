"""Score files: CSV and Parquet read alike, and every fault a user can fix named with its file,
column or row."""

from __future__ import annotations

import polars as pl
import pytest

from features.errors import UserError
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
