# The expected lines stay whole, one per line, so that they read as the commands print them.
# ruff: noqa: E501
"""The robustness table as data: every command with every fault the issue names, and what the
command must do about it. `test_robustness.py` runs each case; `render.py` turns this table into
docs/robustness.md.

A case's `message` is, for an error, the one line the command prints on stderr with the case's
folders written DATA (the data files), RUN (the shared trained run) and DIR (the case's folder);
`...` stands for text that a library writes (its wording is not ours). For a clean exit it is
the warning the command logs ('' when none is expected). `output` is the path the command would
write: absent after an error, complete after a clean exit.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace

import polars as pl

from tests.robustness import faults as f
from tests.robustness.faults import SAMPLE, TEST, TEST_SCORES, TRAIN, TRAIN_SCORES, Fault


@dataclass(frozen=True)
class Case:
    command: str
    fault: str
    setup: Fault
    argv: tuple[str, ...]
    output: str
    exit: int = 2
    message: str = ""
    # Full disk: run in a subprocess whose files may not grow past this many bytes.
    file_size_limit: int | None = None
    # An unfinished `.partial` folder an error leaves on purpose (`train_gbdt --resume`).
    leaves: str = ""

    @property
    def id(self) -> str:
        return f"{self.command}: {self.fault}"


TRAIN_ARGS = ("--data-dir", "{data}", "--out", "{dir}/run", "--config", "{dir}/fast.toml")
PREDICT_ARGS = (
    "--run",
    "{run}",
    "--test",
    "{data}/" + TEST,
    "--sample",
    "{data}/" + SAMPLE,
    "--out",
    "{dir}/submission.csv",
)
TUNE_ARGS = (
    "--model",
    "lgbm",
    "--data-dir",
    "{data}",
    "--config",
    "{dir}/fast.toml",
    "--n-trials",
    "1",
    "--out",
    "{dir}/best.toml",
)
BLEND_ARGS = (
    "--run",
    "{run}",
    "--scores",
    f"image={{data}}/{TRAIN_SCORES},{{data}}/{TEST_SCORES}",
    "--bootstrap",
    "20",
    "--out",
    "{dir}/blend",
)
FOLDS_ARGS = (*TRAIN_ARGS, "--folds-file", "{data}/folds.csv")
REPORT_ARGS = ("--data-dir", "{data}", "--out", "{dir}/report.html")
SYNTHETIC_ARGS = ("--rows", "300", "--test-rows", "30", "--out", "{dir}/synthetic")


def _metadata_faults(name: str) -> list[tuple[str, Fault]]:
    """What can be wrong with a metadata file (train or test), in the issue's order."""
    return [
        ("missing file", f.remove(name)),
        ("empty file", f.empty(name)),
        ("header only", f.header_only(name)),
        ("a missing required column", f.drop_column(name, "age_approx")),
        ("a wrongly typed value", f.set_cell(name, "age_approx", 7, "forty")),
        ("a duplicate isic_id", f.copy_cell(name, "isic_id", 2, 9)),
        ("a null isic_id", f.set_cell(name, "isic_id", 4, None)),
        ("a null patient_id", f.set_cell(name, "patient_id", 5, None)),
        ("non-UTF-8 bytes", f.raw_bytes_in_row(name, 6, b"\xff\xfe")),
        ("a CSV cut mid-line", f.cut_mid_line(name)),
        ("a row a cell short in the middle", f.drop_last_cell(name, 7)),
        ("a row a cell long", f.raw_bytes_in_row(name, 8, b"1,2")),
        (
            "a wrongly typed value after blank lines",
            f.all_of(f.set_cell(name, "age_approx", 7, "forty"), f.blank_lines(name, 3)),
        ),
        (
            "a wrongly typed value after a quoted line break",
            f.all_of(
                f.set_cell(name, "attribution", 2, "Hospital\nNorth"),
                f.set_cell(name, "age_approx", 7, "forty"),
            ),
        ),
        (
            "a Parquet twin with the wrong schema",
            f.as_parquet(name, lambda frame: frame.with_columns(pl.lit("old").alias("age_approx"))),
        ),
    ]


def _valid_faults(name: str) -> list[tuple[str, Fault, str]]:
    """Odd but valid metadata: scored, with the warning logged."""
    return [
        (
            "inf and NaN in a measurement",
            f.all_of(
                f.set_cell(name, "tbp_lv_A", 3, "inf"),
                f.set_cell(name, "tbp_lv_A", 4, "NaN"),
                f.set_cell(name, "tbp_lv_B", 5, "-inf"),
            ),
            f"DATA/{name}: column 'tbp_lv_A': 2 inf or NaN values read as missing",
        ),
        ("a one-lesion patient", f.set_cell(name, "patient_id", 1, "IP_ALONE"), ""),
        ("blank lines at the end", f.blank_lines(name), ""),
        (
            "blank lines in the middle",
            f.blank_lines(name, 5),
            f"DATA/{name}: data row 5 is a blank line; skipped it and 1 more (blank lines are "
            "not rows)",
        ),
        (
            "a column that is entirely null",
            f.set_column(name, "tbp_lv_nevi_confidence", None),
            f"DATA/{name}: no value in any row of column 'tbp_lv_nevi_confidence'",
        ),
    ]


