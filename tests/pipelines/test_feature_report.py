"""The feature report end to end: every section with its pictures, numbers that agree with
independent computations, markup from the data shown as text, nothing from the network, one
line for a missing input, the real rows, exit 2 for bad input, and a real browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from features.build import build_features
from features.io import read_train
from models.artifacts import load_run
from models.evaluation import isic_pauc
from pipelines import feature_report as command
from pipelines._cli import run_cli
from tests.conftest import MARKUP_ATTRIBUTION, REPO
from tests.pages import Page, browser_flags, verdict_in_browser

SECTIONS = ["data", "features", "model", "groups", "lesions"]


def _facts(html: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.feature_report", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_section_is_there_with_its_pictures(feature_report):
    html = feature_report.read_text()
    page = Page(html)
    assert list(page.sections) == SECTIONS
    for key, section in page.sections.items():
        assert section["images"] >= 1, key
    # Sections with a run and data have their content, not a missing-input line; the only
    # one here is the shift test's (5 test patients are too few).
    missing = [line for s in page.sections.values() for line in s["missing"]]
    assert missing == [
        "No train-versus-test shift: the test file has 2,000 rows of 5 patients; a "
        "train-versus-test shift test needs at least 200 rows of 50 patients."
    ]
    # Every lesion listed (20 + 20) has a tile in the fixture's train-image.hdf5.
    assert page.tiles == 40
    summary = feature_report.with_suffix(".md").read_text()
    assert [
        line[3:].split(". ", 1)[1] for line in summary.splitlines() if line.startswith("## ")
    ] == [
        "Data",
        "Features",
        "Model",
        "Where it works less well",
        "Lesions to look at",
    ]


def test_numbers_agree_with_independent_computations(feature_report, report_data_dir, trained_run):
    html = feature_report.read_text()
    facts = _facts(html)
    train = pl.read_csv(report_data_dir / "train-metadata.csv", infer_schema=False)
    assert facts["training lesions"] == f"{train.height:,}"
    assert facts["patients"] == f"{train['patient_id'].n_unique():,}"
    malignant = train.filter(pl.col("target") == "1")
    assert facts["malignant lesions"].startswith(f"{malignant.height:,} (")
    assert facts["patients with a malignant lesion"] == f"{malignant['patient_id'].n_unique():,}"
    metrics = json.loads((trained_run / "metrics.json").read_text())
    low, high = metrics["oof_pauc_ci"]["ensemble"]
    assert facts["ensemble out-of-fold ISIC score"] == (
        f"{metrics['oof_pauc']['ensemble']:.4f} [{low:.4f}, {high:.4f}]"
    )
    # The feature table's first row: the strongest feature alone, recomputed on every row.
    name, pauc, auc = re.search(
        r'<tr><td><code>([^<]+)</code></td><td>[^<]+</td>\s*<td class="num" data-sort="([^"]+)">'
        r'[^<]+</td>\s*<td class="num" data-sort="([^"]+)">',
        html,
    ).groups()
    built = build_features(
        read_train(report_data_dir / "train-metadata.csv"), load_run(trained_run).spec
    )
    column = built.frame[name]
    values = column.fill_null(column.median()).to_numpy().astype(np.float64)
    y = built.frame["target"].to_numpy()
    sign = 1 if isic_pauc(y, values) >= isic_pauc(y, -values) else -1
    assert float(pauc) == pytest.approx(isic_pauc(y, sign * values), abs=1e-9)
    assert float(auc) == pytest.approx(roc_auc_score(y, sign * values), abs=1e-9)


def test_markup_from_the_data_comes_out_as_text(feature_report):
    html = feature_report.read_text()
    assert MARKUP_ATTRIBUTION not in html
    assert "&lt;script&gt;alert(&#34;attribution&#34;)&lt;/script&gt;" in html
    assert Page(html).scripts == 1  # the page's own sorting and search script, nothing else
    summary = feature_report.with_suffix(".md").read_text()
    assert "<script" not in summary and "&lt;script&gt;" in summary


def test_the_page_needs_nothing_from_the_network(feature_report):
    html = feature_report.read_text()
    page = Page(html)
    assert all(link.startswith(("data:", "#")) for link in page.links), page.links
    assert not re.search(r"url\(\s*(?!['\"]?data:)", html)
    assert not re.search(r"@import|https?://", html)
    assert feature_report.stat().st_size < 10 * 1024**2


def test_the_real_rows_report_and_missing_inputs_take_one_line(real_dir, tmp_path):
    data = tmp_path / "real"
    data.mkdir()
    shutil.copy(real_dir / "train-metadata-5k.csv", data / "train-metadata.csv")
    shutil.copy(real_dir / "test-metadata.csv", data / "test-metadata.csv")
    out = tmp_path / "report.html"
    assert command.main(["--data-dir", str(data), "--out", str(out)]) == 0
    html = out.read_text()
    page = Page(html)
    assert list(page.sections) == SECTIONS
    facts = _facts(html)
    assert facts["training lesions"] == "5,000" and facts["malignant lesions"].startswith("393 (")
    assert facts["test lesions"] == "3"
    assert page.sections["data"]["missing"] == [
        "No train-versus-test shift: the test file has 3 rows of 3 patients; a "
        "train-versus-test shift test needs at least 200 rows of 50 patients."
    ]
    for key in ("model", "groups", "lesions"):
        assert page.sections[key]["images"] == 0
        (line,) = page.sections[key]["missing"]
        assert line.startswith("No run: pass --run RUN_DIR")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--run", "/nonexistent-run"], "/nonexistent-run: not a run folder"),
        (["--data-dir", "{bad}"], "required column 'patient_id' is missing"),
        (["--data-dir", "{bad}", "--out", "{out}.pdf"], "expected an .html file name"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path, real_dir, capsys, args, expected
):
    bad = tmp_path / "bad"
    bad.mkdir()
    frame = pl.read_csv(real_dir / "train-metadata-50.csv", infer_schema=False)
    frame.drop("patient_id").write_csv(bad / "train-metadata.csv")
    out = tmp_path / "out" / "report"
    argv = [a.replace("{bad}", str(bad)).replace("{out}", str(out)) for a in args]
    if "--out" not in argv:
        argv += ["--out", f"{out}.html"]
    assert run_cli(lambda: command.main(argv)) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: ") and expected in line
    assert not out.parent.exists() or not list(out.parent.iterdir())


def test_the_command_exits_2_for_a_missing_folder(tmp_path):
    out = tmp_path / "report.html"
    result = _run("--data-dir", str(tmp_path / "nowhere"), "--out", str(out))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == f"error: {tmp_path / 'nowhere'}: data folder not found"
    assert not out.exists() and not out.with_suffix(".md").exists()


# The checks the browser runs once the page has loaded: every image decoded, the sparkline
# sprite applied, the sections there, and the table's sorting and search working. The verdict
# goes into the title, which --dump-dom prints.
_BROWSER_CHECK = """
<script>
window.addEventListener("load", function () {
  var all = function (list) { return Array.prototype.slice.call(list); };
  var broken = all(document.images).filter(function (img) {
    return !img.complete || img.naturalWidth === 0;
  }).map(function (img) { return img.alt; });
  var table = document.getElementById("feature-table");
  var rows = function () { return all(table.tBodies[0].rows); };
  var score = function (row) { return parseFloat(row.cells[2].getAttribute("data-sort")); };
  // In either order, the features without a score (NaN: no spread) come last.
  var ordered = function (inOrder) {
    var s = rows().map(score), n = s.filter(function (v) { return !isNaN(v); }).length;
    return s.slice(n).every(isNaN) && inOrder(s[0], s[n - 1]);
  };
  var header = table.tHead.rows[0].cells[2];
  header.click();
  var ascending = ordered(function (first, last) { return first <= last; });
  header.click();
  var descending = ordered(function (first, last) { return first >= last; });
  var search = document.querySelector("input.search");
  search.value = "patient_z";
  search.dispatchEvent(new Event("input"));
  var shown = rows().filter(function (r) { return r.style.display !== "none"; });
  document.title = JSON.stringify({
    errors: window.__errors,
    images: document.images.length,
    broken: broken,
    sections: all(document.querySelectorAll("section")).map(function (s) { return s.id; }),
    sorted: ascending && descending,
    shown: shown.length,
    shown_match: shown.every(function (r) { return r.textContent.indexOf("patient_z") >= 0; }),
    sprite: getComputedStyle(document.querySelector(".spark")).backgroundImage.slice(0, 27)
  });
});
</script>
"""


def test_the_report_loads_in_a_real_browser(feature_report, tmp_path):
    html = feature_report.read_text()
    verdict = verdict_in_browser(html, _BROWSER_CHECK, tmp_path)
    assert verdict["errors"] == []
    assert verdict["sections"] == SECTIONS
    assert verdict["images"] == sum(s["images"] for s in Page(html).sections.values())
    assert verdict["broken"] == []
    assert verdict["sorted"] and verdict["shown_match"] and verdict["shown"] > 0
    assert verdict["sprite"] == 'url("data:image/png;base64,'
    screenshot = tmp_path / "report.png"
    subprocess.run(
        [
            *browser_flags(tmp_path),
            "--window-size=1280,2400",
            f"--screenshot={screenshot}",
            feature_report.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert screenshot.stat().st_size > 50_000  # a page of plots, not a blank one


def test_a_run_with_image_scores_shows_their_features(tmp_path):
    from pipelines import make_synthetic, train_gbdt
    from reports import resolve_inputs
    from tests.conftest import FAST_TOML

    data, run, config = tmp_path / "data", tmp_path / "run", tmp_path / "fast.toml"
    config.write_text(FAST_TOML)
    make = ["--out", str(data), "--rows", "3000", "--test-rows", "300", "--seed", "5"]
    assert make_synthetic.main([*make, "--image-scores"]) == 0
    scores = ["--image-scores-train", str(data / "train-image-scores.csv")]
    scores += ["--image-scores-test", str(data / "test-image-scores.csv")]
    folds = ["--folds-file", str(data / "image-folds.csv"), "--models", "lgbm"]
    train = ["--data-dir", str(data), "--out", str(run), "--config", str(config)]
    assert train_gbdt.main([*train, *folds, *scores]) == 0
    out = tmp_path / "report.html"
    assert command.main(["--run", str(run), "--out", str(out)]) == 0
    html = out.read_text()
    # The image family's four features of the score column, in the feature table.
    assert len(re.findall(r"<tr><td><code>image_score", html)) == 4
    assert Page(html).sections["model"]["missing"] == []
    # Without its score file the run's features cannot be built: one line says so.
    (data / "train-image-scores.csv").rename(tmp_path / "moved.csv")
    inputs = resolve_inputs(None, run)
    assert inputs.train is None
    assert "image-model scores for the train lesions" in inputs.notes["train"]


# An additive run (LightGBM stumps) with two CV repeats and two bags, so that a lesion's
# out-of-fold log-odds average four fold models, one per repeat and bag.
ADDITIVE_TOML = """
seed = 5
[training]
fixed_rounds = { lgbm = 60 }
bags = 2
bootstrap_samples = 50
threads = 1
[models]
names = ["lgbm"]
form = "additive"
[models.lgbm]
max_depth = 1
num_leaves = 2
[cv]
folds = 2
repeats = 2
"""


@pytest.fixture(scope="module")
def additive(tmp_path_factory, tiny_dir):
    """The additive run on the tiny data, its report (built in this process, so its sections
    can be read) and the report's page."""
    from pipelines import train_gbdt
    from reports import build_report, resolve_inputs, write_report

    folder = tmp_path_factory.mktemp("additive")
    config, run = folder / "additive.toml", folder / "run"
    config.write_text(ADDITIVE_TOML)
    argv = ["--data-dir", str(tiny_dir), "--config", str(config), "--out", str(run)]
    assert train_gbdt.main(argv) == 0
    report = build_report(resolve_inputs(tiny_dir, run))
    html, _ = write_report(report, folder / "report.html")
    return run, {s.key: s for s in report.sections}, html.read_text()


