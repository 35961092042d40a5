"""evaluate, end to end on a tiny run: a labelled cohort of the same draw as its training rows
(52 patients, enough for the shift test), in both forms (train layout with target, test layout
with make_synthetic's test-labels.csv); a blend-like submission through --scores; and one test
per bad input (exit 2, one line naming the file, column or row, nothing written, no model
loaded). Figures are checked against independent computations: the ISIC score against
check_run.py's own copy of the metric, the AUC against scikit-learn, thresholds by hand."""

from __future__ import annotations

import importlib.util
import json
import shutil

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from features import synthetic
from models.artifacts import folder_lock, load_run
from models.blend import Calibrator
from models.external import evaluate_run, evaluate_scores
from pipelines import evaluate, predict, train_gbdt
from tests.conftest import CHECK_RUN
from tests.pipelines.conftest import TINY_TOML, in_process

KEY_ORDER = [
    "format", "source", "models", "probability_model", "bootstrap_samples", "seed", "n_rows",
    "n_positive", "n_patients", "n_patients_in_training", "reasons", "pauc", "pauc_ci", "auc",
    "auc_ci", "top15", "top15_ci", "operating_points", "calibration", "decision_curve", "groups",
    "shift", "warnings",
]  # fmt: skip
GROUPS = ["attribution", "anatom_site_general", "sex", "age band", "tbp_tile_type"]
BOOTSTRAP = 20


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """What make_synthetic --test-labels writes (3,000 train and 20,000 test rows of one draw;
    2 % malignant, so that 3,000 rows train on 2 folds), the cohort in the train layout too, and
    the config."""
    folder = tmp_path_factory.mktemp("evaluate-data")
    drawn = synthetic.draw(3_000, 20_000, seed=11, malignant_rate=0.02)
    synthetic.write_kaggle_layout(drawn.train, drawn.test, folder)
    synthetic.write_test_labels(drawn.test_labels, folder)
    test = pl.read_csv(folder / "test-metadata.csv", infer_schema=False)
    labels = pl.read_csv(folder / "test-labels.csv", infer_schema=False)
    test.join(labels, on="isic_id", maintain_order="left").write_csv(folder / "cohort.csv")
    (folder / "tiny.toml").write_text(
        TINY_TOML.replace("bootstrap_samples = 50", f"bootstrap_samples = {BOOTSTRAP}")
    )
    return folder


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("evaluate-run") / "run"
    argv = ["--data-dir", str(data), "--config", str(data / "tiny.toml"), "--out", str(out)]
    assert train_gbdt.main(argv) == 0
    return out


@pytest.fixture(scope="module")
def evaluated(data, run, tmp_path_factory):
    """The train-layout cohort evaluated through the command, and what it printed."""
    out = tmp_path_factory.mktemp("evaluated") / "evaluation"
    argv = ["--run", str(run), "--cohort", str(data / "cohort.csv"), "--out", str(out)]
    code = evaluate.main([*argv, "--eval-by", "image_type"])
    assert code == 0
    return out


@pytest.fixture
def no_model_loaded(monkeypatch):
    """A bad input must be refused before any model is loaded."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was loaded before the inputs were checked")

    monkeypatch.setattr("models.external.evaluate.load_run", refuse)


def _results(folder) -> dict:
    return json.loads((folder / "evaluation.json").read_text())


def _reference_pauc(y, s) -> float:
    """check_run.py's own copy of the ISIC metric (a plain implementation where it is absent)."""
    if CHECK_RUN.is_file():
        spec = importlib.util.spec_from_file_location("check_run", CHECK_RUN)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.isic_pauc(y, s)
    # Benign is the positive class of the flipped curve; integrate TPR over FPR up to 0.2.
    order = np.argsort(s, kind="stable")
    y = np.asarray(y)[order]
    fpr = np.concatenate([[0], np.cumsum(y == 1) / (y == 1).sum()])
    tpr = np.concatenate([[0], np.cumsum(y == 0) / (y == 0).sum()])
    keep = fpr <= 0.2
    cut = np.interp(0.2, fpr, tpr)
    f, t = np.append(fpr[keep], 0.2), np.append(tpr[keep], cut)
    return float(np.sum(np.diff(f) * (t[1:] + t[:-1]) / 2))