TRAIN_ONLY_IN_TEST = (
    "a test file with train-only columns",
    f.edit(
        TEST,
        lambda frame: frame.with_columns(
            pl.lit("0").alias("target"), pl.lit("IL_1").alias("lesion_id")
        ),
    ),
    f"DATA/{TEST}: dropping train-only columns from the test file: target, lesion_id",
)
UNSEEN_HOSPITAL = (
    "a hospital never seen in train",
    f.set_column(TEST, "attribution", "Hospital Nowhere"),
    "attribution 'Hospital Nowhere' (60 lesions) was never seen in training: scored as a "
    "missing value",
)


UNWRITABLE = "a file where the --out folder's parent should be"


def _train_cases() -> list[Case]:
    out = "{dir}/run"
    cases = [
        Case("train_gbdt", "train file: " + fault, setup, TRAIN_ARGS, out)
        for fault, setup in _metadata_faults(TRAIN)
    ]
    cases += [
        Case(
            "train_gbdt",
            "target outside {0, 1}",
            f.set_cell(TRAIN, "target", 3, "2"),
            TRAIN_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "train with one class only",
            f.set_column(TRAIN, "target", "0"),
            TRAIN_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "test ids that do not match the sample submission",
            f.set_cell(SAMPLE, "isic_id", 3, "ISIC_9999999"),
            TRAIN_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "sample submission: a row a cell short in the middle",
            f.drop_last_cell(SAMPLE, 4),
            TRAIN_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "folds file: a row a cell short in the middle",
            f.all_of(f.folds_file(), f.drop_last_cell("folds.csv", 3)),
            FOLDS_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "folds file: a bad fold after blank lines",
            f.all_of(
                f.folds_file(),
                f.set_cell("folds.csv", "fold", 3, "x"),
                f.blank_lines("folds.csv", 2),
            ),
            FOLDS_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "a config with an unknown key",
            f.write("fast.toml", f.FAST_TOML.replace("folds = 2", "fold = 2")),
            TRAIN_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "a config with a wrong type",
            f.write("fast.toml", 'seed = "forty-two"\n'),
            TRAIN_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            "a config that is not TOML",
            f.write("fast.toml", "[training\nthreads = 1\n"),
            TRAIN_ARGS,
            out,
        ),
        Case(
            "train_gbdt",
            UNWRITABLE,
            f.write("blocked", ""),
            (*TRAIN_ARGS[:2], "--out", "{dir}/blocked/run", *TRAIN_ARGS[4:]),
            "{dir}/blocked/run",
        ),
        Case(
            "train_gbdt",
            "a full disk",
            f.nothing(),
            TRAIN_ARGS,
            out,
            file_size_limit=30_000,
            leaves="{dir}/run.partial",
        ),
        Case(
            "train_gbdt",
            "image scores with a duplicate id",
            f.copy_cell(TRAIN_SCORES, "isic_id", 1, 2),
            (
                *TRAIN_ARGS,
                "--image-scores-train",
                "{data}/" + TRAIN_SCORES,
                "--image-scores-test",
                "{data}/" + TEST_SCORES,
            ),
            out,
        ),
        Case(
            "train_gbdt",
            "image scores with a missing id",
            f.drop_rows(TRAIN_SCORES, [3]),
            (
                *TRAIN_ARGS,
                "--image-scores-train",
                "{data}/" + TRAIN_SCORES,
                "--image-scores-test",
                "{data}/" + TEST_SCORES,
            ),
            out,
        ),
    ]
    valid = [
        *(
            ("train file: " + fault, setup, warning)
            for fault, setup, warning in _valid_faults(TRAIN)
        ),
        *(("test file: " + fault, setup, warning) for fault, setup, warning in _valid_faults(TEST)),
        TRAIN_ONLY_IN_TEST,
        UNSEEN_HOSPITAL,
        (
            "test lesions that are train lesions",
            f.train_lesions_in_test(2),
            f"DATA/{TEST}: 2 of its lesions are also training lesions in DATA/{TRAIN} (first: ",
        ),
        (
            "a test patient with lesions in the train file",
            f.train_patient_in_test(3),
            f"DATA/{TEST}: 1 of its patients also have lesions in DATA/{TRAIN} (first: ",
        ),
        ("sample submission: blank lines at the end", f.blank_lines(SAMPLE), ""),
        (
            "sample submission: blank lines in the middle",
            f.blank_lines(SAMPLE, 4, count=1),
            f"DATA/{SAMPLE}: data row 4 is a blank line; skipped it (blank lines are not rows)",
        ),
    ]
    cases += [
        Case("train_gbdt", fault, setup, TRAIN_ARGS, out, exit=0, message=warning)
        for fault, setup, warning in valid
    ]
    cases += [
        Case(
            "train_gbdt",
            "folds file: blank lines in the middle and at the end",
            f.all_of(f.folds_file(), f.blank_lines("folds.csv", 2), f.blank_lines("folds.csv")),
            FOLDS_ARGS,
            out,
            exit=0,
            message="DATA/folds.csv: data row 2 is a blank line; skipped it and 1 more (blank lines are not rows)",
        )
    ]
    return cases


