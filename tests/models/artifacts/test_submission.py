"""The one submission check: random valid submissions are accepted and come back in the sample's
order, each way of breaking the contract is refused with a line naming the id or row, a bad frame
from our own writer writes nothing, and every writer of a submission goes through the check."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from features import synthetic
from features.errors import UserError
from models.artifacts import submission
from models.artifacts.submission import validate_submission, write_submission
from pipelines import blend, predict, train_gbdt
from tests.conftest import FAST_TOML

TARGETS = st.one_of(
    st.sampled_from([0.0, 1.0, 0.5]), st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
)


@st.composite
def valid_submissions(draw):
    """Test ids, sample ids (or None), a submission in a random order and the id -> target map."""
    ids = draw(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=40, unique=True))
    targets = draw(st.lists(TARGETS, min_size=len(ids), max_size=len(ids)))
    frame_order = draw(st.permutations(range(len(ids))))
    sample = draw(st.one_of(st.none(), st.permutations(ids)))
    frame = pl.DataFrame(
        {"isic_id": [ids[i] for i in frame_order], "target": [targets[i] for i in frame_order]},
        schema={"isic_id": pl.String, "target": pl.Float64},
    )
    sample_ids = None if sample is None else pl.Series(sample, dtype=pl.String)
    return pl.Series(ids, dtype=pl.String), sample_ids, frame, dict(zip(ids, targets, strict=True))


@given(valid_submissions())
def test_valid_submissions_are_accepted_in_the_required_order(case):
    test_ids, sample_ids, frame, target_of = case
    checked = validate_submission(frame, test_ids, sample_ids, "sub.csv")
    expected = test_ids if sample_ids is None else sample_ids
    assert checked.columns == ["isic_id", "target"]
    assert checked["isic_id"].to_list() == expected.to_list()
    # every id keeps its own target through the reordering, bit for bit
    assert checked["target"].to_list() == [target_of[i] for i in expected.to_list()]


@given(valid_submissions(), st.sampled_from(["drop", "add", "duplicate", "target"]), st.data())
def test_one_random_fault_in_a_valid_submission_is_refused(case, fault, data):
    test_ids, sample_ids, frame, _ = case
    row = data.draw(st.integers(0, frame.height - 1))
    named = frame["isic_id"][row]
    if fault == "drop":
        frame = frame.filter(pl.int_range(pl.len()) != row)
    elif fault == "add":
        named = "ISIC_not_a_test_lesion"  # longer than any drawn id (8 characters at most)
        frame = pl.concat([frame, pl.DataFrame({"isic_id": [named], "target": [0.5]})])
    elif fault == "duplicate":
        frame = pl.concat([frame, frame.slice(row, 1)])
    else:
        bad = data.draw(st.sampled_from([math.nan, math.inf, -math.inf, -1e-9, 1.0 + 1e-9]))
        frame = frame.with_columns(
            target=pl.when(pl.int_range(pl.len()) == row).then(bad).otherwise("target")
        )
    with pytest.raises(UserError) as raised:
        validate_submission(frame, test_ids, sample_ids, "sub.csv")
    expected = {
        "drop": f"test lesion {named} has no row",
        "add": f"isic_id {named} is not a test lesion",
        "duplicate": f"isic_id {named} appears 2 times",
        "target": f"(isic_id {named}): target is",
    }[fault]
    assert expected in str(raised.value)


def test_an_integer_target_column_is_accepted():
    frame = pl.DataFrame({"isic_id": ["a", "b"], "target": [1, 0]})
    checked = validate_submission(frame, pl.Series(["b", "a"]))
    assert checked.rows() == [("b", 0), ("a", 1)]


TEST_IDS = pl.Series(["ISIC_1", "ISIC_2", "ISIC_3", "ISIC_4"])
GOOD = pl.DataFrame({"isic_id": TEST_IDS, "target": [0.0, 0.25, 0.5, 1.0]})


def _with_target(row: int, value: float | None) -> pl.DataFrame:
    targets = GOOD["target"].to_list()
    targets[row] = value
    return GOOD.with_columns(pl.Series("target", targets, dtype=pl.Float64))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (GOOD.slice(0, 3), "test lesion ISIC_4 has no row (1 of 4 missing)"),
        (
            pl.concat([GOOD, pl.DataFrame({"isic_id": ["ISIC_9"], "target": [0.1]})]),
            "data row 5: isic_id ISIC_9 is not a test lesion",
        ),
        (
            GOOD.with_columns(isic_id=pl.Series(["ISIC_1", "ISIC_2", "ISIC_9", "ISIC_4"])),
            "data row 3: isic_id ISIC_9 is not a test lesion",
        ),
        (
            GOOD.with_columns(isic_id=pl.Series(["ISIC_1", "ISIC_2", "ISIC_2", "ISIC_4"])),
            "isic_id ISIC_2 appears 2 times in the submission (data rows 2, 3)",
        ),
        (
            GOOD.with_columns(isic_id=pl.Series(["ISIC_1", None, "ISIC_3", "ISIC_4"])),
            "column 'isic_id', data row 2: value is missing",
        ),
        (_with_target(1, math.nan), "data row 2 (isic_id ISIC_2): target is nan"),
        (_with_target(2, math.inf), "data row 3 (isic_id ISIC_3): target is inf"),
        (_with_target(2, -math.inf), "data row 3 (isic_id ISIC_3): target is -inf"),
        (_with_target(0, -0.1), "data row 1 (isic_id ISIC_1): target is -0.1"),
        (_with_target(3, 1.1), "data row 4 (isic_id ISIC_4): target is 1.1"),
        (_with_target(3, None), "data row 4 (isic_id ISIC_4): target is missing"),
        (GOOD.rename({"target": "score"}), "expected exactly the columns isic_id,target, got"),
        (GOOD.select("target", "isic_id"), "got target,isic_id"),
        (GOOD.with_columns(extra=pl.lit(1)), "got isic_id,target,extra"),
        (GOOD.with_columns(pl.col("target").cast(pl.String)), "column 'target' is String"),
    ],
    ids=[
        "missing id",
        "extra id",
        "replaced id",
        "duplicate id",
        "null id",
        "nan",
        "inf",
        "-inf",
        "below 0",
        "above 1",
        "null target",
        "wrong column",
        "column order",
        "extra column",
        "text target",
    ],
)
def test_each_broken_contract_is_refused_with_one_line_naming_it(frame, message):
    with pytest.raises(UserError) as raised:
        validate_submission(frame, TEST_IDS, None, "out/submission.csv")
    text = str(raised.value)
    assert text.startswith("out/submission.csv: ") and "\n" not in text
    assert message in text


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (["ISIC_4", "ISIC_3", "ISIC_2"], "test lesion ISIC_1 is not in the sample submission"),
        (
            ["ISIC_4", "ISIC_3", "ISIC_2", "ISIC_1", "ISIC_7"],
            "the sample submission's isic_id ISIC_7 is not a test lesion",
        ),
        (
            ["ISIC_4", "ISIC_3", "ISIC_3", "ISIC_1"],
            "isic_id ISIC_3 appears 2 times in the sample submission",
        ),
    ],
)
def test_a_sample_that_is_not_the_test_files_ids_is_refused(sample, message):
    with pytest.raises(UserError, match=message):
        validate_submission(GOOD, TEST_IDS, pl.Series(sample), "submission.csv")


def test_a_bad_target_is_named_by_its_row_in_the_frame_given_not_the_required_order():
    frame = _with_target(1, 2.0).reverse()  # ISIC_2 is data row 3 of this frame
    with pytest.raises(UserError, match=r"data row 3 \(isic_id ISIC_2\): target is 2.0"):
        validate_submission(frame, TEST_IDS)


def test_test_ids_with_a_duplicate_are_refused():
    test_ids = pl.Series(["ISIC_1", "ISIC_2", "ISIC_3", "ISIC_1"])
    with pytest.raises(UserError, match=r"isic_id ISIC_1 appears 2 times in the test file"):
        validate_submission(GOOD, test_ids, None, "submission.csv")


def test_a_writer_bug_is_a_bug_and_writes_nothing(tmp_path):
    path = tmp_path / "submission.csv"
    with pytest.raises(RuntimeError, match=r"bug: .*data row 2 \(isic_id ISIC_2\)"):
        write_submission(path, _with_target(1, math.nan), TEST_IDS)
    assert list(tmp_path.iterdir()) == []
    write_submission(path, GOOD.reverse(), TEST_IDS, TEST_IDS.reverse())
    assert pl.read_csv(path).equals(GOOD.reverse())


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """3,000 train rows (about 60 malignant) and 300 test rows: enough for two folds."""
    folder = tmp_path_factory.mktemp("tiny")
    synthetic.write_kaggle_layout(
        *synthetic.generate(3_000, 300, seed=3, malignant_rate=0.02), folder
    )
    (folder / "fast.toml").write_text(FAST_TOML)
    return folder


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """The `source` of every validate_submission call, the real check still running."""
    seen: list[str] = []
    real = submission.validate_submission

    def counting(frame, test_ids, sample_ids=None, source="submission"):
        seen.append(source)
        return real(frame, test_ids, sample_ids, source)

    monkeypatch.setattr(submission, "validate_submission", counting)
    return seen


def test_every_writer_of_a_submission_checks_it(tmp_path, tiny_data, checks):
    run = tmp_path / "run"
    args = ["--data-dir", tiny_data, "--out", run, "--config", tiny_data / "fast.toml"]
    assert train_gbdt.main([str(a) for a in [*args, "--models", "lgbm", "--folds", "2"]]) == 0
    assert checks == [str(run) + ".partial/submission.csv"]

    out = tmp_path / "predicted.csv"
    test, sample = tiny_data / "test-metadata.csv", tiny_data / "sample_submission.csv"
    args = ["--run", run, "--test", test, "--sample", sample, "--out", out]
    assert predict.main([str(a) for a in args]) == 0
    assert checks[1:] == [str(out)]
    sample_ids = pl.read_csv(sample)["isic_id"]
    assert pl.read_csv(out)["isic_id"].equals(sample_ids)

    blended = tmp_path / "blend"
    args = ["--run", run, "--out", blended, "--bootstrap", "20"]
    assert blend.main([str(a) for a in args]) == 0
    assert checks[2:] == [str(blended) + ".partial/submission.csv"]
    assert pl.read_csv(blended / "submission.csv")["isic_id"].equals(sample_ids)


def test_the_recipe_benchmark_checks_its_submission(tmp_path, tiny_data, checks, monkeypatch):
    from benchmarks import recipe

    def quick(x, y, folds, x_test, seed, threads):
        """The recipe's models stood in for by random scores: only its writing is tested."""
        rng = np.random.default_rng(seed)
        return rng.random(len(y)), {}, rng.random(x_test.shape[0])

    monkeypatch.setattr(recipe, "cross_validate", quick)
    out = tmp_path / "recipe"
    assert recipe.main(["--data-dir", str(tiny_data), "--out", str(out), "--threads", "1"]) == 0
    assert checks == [str(out / "submission.csv")]
    submitted = pl.read_csv(out / "submission.csv")
    assert submitted["isic_id"].equals(pl.read_csv(tiny_data / "sample_submission.csv")["isic_id"])