def test_the_figures_match_independent_computations(data, run, evaluated):
    results = _results(evaluated)
    assert list(results) == KEY_ORDER
    assert results["models"] == ["lgbm", "xgb", "ensemble"]
    assert results["bootstrap_samples"] == BOOTSTRAP and results["seed"] == 42
    scores = pl.read_parquet(evaluated / "scores.parquet")
    cohort = pl.read_csv(data / "cohort.csv", infer_schema=False)
    # One row per cohort lesion, in its order, with every model's score.
    assert scores.columns == [
        "isic_id", "patient_id", "target", "lgbm", "xgb", "ensemble", "probability",
    ]  # fmt: skip
    assert scores["isic_id"].to_list() == cohort["isic_id"].to_list()
    assert scores["target"].cast(pl.String).to_list() == cohort["target"].to_list()
    assert scores.schema["probability"] == pl.Float64
    y = scores["target"].to_numpy()
    assert results["n_rows"] == 20_000 and results["n_positive"] == int(y.sum()) == 400
    assert results["n_patients"] == cohort["patient_id"].n_unique() == 52
    assert results["n_patients_in_training"] == 0 and results["warnings"] == []
    for name in results["models"]:
        assert results["pauc"][name] == pytest.approx(_reference_pauc(y, scores[name]), abs=1e-12)
        assert results["auc"][name] == pytest.approx(roc_auc_score(y, scores[name]), abs=1e-12)
        low, high = results["pauc_ci"][name]
        assert low <= high
    # The probability is what predict submits for the same lesions.
    predicted = load_run(run).predict(pl.read_csv(data / "test-metadata.csv"))
    np.testing.assert_allclose(scores["probability"], predicted["probability"], rtol=1e-12)


def test_oof_thresholds_are_fixed_on_the_runs_out_of_fold_scores(run, evaluated):
    results = _results(evaluated)
    scores = pl.read_parquet(evaluated / "scores.parquet")
    oof = pl.read_parquet(run / "oof.parquet")
    ensemble = json.loads((run / "ensemble.json").read_text())
    p_oof = Calibrator.from_dict(ensemble["calibrator"])(oof["ensemble"].to_numpy())
    y_oof = oof["target"].to_numpy()
    y, p = scores["target"].to_numpy(), scores["probability"].to_numpy()
    points = results["operating_points"]
    assert [(q["wanted"], q["chosen_on"]) for q in points] == [
        (w, where) for w in (0.8, 0.9, 0.95) for where in ("oof", "cohort")
    ]
    for point in points:
        yy, pp = (y_oof, p_oof) if point["chosen_on"] == "oof" else (y, p)
        # By hand: the highest threshold that flags the wanted share of malignant lesions.
        malignant = np.sort(pp[yy == 1])[::-1]
        wanted = malignant[int(np.ceil(point["wanted"] * malignant.size - 1e-9)) - 1]
        assert point["threshold"] == pytest.approx(wanted, rel=1e-12)
        flagged = p >= point["threshold"]
        assert point["sensitivity"] == pytest.approx(flagged[y == 1].mean())
        assert point["specificity"] == pytest.approx((~flagged[y == 0]).mean())


def test_calibration_groups_shift_and_the_page(evaluated, capsys):
    results = _results(evaluated)
    scores = pl.read_parquet(evaluated / "scores.parquet")
    y, p = scores["target"].to_numpy(), scores["probability"].to_numpy()
    calibration = results["calibration"]
    assert calibration["observed_expected"] == pytest.approx(y.sum() / p.sum())
    assert calibration["brier"] == pytest.approx(np.mean((p - y) ** 2))
    assert results["decision_curve"] and results["reasons"] == {}
    assert list(results["groups"]) == [*GROUPS, "image_type"]
    for rows in results["groups"].values():
        assert sum(row["lesions"] for row in rows) == 20_000
        assert sum(row["malignant"] for row in rows) == 400
    bands = [row["group"] for row in results["groups"]["age band"]]
    assert all(b == "<missing>" or b in ("0-29", "80+") or b[2] == "-" for b in bands)
    shift = results["shift"]
    assert 0.0 <= shift["auc"] <= 1.0 and shift["n_cohort"] == 10_000
    assert {p.name for p in evaluated.iterdir()} == {
        "evaluation.json", "scores.parquet", "evaluation.html", "evaluation.md",
    }  # fmt: skip
    assert {p.name for p in evaluated.parent.iterdir()} == {"evaluation"}  # no lock, no partial