def _predict_cases() -> list[Case]:
    out = "{dir}/submission.csv"
    parquet_args = tuple(a.replace(TEST, "test-metadata.parquet") for a in PREDICT_ARGS)
    cases = [
        Case(
            "predict",
            "test file: " + fault,
            setup,
            parquet_args if "Parquet" in fault else PREDICT_ARGS,
            out,
        )
        for fault, setup in _metadata_faults(TEST)
    ]
    cases += [
        Case(
            "predict",
            "test ids that do not match the sample submission",
            f.drop_rows(SAMPLE, [2]),
            PREDICT_ARGS,
            out,
        ),
        Case(
            "predict",
            "a run folder that does not exist",
            f.nothing(),
            ("--run", "{dir}/no-run", *PREDICT_ARGS[2:]),
            out,
        ),
        Case(
            "predict",
            UNWRITABLE,
            f.write("blocked", ""),
            (*PREDICT_ARGS[:-1], "{dir}/blocked/submission.csv"),
            "{dir}/blocked/submission.csv",
        ),
        Case("predict", "a full disk", f.nothing(), PREDICT_ARGS, out, file_size_limit=1000),
    ]
    valid = [
        *(("test file: " + fault, setup, warning) for fault, setup, warning in _valid_faults(TEST)),
        TRAIN_ONLY_IN_TEST,
        UNSEEN_HOSPITAL,
        (
            "test lesions that are the run's training lesions",
            f.train_lesions_in_test(2),
            f"DATA/{TEST}: 2 of its lesions are also training lesions in the run's RUN/oof.parquet "
            "(first: ",
        ),
        (
            "a test patient with lesions in the run's training data",
            f.train_patient_in_test(3),
            f"DATA/{TEST}: 1 of its patients also have lesions in the run's RUN/oof.parquet (first: ",
        ),
    ]
    cases += [
        Case("predict", fault, setup, PREDICT_ARGS, out, exit=0, message=warning)
        for fault, setup, warning in valid
    ]
    return cases


def _tune_cases() -> list[Case]:
    out = "{dir}/best.toml"
    return [
        Case("tune", "missing train file", f.remove(TRAIN), TUNE_ARGS, out),
        Case("tune", "target outside {0, 1}", f.set_cell(TRAIN, "target", 3, "-1"), TUNE_ARGS, out),
        Case(
            "tune", "train with one class only", f.set_column(TRAIN, "target", "1"), TUNE_ARGS, out
        ),
        Case(
            "tune",
            "a config with an unknown key",
            f.write("fast.toml", "[training]\nthread = 1\n"),
            TUNE_ARGS,
            out,
        ),
        Case(
            "tune",
            "a config with a wrong type",
            f.write("fast.toml", "[cv]\nfolds = 2.5\n"),
            TUNE_ARGS,
            out,
        ),
        Case(
            "tune",
            UNWRITABLE,
            f.write("blocked", ""),
            (*TUNE_ARGS[:-1], "{dir}/blocked/best.toml"),
            "{dir}/blocked/best.toml",
        ),
    ]


def _blend_cases() -> list[Case]:
    out = "{dir}/blend"
    score_faults = [
        ("missing file", f.remove(TRAIN_SCORES)),
        ("empty file", f.empty(TRAIN_SCORES)),
        ("header only", f.header_only(TRAIN_SCORES)),
        ("missing ids", f.drop_rows(TRAIN_SCORES, [5])),
        ("extra ids", f.append_row(TRAIN_SCORES, "ISIC_9999999")),
        ("duplicate ids", f.copy_cell(TRAIN_SCORES, "isic_id", 1, 7)),
        ("a test score file with missing ids", f.drop_rows(TEST_SCORES, [2])),
        ("a wrongly typed score", f.set_cell(TRAIN_SCORES, "image", 8, "high")),
        ("a null isic_id", f.set_cell(TRAIN_SCORES, "isic_id", 3, None)),
        ("non-UTF-8 bytes", f.raw_bytes_in_row(TRAIN_SCORES, 4, b"\xff\xfe")),
        ("a CSV cut mid-line", f.cut_mid_line(TRAIN_SCORES)),
        ("a row a cell short in the middle", f.drop_last_cell(TRAIN_SCORES, 6)),
        (
            "a wrongly typed score after blank lines",
            f.all_of(f.set_cell(TRAIN_SCORES, "image", 8, "high"), f.blank_lines(TRAIN_SCORES, 2)),
        ),
    ]
    cases = [
        Case("blend", "score file: " + fault, setup, BLEND_ARGS, out)
        for fault, setup in score_faults
    ]
    parquet_args = tuple(a.replace(TRAIN_SCORES, "train-scores.parquet") for a in BLEND_ARGS)
    cases += [
        Case(
            "blend",
            "score file: Parquet with the wrong schema",
            f.as_parquet(TRAIN_SCORES, lambda frame: frame),  # every column text
            parquet_args,
            out,
        ),
        Case(
            "blend",
            "a run folder that does not exist",
            f.nothing(),
            ("--run", "{dir}/no-run", *BLEND_ARGS[2:]),
            out,
        ),
        Case(
            "blend",
            UNWRITABLE,
            f.write("blocked", ""),
            (*BLEND_ARGS[:-1], "{dir}/blocked/blend"),
            "{dir}/blocked/blend",
        ),
        Case(
            "blend",
            "a full disk",
            f.nothing(),
            BLEND_ARGS,
            out,
            file_size_limit=2000,
            leaves="{dir}/blend.partial",
        ),
        Case("blend", "nothing wrong", f.nothing(), BLEND_ARGS, out, exit=0),
        Case(
            "blend",
            "score file: no line break after the last line",
            f.no_final_line_break(TRAIN_SCORES),
            BLEND_ARGS,
            out,
            exit=0,
            message="DATA/train-scores.csv: data row 1500 (the last line) has no line break after it; if the file was cut short, its last value may be too",
        ),
        Case(
            "blend",
            "score file: blank lines at the end",
            f.blank_lines(TRAIN_SCORES),
            BLEND_ARGS,
            out,
            exit=0,
        ),
        Case(
            "blend",
            "score file: blank lines in the middle",
            f.blank_lines(TRAIN_SCORES, 9, count=1),
            BLEND_ARGS,
            out,
            exit=0,
            message="DATA/train-scores.csv: data row 9 is a blank line; skipped it (blank lines are not rows)",
        ),
    ]
    return cases