def _figures(html: str, section: str) -> list[str]:
    body = re.search(rf'<section id="{section}".*?</section>', html, re.S).group(0)
    return re.findall(r'<img src="data:image/png[^"]*" alt="([^"]+)"', body)


def test_an_additive_run_draws_its_curves_where_a_trees_run_draws_shap(additive, feature_report):
    _, sections, html = additive
    curves = "What raises a lesion&#39;s score: the 12 features that move it most"
    assert curves in _figures(html, "model")
    assert not any(alt.startswith("Mean |SHAP|") for alt in _figures(html, "model"))
    assert "top reasons (curves, log-odds)" in html
    assert len(sections["model"].tables["curves"]) == 12
    trees = feature_report.read_text()
    assert not any(alt.startswith("What raises") for alt in _figures(trees, "model"))
    assert "Mean |SHAP| contribution: the top 20 features" in _figures(trees, "model")
    assert "top reasons (SHAP, log-odds)" in trees


def test_the_lesions_reasons_add_up_to_their_out_of_fold_log_odds(additive, tiny_dir):
    from models.boosters import Matrix

    run_dir, sections, _ = additive
    run = load_run(run_dir)
    rows = [*sections["lesions"].tables["benign"], *sections["lesions"].tables["malignant"]]
    ids = [row["isic_id"] for row in rows]
    oof = pl.read_parquet(run_dir / "oof.parquet")
    lgbm = dict(zip(oof["isic_id"], oof["lgbm"], strict=True))
    # The mean raw score of the fold models that did not see each lesion, straight from the
    # boosters: in each repeat, its fold's models (both bags); then the mean over repeats.
    built = build_features(read_train(tiny_dir / "train-metadata.csv"), run.spec)
    frame = built.frame.filter(pl.col("isic_id").is_in(ids))
    frame = frame.join(pl.DataFrame({"isic_id": ids}).with_row_index("k"), on="isic_id").sort("k")
    codes = Matrix(frame, run.feature_names, run.categorical).codes
    folds = pl.read_csv(run_dir / "folds.csv", schema_overrides={"patient_id": pl.String})
    folds = frame.select("patient_id").join(
        folds, on="patient_id", how="left", maintain_order="left"
    )
    by_repeat = []
    for repeat, column in enumerate(["fold", "fold_r1"]):
        raw = {
            fold: np.mean(
                [
                    m.fitted.booster.predict(codes, raw_score=True, num_iteration=m.fitted.rounds)
                    for m in run.models
                    if (m.repeat, m.fold) == (repeat, fold)
                ],
                axis=0,
            )
            for fold in (0, 1)
        }
        by_repeat.append(np.choose(folds[column].to_numpy(), [raw[0], raw[1]]))
    expected = np.mean(by_repeat, axis=0)
    assert len({(m.repeat, m.fold, m.bag) for m in run.models}) == 8
    for row, direct in zip(rows, expected, strict=True):
        assert row["log_odds"] == pytest.approx(direct, abs=1e-6)
        assert row["log_odds"] == pytest.approx(lgbm[row["isic_id"]], abs=1e-6)
        assert row["reasons"][-1] == (
            f"log-odds {row['log_odds']:+.2f} = baseline {row['bias']:+.2f} + the curves of "
            f"every feature ({row['log_odds'] - row['bias']:+.2f})"
        )
    # A reason pushes the wrong way: up for a benign lesion, down for a malignant one.
    for key, sign in (("benign", 1), ("malignant", -1)):
        for row in sections["lesions"].tables[key]:
            for reason in row["reasons"][:-1]:
                assert sign * float(reason.rsplit("(", 1)[1].rstrip(")")) > 0