def test_the_labels_form_gives_the_same_figures(data, run, evaluated, tmp_path):
    # Through the library, without the page (the command's page is tested above).
    out = tmp_path / "labels"
    labels = data / "test-labels.csv"
    cohort = data / "test-metadata.csv"
    a = evaluate_run(run, cohort, out, labels=labels, eval_by=["image_type"]).results
    b = _results(evaluated)
    assert a["source"]["labels"] == str(labels) and b["source"]["labels"] is None
    for key in ("pauc", "pauc_ci", "auc", "operating_points", "calibration", "groups", "shift"):
        assert json.loads(json.dumps(a[key])) == b[key], key
    scores = pl.read_parquet(out / "scores.parquet")
    assert scores.equals(pl.read_parquet(evaluated / "scores.parquet"))
    assert {p.name for p in out.iterdir()} == {"evaluation.json", "scores.parquet"}


def test_a_submission_through_scores(data, run, evaluated, tmp_path, capsys):
    submission = tmp_path / "submission.csv"
    test = ["--test", str(data / "test-metadata.csv"), "--out", str(submission)]
    assert predict.main(["--run", str(run), *test]) == 0
    cohort = ["--cohort", str(data / "cohort.csv"), "--out", str(tmp_path / "ranks")]
    assert evaluate.main(["--scores", str(submission), *cohort]) == 0
    ranks = _results(tmp_path / "ranks")
    run_results = _results(evaluated)
    assert ranks["models"] == ["scores"] and ranks["probability_model"] == "scores"
    assert ranks["source"]["scores"] == str(submission) and ranks["source"]["run"] is None
    assert (ranks["bootstrap_samples"], ranks["seed"]) == (1000, 0)
    # The submission is the run's probability: the same ranking, the same ISIC score.
    assert ranks["pauc"]["scores"] == pytest.approx(run_results["pauc"]["ensemble"], abs=1e-9)
    assert {q["chosen_on"] for q in ranks["operating_points"]} == {"cohort"}
    assert ranks["calibration"] is None and ranks["decision_curve"] == []
    assert "--probability" in ranks["reasons"]["calibration"]
    assert ranks["n_patients_in_training"] is None and "reason" in ranks["shift"]
    assert set(ranks["reasons"]) == {"n_patients_in_training", "shift", "calibration"}
    assert all(row["observed_expected"] is None for row in ranks["groups"]["sex"])
    scores = pl.read_parquet(tmp_path / "ranks" / "scores.parquet")
    assert scores.columns == ["isic_id", "patient_id", "target", "scores", "probability"]
    assert (tmp_path / "ranks" / "evaluation.html").is_file()
    # Said to be a probability, it is calibrated as the run's own probability is.
    probability = evaluate_scores(
        submission, data / "cohort.csv", tmp_path / "probability", probability=True
    ).results
    assert "calibration" not in probability["reasons"]
    assert probability["calibration"]["observed_expected"] == pytest.approx(
        run_results["calibration"]["observed_expected"], rel=1e-6
    )


def test_lesions_without_a_score_are_left_out_when_allowed(data, tmp_path, caplog):
    cohort = pl.read_csv(data / "cohort.csv", infer_schema=False)
    scores = cohort.select("isic_id", target=pl.int_range(pl.len()) / pl.len()).slice(3)
    scores.write_csv(tmp_path / "scores.csv")
    results = evaluate_scores(
        tmp_path / "scores.csv", data / "cohort.csv", tmp_path / "out", allow_missing_scores=True
    ).results
    assert results["n_rows"] == pl.read_parquet(tmp_path / "out" / "scores.parquet").height
    assert results["n_rows"] == 20_000 - 3
    (warning,) = results["warnings"]
    assert "3 of 20,000 cohort lesions have no score in column 'target'; left out" in warning
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [warning]