def _compare_cases() -> list[Case]:
    def other(change) -> Fault:
        return f.copy_run("other", change)

    def rewrite_oof(change):
        def apply(folder):
            path = folder / "oof.parquet"
            change(pl.read_parquet(path)).write_parquet(path)

        return apply

    def garbage(folder):
        (folder / "oof.parquet").write_bytes(b"PAR1 not really parquet")

    args = ("{run}", "{dir}/other", "--bootstrap", "20")
    return [
        Case(
            "compare",
            "a folder that does not exist",
            f.nothing(),
            args,
            "",
        ),
        Case(
            "compare",
            "runs on different rows",
            other(rewrite_oof(lambda frame: frame.slice(1))),
            args,
            "",
        ),
        Case(
            "compare",
            "oof.parquet without the score column",
            other(rewrite_oof(lambda frame: frame.drop("ensemble"))),
            args,
            "",
        ),
        Case(
            "compare",
            "oof.parquet with a text score column",
            other(
                rewrite_oof(lambda frame: frame.with_columns(pl.col("ensemble").cast(pl.String)))
            ),
            args,
            "",
        ),
        Case("compare", "oof.parquet that is not Parquet", other(garbage), args, ""),
        Case("compare", "the same run twice", other(lambda folder: None), args, "", exit=0),
    ]


def _report_cases() -> list[Case]:
    out = "{dir}/report.html"
    return [
        Case("feature_report", "missing train file", f.remove(TRAIN), REPORT_ARGS, out),
        Case("feature_report", "header only", f.header_only(TRAIN), REPORT_ARGS, out),
        Case(
            "feature_report",
            "a wrongly typed value",
            f.set_cell(TRAIN, "tbp_lv_H", 3, "blue"),
            REPORT_ARGS,
            out,
        ),
        Case(
            "feature_report",
            "--out that is not .html",
            f.nothing(),
            (*REPORT_ARGS[:-1], "{dir}/report.pdf"),
            "{dir}/report.pdf",
        ),
        Case(
            "feature_report",
            UNWRITABLE,
            f.write("blocked", ""),
            (*REPORT_ARGS[:-1], "{dir}/blocked/report.html"),
            "{dir}/blocked/report.html",
        ),
    ]


def _synthetic_cases() -> list[Case]:
    out = "{dir}/synthetic"
    return [
        Case("make_synthetic", "--rows 0", f.nothing(), ("--rows", "0", "--out", out), out),
        Case(
            "make_synthetic",
            UNWRITABLE,
            f.write("blocked", ""),
            ("--rows", "300", "--out", "{dir}/blocked/synthetic"),
            "{dir}/blocked/synthetic",
        ),
        Case(
            "make_synthetic",
            "a full disk",
            f.nothing(),
            SYNTHETIC_ARGS,
            out,
            file_size_limit=20_000,
        ),
        Case("make_synthetic", "nothing wrong", f.nothing(), SYNTHETIC_ARGS, out, exit=0),
    ]


COHORT = "cohort.csv"
LABELS = "test-labels.csv"
SUBMISSION = "submission.csv"
EVALUATE_ARGS = ("--run", "{run}", "--cohort", "{data}/" + COHORT, "--out", "{dir}/evaluation")
LABELS_ARGS = (
    *EVALUATE_ARGS[:2],
    "--cohort",
    "{data}/" + TEST,
    "--labels",
    "{data}/" + LABELS,
    *EVALUATE_ARGS[4:],
)
SCORES_ARGS = ("--scores", "{data}/" + SUBMISSION, *EVALUATE_ARGS[2:])


def _labelled() -> Fault:
    """A labelled cohort of the test lesions (every tenth one malignant): LABELS, and COHORT (the
    test file with them as `target`); and the shared run's submission for them, SUBMISSION."""

    def apply(ws: f.Workspace) -> None:
        test = pl.read_csv(ws.data / TEST, infer_schema=False)
        malignant = (pl.int_range(pl.len()) % 10 == 0).cast(pl.Int8)
        labels = test.select("isic_id", target=malignant)
        labels.write_csv(ws.data / LABELS)
        test.with_columns(labels["target"]).write_csv(ws.data / COHORT)
        shutil.copy(ws.run / SUBMISSION, ws.data / SUBMISSION)

    return apply


def _training_value_in_cohort(column: str, row: int) -> Fault:
    """Cohort lesion `row` takes the first training lesion's `column` (its id, or its patient)."""

    def apply(ws: f.Workspace) -> None:
        value = pl.read_csv(ws.data / TRAIN, infer_schema=False)[column][0]
        f.set_cell(COHORT, column, row, value)(ws)

    return apply