def _plain_curve(steps: list[dict], x: float) -> float:
    """A numeric curve at x by a plain loop: the last step whose left edge is below x."""
    value = steps[0]["contribution"]
    for step in steps[1:]:
        if x > step["value"]:
            value = step["contribution"]
    return value


def test_the_panel_lines_say_which_way_the_curves_go(additive, tiny_dir):
    run_dir, sections, _ = additive
    run = load_run(run_dir)
    shape = pl.read_parquet(run_dir / "shape_functions.parquet")
    by_feature: dict[str, list[dict]] = {}
    for row in shape.iter_rows(named=True):
        by_feature.setdefault(row["feature"], []).append(row)
    # The 12 features whose curves span the widest range, by hand.
    spread = {
        name: max(r["contribution"] for r in rows) - min(r["contribution"] for r in rows)
        for name, rows in by_feature.items()
        if name != "(bias)"
    }
    lines = sections["model"].tables["curves"]
    assert [line[0] for line in lines] == sorted(spread, key=lambda n: -spread[n])[:12]
    built = build_features(read_train(tiny_dir / "train-metadata.csv"), run.spec)
    directions = 0
    for name, _, line in lines:
        steps = [r for r in by_feature[name] if not r["missing"]]
        if name in run.categorical:
            best = max(steps, key=lambda r: r["contribution"])["level"]
            assert line.startswith(f"{name} = {best} raises the score most")
            continue
        values = built.frame[name].drop_nulls().to_numpy().astype(np.float64)
        low, high = np.percentile(values, [0.5, 99.5])  # the ends of the panel's x axis
        change = _plain_curve(steps, high) - _plain_curve(steps, low)
        if line.startswith("higher "):
            directions += 1
            verb = "raises" if change > 0 else "lowers"
            assert line.startswith(f"higher {name} {verb} the score"), (line, change)
        elif line.startswith((f"{name} above ", f"{name} below ")):
            directions += 1
            side = "above" if change > 0 else "below"
            assert line.startswith(f"{name} {side} "), (line, change)
        else:
            assert abs(change) < 0.5 * spread[name] or abs(change) < 0.05, (line, change)
    assert directions >= 6