def test_patients_the_run_trained_on_are_counted_in_a_warning(data, run, tmp_path, caplog):
    train = pl.read_csv(data / "train-metadata.csv", infer_schema=False)
    cohort = pl.read_csv(data / "cohort.csv", infer_schema=False)
    # A few cohort patients (too few for the shift test, which is quicker), and two lesions of
    # two training patients under ids the run never saw.
    first = cohort["patient_id"].unique().sort()[:6]
    cohort = cohort.filter(pl.col("patient_id").is_in(first.implode()))
    assert cohort["target"].n_unique() == 2
    borrowed = train.unique("patient_id", keep="first", maintain_order=True).head(2)
    borrowed = borrowed.with_columns(pl.Series("isic_id", ["ISIC_X000001", "ISIC_X000002"]))
    pl.concat([cohort, borrowed.select(cohort.columns)]).write_csv(tmp_path / "cohort.csv")
    results = evaluate_run(run, tmp_path / "cohort.csv", tmp_path / "out").results
    assert results["n_patients_in_training"] == 2
    (warning,) = results["warnings"]
    assert warning == (
        "2 cohort patients also have lesions in the run's training data "
        f"({run / 'oof.parquet'}); the cohort is not fully external to the run"
    )
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [warning]


def _keep(cohort: pl.DataFrame, train: pl.DataFrame) -> pl.DataFrame:
    return cohort


def _no_target(cohort: pl.DataFrame, train: pl.DataFrame) -> pl.DataFrame:
    return cohort.drop("target")


# Each case: what the cohort file becomes and what the labels file becomes (None: no --labels),
# both from the train-layout cohort as text (and the training file, as text); extra flags; a
# part of the one line the command must print.
BAD_COHORTS = [
    pytest.param(
        _no_target,
        None,
        [],
        "required column 'target' is missing; expected a train-layout cohort",
        id="no target column",
    ),
    pytest.param(
        lambda c, t: c.with_columns(target=pl.lit("2")),
        None,
        [],
        "column 'target', data row 1: expected 0 or 1, got 2",
        id="a target other than 0 or 1",
    ),
    pytest.param(
        lambda c, t: c.with_columns(target=pl.lit("0")),
        None,
        [],
        "column 'target': the cohort has no malignant (1) lesion among its 20,000",
        id="no malignant lesion",
    ),
    pytest.param(
        lambda c, t: c.filter(pl.col("target") == "1"),
        None,
        [],
        "column 'target': the cohort has no benign (0) lesion among its 400",
        id="no benign lesion",
    ),
    pytest.param(
        lambda c, t: pl.concat([c, t.head(1).select(c.columns)]),
        None,
        [],
        "(data row 20001) is a lesion the run",
        id="a lesion the run trained on",
    ),
    pytest.param(
        _no_target,
        lambda c, t: c.select("isic_id", "target").slice(1),
        [],
        "has no label (1 of 20,000 cohort lesions without one)",
        id="a lesion without a label",
    ),
    pytest.param(
        _no_target,
        lambda c, t: c.select("isic_id", target=pl.lit("0.5")),
        [],
        "labels.csv: column 'target', data row 1: expected 0 or 1, got 0.5",
        id="a label other than 0 or 1",
    ),
    pytest.param(
        _no_target,
        lambda c, t: c.select("isic_id", label="target"),
        [],
        "labels.csv: required column 'target' is missing",
        id="a labels file without target",
    ),
    pytest.param(
        _keep,
        None,
        ["--eval-by", "hospital"],
        "column 'hospital' (--eval-by) is not in the cohort",
        id="an --eval-by column not in the cohort",
    ),
    pytest.param(
        _keep,
        None,
        ["--eval-by", "tbp_lv_A"],
        "column 'tbp_lv_A' is Float64; expected a categorical column",
        id="an --eval-by column that is not categorical",
    ),
]