def _with_image_scores(folder) -> None:
    """A run folder whose manifest says that its features need image scores."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["feature_spec"]["image"] = {"columns": ["image"], "norms": {}}
    path.write_text(json.dumps(manifest))


def _evaluate_cases() -> list[Case]:
    out = "{dir}/evaluation"

    def case(fault, setup, argv=EVALUATE_ARGS, **kwargs) -> Case:
        return Case("evaluate", fault, f.all_of(_labelled(), setup), argv, out, **kwargs)

    def with_flags(*flags: str) -> tuple[str, ...]:
        return (*EVALUATE_ARGS[:-2], *flags, *EVALUATE_ARGS[-2:])

    cases = [
        case("cohort: missing file", f.remove(COHORT)),
        case(
            "cohort: a test-layout file without --labels",
            f.nothing(),
            (*EVALUATE_ARGS[:3], "{data}/" + TEST, *EVALUATE_ARGS[4:]),
        ),
        case("cohort: target outside {0, 1}", f.set_cell(COHORT, "target", 3, "2")),
        case("cohort: no malignant lesion", f.set_column(COHORT, "target", "0")),
        case("cohort: no benign lesion", f.set_column(COHORT, "target", "1")),
        case("cohort: a duplicate isic_id", f.copy_cell(COHORT, "isic_id", 2, 9)),
        case("cohort: a lesion the run trained on", _training_value_in_cohort("isic_id", 2)),
        case(
            "cohort: a lesion the run trained on, after blank lines",
            f.all_of(_training_value_in_cohort("isic_id", 2), f.blank_lines(COHORT, 1)),
        ),
        case("labels: missing file", f.remove(LABELS), LABELS_ARGS),
        case("labels: a lesion without a label", f.drop_rows(LABELS, [2]), LABELS_ARGS),
        case("labels: a label outside {0, 1}", f.set_cell(LABELS, "target", 3, "7"), LABELS_ARGS),
        case(
            "labels: a label outside {0, 1}, after blank lines",
            f.all_of(f.set_cell(LABELS, "target", 3, "7"), f.blank_lines(LABELS, 2)),
            LABELS_ARGS,
        ),
        case("labels: a duplicate isic_id", f.copy_cell(LABELS, "isic_id", 1, 4), LABELS_ARGS),
        case("labels: no target column", f.drop_column(LABELS, "target"), LABELS_ARGS),
        case(
            "--image-scores for a run trained without them",
            f.nothing(),
            with_flags("--image-scores", "{data}/" + TEST_SCORES),
        ),
        case(
            "a run trained with image scores, without --image-scores",
            f.copy_run("image-run", _with_image_scores),
            ("--run", "{dir}/image-run", *EVALUATE_ARGS[2:]),
        ),
        case("--eval-by a column not in the cohort", f.nothing(), with_flags("--eval-by", "x")),
        case("--eval-by a numeric column", f.nothing(), with_flags("--eval-by", "tbp_lv_A")),
        case(
            "--scores: the score column missing",
            f.nothing(),
            (*SCORES_ARGS[:2], "--score-column", "prob", *SCORES_ARGS[2:]),
        ),
        case("--scores: a lesion without a score", f.drop_rows(SUBMISSION, [2]), SCORES_ARGS),
        case(
            "--scores: a wrongly typed score",
            f.set_cell(SUBMISSION, "target", 5, "high"),
            SCORES_ARGS,
        ),
        case(
            "--scores --probability: a score above 1",
            f.set_cell(SUBMISSION, "target", 4, "1.5"),
            (*SCORES_ARGS[:2], "--probability", *SCORES_ARGS[2:]),
        ),
        case(
            "a run folder that does not exist",
            f.nothing(),
            ("--run", "{dir}/no-run", *EVALUATE_ARGS[2:]),
        ),
        Case(
            "evaluate",
            UNWRITABLE,
            f.all_of(_labelled(), f.write("blocked", "")),
            (*EVALUATE_ARGS[:-1], "{dir}/blocked/evaluation"),
            "{dir}/blocked/evaluation",
        ),
        case("a full disk", f.nothing(), file_size_limit=2000),
    ]
    done = out + "/evaluation.json"
    valid = [
        ("nothing wrong", f.nothing(), EVALUATE_ARGS, ""),
        ("the labels apart (--labels)", f.nothing(), LABELS_ARGS, ""),
        (
            "a cohort patient the run trained on",
            _training_value_in_cohort("patient_id", 2),
            EVALUATE_ARGS,
            "1 cohort patient also has lesions in the run's training data (RUN/oof.parquet); "
            "the cohort is not fully external to the run",
        ),
        ("--scores: the run's submission", f.nothing(), SCORES_ARGS, ""),
        (
            "--scores --allow-missing-scores: a lesion without a score",
            f.drop_rows(SUBMISSION, [2]),
            (*SCORES_ARGS[:-2], "--allow-missing-scores", *SCORES_ARGS[-2:]),
            f"DATA/{SUBMISSION}: 1 of 60 cohort lesions have no score in column 'target'; left out",
        ),
    ]
    cases += [
        Case("evaluate", fault, f.all_of(_labelled(), setup), argv, done, exit=0, message=warning)
        for fault, setup, argv, warning in valid
    ]
    return cases


# The line each error case prints, as the suite finds it (folders as DATA, RUN, DIR).
MESSAGES: dict[str, str] = {
    "train_gbdt: a full disk": "error: DIR/run.partial/manifest.json: cannot write it (...)",
    "predict: a full disk": "error: DIR/submission.csv: cannot write it (...)",
    "blend: a full disk": "error: DIR/blend.partial/oof.parquet: cannot write it (...)",
    "train_gbdt: train file: missing file": "error: DATA: no train-metadata.csv or train-metadata.parquet in the folder",
    "train_gbdt: train file: empty file": "error: DATA/train-metadata.csv: file is empty",
    "train_gbdt: train file: header only": "error: DATA/train-metadata.csv: file has a header but no rows",
    "train_gbdt: train file: a missing required column": "error: DATA/train-metadata.csv: required column 'age_approx' is missing",
    "train_gbdt: train file: a wrongly typed value": "error: DATA/train-metadata.csv: column 'age_approx', data row 7: cannot read 'forty' as a number",
    "train_gbdt: train file: a duplicate isic_id": "error: DATA/train-metadata.csv: column 'isic_id': 'ISIC_8217074' appears more than once (data rows 2, 9)",
    "train_gbdt: train file: a null isic_id": "error: DATA/train-metadata.csv: column 'isic_id', data row 4: value is missing",
    "train_gbdt: train file: a null patient_id": "error: DATA/train-metadata.csv: column 'patient_id', data row 5: value is missing",
    "train_gbdt: train file: non-UTF-8 bytes": "error: DATA/train-metadata.csv: column 'target', data row 6: bytes that are not UTF-8 text; expected a UTF-8 CSV",
    "train_gbdt: train file: a CSV cut mid-line": "error: DATA/train-metadata.csv: data row 1500 (the last line) has 1 of 55 fields; the file looks cut short",
    "train_gbdt: train file: a Parquet twin with the wrong schema": "error: DATA/train-metadata.parquet: column 'age_approx', data row 1: cannot read 'old' as a number",
    "train_gbdt: target outside {0, 1}": "error: DATA/train-metadata.csv: column 'target', data row 3: expected 0 or 1, got 2",
    "train_gbdt: train with one class only": "error: DATA/train-metadata.csv: column 'target': every row is 0; training needs benign (0) and malignant (1) lesions",
    "train_gbdt: test ids that do not match the sample submission": "error: DATA/sample_submission.csv: isic_id set does not match DATA/test-metadata.csv: test id ISIC_0541192 is not in it",
    "train_gbdt: a config with an unknown key": "error: DIR/fast.toml: unknown config key 'cv.fold'",
    "train_gbdt: a config with a wrong type": "error: DIR/fast.toml: config key 'seed' must be int, got 'forty-two'",
    "train_gbdt: a config that is not TOML": "error: DIR/fast.toml: not valid TOML (... (at line 1, column 10))",
    "train_gbdt: a file where the --out folder's parent should be": "error: DIR/blocked/run: cannot create its folder (File exists)",
    "train_gbdt: image scores with a duplicate id": "error: DATA/train-scores.csv: column 'isic_id': 'ISIC_6478759' appears more than once (data rows 1, 2)",
    "train_gbdt: image scores with a missing id": "error: DATA/train-scores.csv: isic_id ISIC_3312388 is not in the file (1 of 1500 lesions without a score); expected a score for every lesion, or pass --allow-missing-scores to leave their image features null",
    "predict: test file: missing file": "error: DATA/test-metadata.csv: file not found",
    "predict: test file: empty file": "error: DATA/test-metadata.csv: file is empty",
    "predict: test file: header only": "error: DATA/test-metadata.csv: file has a header but no rows",
    "predict: test file: a missing required column": "error: DATA/test-metadata.csv: required column 'age_approx' is missing",
    "predict: test file: a wrongly typed value": "error: DATA/test-metadata.csv: column 'age_approx', data row 7: cannot read 'forty' as a number",
    "predict: test file: a duplicate isic_id": "error: DATA/test-metadata.csv: column 'isic_id': 'ISIC_8227119' appears more than once (data rows 2, 9)",
    "predict: test file: a null isic_id": "error: DATA/test-metadata.csv: column 'isic_id', data row 4: value is missing",
    "predict: test file: a null patient_id": "error: DATA/test-metadata.csv: column 'patient_id', data row 5: value is missing",
    "predict: test file: non-UTF-8 bytes": "error: DATA/test-metadata.csv: column 'patient_id', data row 6: bytes that are not UTF-8 text; expected a UTF-8 CSV",
    "predict: test file: a CSV cut mid-line": "error: DATA/test-metadata.csv: data row 60 (the last line) has 1 of 44 fields; the file looks cut short",
    "predict: test file: a Parquet twin with the wrong schema": "error: DATA/test-metadata.parquet: column 'age_approx', data row 1: cannot read 'old' as a number",
    "predict: test ids that do not match the sample submission": "error: DATA/sample_submission.csv: isic_id set does not match DATA/test-metadata.csv: test id ISIC_8227119 is not in it",
    "predict: a run folder that does not exist": "error: DIR/no-run: not a run folder (no manifest.json)",
    "predict: a file where the --out folder's parent should be": "error: DIR/blocked/submission.csv: cannot write it (Not a directory)",
    "tune: missing train file": "error: DATA: no train-metadata.csv or train-metadata.parquet in the folder",
    "tune: target outside {0, 1}": "error: DATA/train-metadata.csv: column 'target', data row 3: expected 0 or 1, got -1",
    "tune: train with one class only": "error: DATA/train-metadata.csv: column 'target': every row is 1; training needs benign (0) and malignant (1) lesions",
    "tune: a config with an unknown key": "error: DIR/fast.toml: unknown config key 'training.thread'",
    "tune: a config with a wrong type": "error: DIR/fast.toml: config key 'cv.folds' must be int, got 2.5",
    "tune: a file where the --out folder's parent should be": "error: --out DIR/blocked/best.toml: folder DIR/blocked does not exist",
    "blend: score file: missing file": "error: DATA/train-scores.csv: file not found",
    "blend: score file: empty file": "error: DATA/train-scores.csv: file is empty",
    "blend: score file: header only": "error: DATA/train-scores.csv: file has a header but no rows",
    "blend: score file: missing ids": "error: DATA/train-scores.csv: isic_id ISIC_0829861 of the run rows is missing (1 of 1500 missing)",
    "blend: score file: extra ids": "error: DATA/train-scores.csv: isic_id ISIC_9999999 is not one of the run rows (1 extra rows)",
    "blend: score file: duplicate ids": "error: DATA/train-scores.csv: column 'isic_id': 'ISIC_6478759' appears more than once (data rows 1, 7)",
    "blend: score file: a test score file with missing ids": "error: DATA/test-scores.csv: isic_id ISIC_8227119 of the test lesions is missing (1 of 60 missing)",
    "blend: score file: a wrongly typed score": "error: DATA/train-scores.csv: column 'image', data row 8: cannot read 'high' as a number",
    "blend: score file: a null isic_id": "error: DATA/train-scores.csv: column 'isic_id', data row 3: value is missing",
    "blend: score file: non-UTF-8 bytes": "error: DATA/train-scores.csv: column 'image', data row 4: bytes that are not UTF-8 text; expected a UTF-8 CSV",
    "blend: score file: a CSV cut mid-line": "error: DATA/train-scores.csv: data row 1500 (the last line) has 1 of 2 fields; the file looks cut short",
    "blend: score file: Parquet with the wrong schema": "error: DATA/train-scores.parquet: column 'image' holds String; expected numeric scores",
    "blend: a run folder that does not exist": "error: DIR/no-run: not a run or blend folder (no oof.parquet)",
    "blend: a file where the --out folder's parent should be": "error: DIR/blocked/blend: cannot create its folder (File exists)",
    "compare: a folder that does not exist": "error: DIR/other: not a run or blend folder (no oof.parquet)",
    "compare: runs on different rows": "error: DIR/other/oof.parquet: isic_id ISIC_6478759 of RUN/oof.parquet is missing there",
    "compare: oof.parquet without the score column": "error: DIR/other/oof.parquet: no score column 'ensemble'",
    "compare: oof.parquet with a text score column": "error: DIR/other/oof.parquet: column 'ensemble' holds String; expected numeric scores",
    "compare: oof.parquet that is not Parquet": "error: DIR/other/oof.parquet: cannot read it as Parquet (...)",
    "feature_report: missing train file": "error: DATA: no train-metadata.csv or train-metadata.parquet in the folder",
    "feature_report: header only": "error: DATA/train-metadata.csv: file has a header but no rows",
    "feature_report: a wrongly typed value": "error: DATA/train-metadata.csv: column 'tbp_lv_H', data row 3: cannot read 'blue' as a number",
    "feature_report: --out that is not .html": "error: --out DIR/report.pdf: expected an .html file name (the summary goes beside it as .md)",
    "feature_report: a file where the --out folder's parent should be": "error: DIR/blocked: File exists",
    "make_synthetic: --rows 0": "error: --rows: expected a whole number >= 1, got 0",
    "make_synthetic: a file where the --out folder's parent should be": "error: DIR/blocked/synthetic: Not a directory",
    "make_synthetic: a full disk": "error: DIR/synthetic/train-metadata.csv: cannot write it (...)",
    "train_gbdt: train file: a row a cell short in the middle": "error: DATA/train-metadata.csv: data row 7 has 54 of 55 fields; expected one per column of the header (a cell is missing, not empty)",
    "train_gbdt: train file: a row a cell long": "error: DATA/train-metadata.csv: data row 8 has 56 fields; expected 55, one per column of the header",
    "train_gbdt: train file: a wrongly typed value after blank lines": "error: DATA/train-metadata.csv: column 'age_approx', data row 9: cannot read 'forty' as a number",
    "train_gbdt: train file: a wrongly typed value after a quoted line break": "error: DATA/train-metadata.csv: column 'age_approx', data row 7: cannot read 'forty' as a number",
    "train_gbdt: sample submission: a row a cell short in the middle": "error: DATA/sample_submission.csv: data row 4 has 1 of 2 fields; expected one per column of the header (a cell is missing, not empty)",
    "train_gbdt: folds file: a row a cell short in the middle": "error: DATA/folds.csv: data row 3 has 1 of 2 fields; expected one per column of the header (a cell is missing, not empty)",
    "train_gbdt: folds file: a bad fold after blank lines": "error: DATA/folds.csv: data row 5: column 'fold' is 'x'; expected a non-negative integer fold",
    "predict: test file: a row a cell short in the middle": "error: DATA/test-metadata.csv: data row 7 has 43 of 44 fields; expected one per column of the header (a cell is missing, not empty)",
    "predict: test file: a row a cell long": "error: DATA/test-metadata.csv: data row 8 has 45 fields; expected 44, one per column of the header",
    "predict: test file: a wrongly typed value after blank lines": "error: DATA/test-metadata.csv: column 'age_approx', data row 9: cannot read 'forty' as a number",
    "predict: test file: a wrongly typed value after a quoted line break": "error: DATA/test-metadata.csv: column 'age_approx', data row 7: cannot read 'forty' as a number",
    "blend: score file: a row a cell short in the middle": "error: DATA/train-scores.csv: data row 6 has 1 of 2 fields; expected one per column of the header (a cell is missing, not empty)",
    "blend: score file: a wrongly typed score after blank lines": "error: DATA/train-scores.csv: column 'image', data row 10: cannot read 'high' as a number",
    "evaluate: cohort: missing file": "error: DATA/cohort.csv: file not found",
    "evaluate: cohort: a test-layout file without --labels": "error: DATA/test-metadata.csv: required column 'target' is missing; expected a train-layout cohort with the labels in 'target', or a test-layout one with --labels FILE (isic_id,target)",
    "evaluate: cohort: target outside {0, 1}": "error: DATA/cohort.csv: column 'target', data row 3: expected 0 or 1, got 2",
    "evaluate: cohort: no malignant lesion": "error: DATA/cohort.csv: column 'target': the cohort has no malignant (1) lesion among its 60; an evaluation needs malignant and benign lesions",
    "evaluate: cohort: no benign lesion": "error: DATA/cohort.csv: column 'target': the cohort has no benign (0) lesion among its 60; an evaluation needs malignant and benign lesions",
    "evaluate: cohort: a duplicate isic_id": "error: DATA/cohort.csv: column 'isic_id': 'ISIC_8227119' appears more than once (data rows 2, 9)",
    "evaluate: cohort: a lesion the run trained on": "error: DATA/cohort.csv: isic_id ISIC_6478759 (data row 2) is a lesion the run RUN trained on (1 of 60 cohort lesions); expected lesions it never saw (the run's own out-of-fold scores are in RUN/oof.parquet)",
    "evaluate: cohort: a lesion the run trained on, after blank lines": "error: DATA/cohort.csv: isic_id ISIC_6478759 (data row 4) is a lesion the run RUN trained on (1 of 60 cohort lesions); expected lesions it never saw (the run's own out-of-fold scores are in RUN/oof.parquet)",
    "evaluate: labels: missing file": "error: DATA/test-labels.csv: file not found",
    "evaluate: labels: a lesion without a label": "error: DATA/test-labels.csv: isic_id ISIC_8227119 (data row 2 of DATA/test-metadata.csv) has no label (1 of 60 cohort lesions without one); expected a label for every cohort lesion",
    "evaluate: labels: a label outside {0, 1}": "error: DATA/test-labels.csv: column 'target', data row 3: expected 0 or 1, got 7",
    "evaluate: labels: a label outside {0, 1}, after blank lines": "error: DATA/test-labels.csv: column 'target', data row 5: expected 0 or 1, got 7",
    "evaluate: labels: a duplicate isic_id": "error: DATA/test-labels.csv: column 'isic_id': 'ISIC_8591286' appears more than once (data rows 1, 4)",
    "evaluate: labels: no target column": "error: DATA/test-labels.csv: required column 'target' is missing",
    "evaluate: --image-scores for a run trained without them": "error: DATA/test-scores.csv: the run RUN was trained without image scores; expected no --image-scores",
    "evaluate: a run trained with image scores, without --image-scores": "error: DIR/image-run: the run was trained with image scores (image); expected --image-scores FILE with the cohort lesions' scores",
    "evaluate: --eval-by a column not in the cohort": "error: DATA/cohort.csv: column 'x' (--eval-by) is not in the cohort; expected one of its categorical columns",
    "evaluate: --eval-by a numeric column": "error: DATA/cohort.csv: column 'tbp_lv_A' is Float64; expected a categorical column (string or category)",
    "evaluate: --scores: the score column missing": "error: DATA/submission.csv: required column 'prob' is missing",
    "evaluate: --scores: a lesion without a score": "error: DATA/submission.csv: isic_id ISIC_8227119 (data row 2 of DATA/cohort.csv) has no score in column 'target' (1 of 60 cohort lesions without one); expected a score for every cohort lesion, or pass --allow-missing-scores to leave them out",
    "evaluate: --scores: a wrongly typed score": "error: DATA/submission.csv: column 'target', data row 5: cannot read 'high' as a number",
    "evaluate: --scores --probability: a score above 1": "error: DATA/submission.csv: column 'target': 1.5 for isic_id ISIC_8158866 is not a probability; --probability expects every score in [0, 1]",
    "evaluate: a run folder that does not exist": "error: DIR/no-run: not a run folder (no manifest.json)",
    "evaluate: a file where the --out folder's parent should be": "error: DIR/blocked/evaluation: cannot create its folder (File exists)",
    "evaluate: a full disk": "error: DIR/evaluation.partial/scores.parquet: cannot write it (...)",
}


def _with_message(case: Case) -> Case:
    if case.exit == 0 or case.message:
        return case
    return replace(case, message=MESSAGES.get(case.id, ""))


CASES: list[Case] = [
    _with_message(case)
    for case in (
        *_train_cases(),
        *_predict_cases(),
        *_tune_cases(),
        *_blend_cases(),
        *_compare_cases(),
        *_report_cases(),
        *_synthetic_cases(),
        *_evaluate_cases(),
    )
]