@pytest.mark.parametrize(("cohort_change", "labels_change", "flags", "expected"), BAD_COHORTS)
def test_a_bad_cohort_is_one_line_and_writes_nothing(
    cohort_change, labels_change, flags, expected, data, run, tmp_path, capsys, no_model_loaded
):
    cohort = pl.read_csv(data / "cohort.csv", infer_schema=False)
    train = pl.read_csv(data / "train-metadata.csv", infer_schema=False)
    cohort_change(cohort, train).write_csv(tmp_path / "c.csv")
    argv = ["--cohort", str(tmp_path / "c.csv"), *flags]
    if labels_change is not None:
        labels_change(cohort, train).write_csv(tmp_path / "labels.csv")
        argv += ["--labels", str(tmp_path / "labels.csv")]
    out = tmp_path / "out"
    code, lines = in_process(capsys, evaluate, ["--run", str(run), *argv, "--out", str(out)])
    assert code == 2 and len(lines) == 1, lines
    assert expected in lines[0] and lines[0].startswith(f"error: {tmp_path}/")
    assert not out.exists() and not list(tmp_path.glob("out*"))


def test_a_lesion_the_run_trained_on_names_the_oof_file(data, run, tmp_path, capsys):
    train = pl.read_csv(data / "train-metadata.csv", infer_schema=False)
    train.head(5).with_columns(target=pl.Series(["0", "1", "0", "0", "0"])).write_csv(
        tmp_path / "c.csv"
    )
    code, lines = in_process(
        capsys, evaluate, ["--run", str(run), "--cohort", str(tmp_path / "c.csv")]
    )
    first = train["isic_id"][0]
    assert code == 2 and lines == [
        f"error: {tmp_path / 'c.csv'}: isic_id {first} (data row 1) is a lesion the run {run} "
        f"trained on (5 of 5 cohort lesions); expected lesions it never saw (the run's own "
        f"out-of-fold scores are in {run / 'oof.parquet'})"
    ]


def test_image_scores_must_match_the_run(data, run, tmp_path, capsys, no_model_loaded):
    scores = tmp_path / "image.csv"
    pl.read_csv(data / "test-labels.csv").select("isic_id", cnn=pl.lit(0.1)).write_csv(scores)
    cohort = ["--cohort", str(data / "cohort.csv")]
    code, lines = in_process(
        capsys, evaluate, ["--run", str(run), *cohort, "--image-scores", str(scores)]
    )
    assert code == 2 and lines == [
        f"error: {scores}: the run {run} was trained without image scores; expected no "
        "--image-scores"
    ]
    # The reverse: a run whose features need image scores (its manifest says so).
    copy = tmp_path / "image-run"
    shutil.copytree(run, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["feature_spec"]["image"] = {"columns": ["cnn"], "norms": {}}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, lines = in_process(capsys, evaluate, ["--run", str(copy), *cohort])
    assert code == 2 and lines == [
        f"error: {copy}: the run was trained with image scores (cnn); expected --image-scores "
        "FILE with the cohort lesions' scores"
    ]


def test_bad_score_files(data, tmp_path, capsys):
    cohort = pl.read_csv(data / "cohort.csv", infer_schema=False)
    path = tmp_path / "scores.csv"
    argv = ["--scores", str(path), "--cohort", str(data / "cohort.csv")]
    cases = [
        (cohort.select("isic_id", other=pl.lit("0.5")), [], "required column 'target' is missing"),
        (
            cohort.select("isic_id", target=pl.lit("0.5")).slice(2),
            [],
            f"{path}: isic_id {cohort['isic_id'][0]} (data row 1 of {data / 'cohort.csv'}) has no "
            "score in column 'target' (2 of 20,000 cohort lesions without one); expected a score "
            "for every cohort lesion, or pass --allow-missing-scores to leave them out",
        ),
        (
            cohort.select("isic_id", target=pl.lit("0.5")).with_columns(
                target=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("high")).otherwise("target")
            ),
            [],
            "column 'target', data row 4: cannot read 'high' as a number",
        ),
        (
            cohort.select("isic_id", target=pl.lit("1.5")),
            ["--probability"],
            "column 'target': 1.5 for isic_id",
        ),
    ]
    for frame, flags, expected in cases:
        frame.write_csv(path)
        code, lines = in_process(capsys, evaluate, [*argv, *flags, "--out", str(tmp_path / "o")])
        assert code == 2 and len(lines) == 1 and expected in lines[0], lines
        assert not (tmp_path / "o").exists()


def test_a_second_writer_and_an_existing_folder_are_refused(data, run, evaluated, capsys):
    argv = ["--run", str(run), "--cohort", str(data / "cohort.csv")]
    code, lines = in_process(capsys, evaluate, [*argv, "--out", str(evaluated)])
    assert code == 2 and lines == [
        f"error: {evaluated}: evaluation folder already exists; choose another --out"
    ]
    out = evaluated.with_name("locked")
    with folder_lock(out, "evaluate"):
        code, lines = in_process(capsys, evaluate, [*argv, "--out", str(out)])
    assert code == 2 and "another evaluate (pid" in lines[0] and not out.exists()


def test_the_mode_flags_must_agree(data, run, capsys):
    cohort = ["--cohort", str(data / "cohort.csv")]
    for argv, expected in [
        (["--run", str(run), "--probability"], "--probability and --score-column go with --scores"),
        (["--scores", "s.csv", "--image-scores", "i.csv"], "--image-scores i.csv: goes with --run"),
    ]:
        code, lines = in_process(capsys, evaluate, [*argv, *cohort])
        assert code == 2 and len(lines) == 1 and expected in lines[0]
    with pytest.raises(SystemExit):
        evaluate.main(cohort)  # neither --run nor --scores: argparse's usage error
    assert synthetic.TEST_LABELS_FILE == "test-labels.csv"


ADDITIVE_TOML = """
[training]
fixed_rounds = { lgbm = 40 }
bootstrap_samples = 20
threads = 1
[models]
names = ["lgbm"]
form = "additive"
[models.lgbm]
max_depth = 1
num_leaves = 2
[cv]
folds = 2
"""


def test_an_additive_runs_page_draws_its_curves_with_the_cohort(data, evaluated, tmp_path):
    from features.build import build_features
    from features.io import read_train
    from reports.evaluation import write_evaluation_page
    from tests.pages import Page

    (tmp_path / "additive.toml").write_text(ADDITIVE_TOML)
    run = tmp_path / "run"
    argv = ["--data-dir", str(data), "--config", str(tmp_path / "additive.toml")]
    assert train_gbdt.main([*argv, "--out", str(run)]) == 0
    given = {}

    def page(results, scores, folder, **curves):
        given.update(curves)
        return write_evaluation_page(results, scores, folder, **curves)

    out = tmp_path / "evaluation"
    evaluate_run(run, data / "cohort.csv", out, page=page, batch_rows=3_000)
    # The run's curves, and the cohort's values of the 12 features whose curves span the
    # widest range (by hand), row for row, as the whole cohort builds them at once (the
    # evaluation builds them in batches of whole patients).
    shape = pl.read_parquet(run / "shape_functions.parquet")
    assert given["shape"].equals(shape)
    spread = (
        shape.filter(pl.col("feature") != "(bias)")
        .group_by("feature")
        .agg((pl.col("contribution").max() - pl.col("contribution").min()).alias("spread"))
        .sort("spread", descending=True)
    )
    top = spread["feature"][:12].to_list()
    assert set(given["values"].columns) == set(top)
    cohort = read_train(data / "cohort.csv")
    whole = build_features(cohort, load_run(run).spec).frame.select(given["values"].columns)
    assert given["values"].equals(whole)
    sections = Page((out / "evaluation.html").read_text()).sections
    assert list(sections)[-2:] == ["curves", "warnings"]
    assert sections["curves"]["images"] == 1
    assert "What raises a lesion's score" in sections["curves"]["text"]
    assert "What raises the score" in (out / "evaluation.md").read_text()
    # A trees run's page has no curves.
    assert "curves" not in Page((evaluated / "evaluation.html").read_text()).sections
