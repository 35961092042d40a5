"""Tests for reports/evaluation.py: the evaluation page shows the figures of the results dict it
is given (built here by hand from a small scored cohort with numpy), in every section, a dash
for a missing figure, one line for a missing section, nothing fetched from the network, markup
from the data as text, a Markdown table and the one screen the command prints, and it renders
in a real browser."""

from __future__ import annotations

import copy
import re
import subprocess
from html import unescape

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from models.evaluation import isic_pauc, top15_retrieval
from reports.evaluation import summary_lines, write_evaluation_page
from tests.conftest import MARKUP_ATTRIBUTION
from tests.pages import Page, browser_flags, verdict_in_browser

SECTIONS = [
    "evaluated",
    "discrimination",
    "operating-points",
    "calibration",
    "decision-curve",
    "subgroups",
    "shift",
    "warnings",
]
MODELS = ["lgbm", "xgb", "cat", "ensemble"]
SENSITIVITIES = (0.80, 0.90, 0.95)
CALIBRATION_REASON = "--scores without --probability: the score column may be a rank"
SHIFT_REASON = "the run's training data is not at hand (train.csv not found)"


def _cohort() -> pl.DataFrame:
    """600 lesions of 60 patients, about 20 malignant, three models' scores, the ensemble and a
    roughly calibrated probability, with grouping columns."""
    rng = np.random.default_rng(22)
    n = 600
    patient = rng.integers(0, 60, n)
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, 20, replace=False)] = 1
    frame = {
        "isic_id": [f"ISIC_{i:07d}" for i in range(n)],
        "patient_id": [f"IP_{p:03d}" for p in patient],
        "target": y,
    }
    for model in MODELS[:3]:
        frame[model] = 0.9 * y + rng.normal(size=n)
    frame["ensemble"] = np.mean([frame[m] for m in MODELS[:3]], axis=0)
    frame["probability"] = 1 / (1 + np.exp(-(-4.2 + 1.4 * frame["ensemble"])))
    # Malignant lesions: 3 at the third hospital (too few for a score), 9 and 8 at the others.
    hospitals = np.array(["Hospital A", "Hospital B", MARKUP_ATTRIBUTION])
    attribution = rng.choice(hospitals, n, p=[0.45, 0.45, 0.10])
    attribution[np.flatnonzero(y)] = hospitals[np.repeat([2, 0, 1], [3, 9, 8])]
    frame["attribution"] = attribution
    frame["sex"] = rng.choice(["female", "male", None], n, p=[0.48, 0.48, 0.04])
    return pl.DataFrame(frame)


def _ci(value: float, width: float) -> list[float]:
    return [value - width, value + width / 2]


def _operating_point(scored: pl.DataFrame, wanted: float, chosen_on: str) -> dict:
    y = scored["target"].to_numpy()
    p = scored["probability"].to_numpy()
    # The highest threshold that flags `wanted` of the malignant lesions (by a sorted list);
    # "oof" thresholds are a little lower, as if chosen on other data.
    ranked = np.sort(p[y == 1])[::-1]
    threshold = ranked[int(np.ceil(wanted * ranked.size)) - 1] * (0.9 if chosen_on == "oof" else 1)
    flagged = p >= threshold
    tp, fp = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum())
    fn, tn = int((~flagged & (y == 1)).sum()), int((~flagged & (y == 0)).sum())
    per_patient = (
        scored.with_columns(flagged=pl.Series(flagged))
        .group_by("patient_id")
        .agg(pl.col("flagged").sum())["flagged"]
        .to_numpy()
    )
    point = {"wanted": wanted, "chosen_on": chosen_on, "threshold": float(threshold)}
    for key, value in (
        ("sensitivity", tp / (tp + fn)),
        ("specificity", tn / (tn + fp)),
        ("ppv", tp / (tp + fp)),
        ("npv", tn / (tn + fn)),
    ):
        point[key], point[f"{key}_ci"] = value, [max(value - 0.05, 0.0), min(value + 0.03, 1.0)]
    point["flagged_per_patient_median"] = float(np.median(per_patient))
    point["flagged_per_patient_p90"] = float(np.percentile(per_patient, 90))
    return point


def _calibration(y: np.ndarray, p: np.ndarray) -> dict:
    brier = float(np.mean((p - y) ** 2))
    rate = y.mean()
    bins = []
    for rows in np.array_split(np.argsort(p, kind="stable"), 10):
        observed = float(y[rows].mean())
        bins.append(
            {
                "count": int(rows.size),
                "mean_predicted": float(p[rows].mean()),
                "observed": observed,
                "observed_ci": [0.0, observed + 0.04],
            }
        )
    figures = {
        "observed_expected": float(y.sum() / p.sum()),
        "slope": 0.87,
        "intercept": 0.12,
        "brier": brier,
        "scaled_brier": 1 - brier / (rate * (1 - rate)),
    }
    out = {}
    for key, value in figures.items():
        out[key], out[f"{key}_ci"] = value, _ci(value, abs(value) * 0.2)
    return {**out, "bins": bins, "logit_clip": 1e-6}


def _decision_curve(y: np.ndarray, p: np.ndarray) -> list[dict]:
    rate = y.mean()
    curve = []
    for t in np.geomspace(0.0005, 0.10, 25):
        flagged = p >= t
        odds = t / (1 - t)
        model = ((flagged & (y == 1)).sum() - (flagged & (y == 0)).sum() * odds) / y.size
        curve.append(
            {
                "threshold": float(t),
                "model": float(1000 * model),
                "all": float(1000 * (rate - (1 - rate) * odds)),
                "none": 0.0,
            }
        )
    return curve


def _groups(scored: pl.DataFrame, column: str) -> list[dict]:
    rows = []
    for (level,), part in sorted(
        scored.with_columns(pl.col(column).fill_null("<missing>")).group_by(column),
        key=lambda item: item[0][0],
    ):
        y, p = part["target"].to_numpy(), part["probability"].to_numpy()
        pauc = isic_pauc(y, p) if y.sum() >= 5 and y.sum() < y.size else None
        rows.append(
            {
                "group": level,
                "lesions": part.height,
                "malignant": int(y.sum()),
                "pauc": pauc,
                "pauc_ci": None if pauc is None else _ci(pauc, 0.03),
                "observed_expected": float(y.sum() / p.sum()),
            }
        )
    return rows


def _results(scored: pl.DataFrame) -> dict:
    y = scored["target"].to_numpy()
    patients = scored["patient_id"].to_numpy()
    p = scored["probability"].to_numpy()
    figures = {"pauc": {}, "pauc_ci": {}, "auc": {}, "auc_ci": {}, "top15": {}, "top15_ci": {}}
    for model in MODELS:
        s = scored[model].to_numpy()
        for key, value in (
            ("pauc", isic_pauc(y, s)),
            ("auc", roc_auc_score(y, s)),
            ("top15", top15_retrieval(y, s, patients)),
        ):
            figures[key][model], figures[f"{key}_ci"][model] = float(value), _ci(value, 0.02)
    figures["top15_ci"]["cat"] = None  # a missing interval shows the value alone
    points = [
        _operating_point(scored, wanted, chosen)
        for wanted in SENSITIVITIES
        for chosen in ("cohort", "oof")
    ]
    return {
        "format": 1,
        "source": {
            "run": "runs/2024-08-01T10-00-00",
            "scores": None,
            "score_column": None,
            "cohort": "data/hospital-x/test-metadata.csv",
            "labels": "data/hospital-x/test-labels.csv",
            "image_scores": None,
        },
        "models": MODELS,
        "probability_model": "ensemble",
        "bootstrap_samples": 1000,
        "seed": 0,
        "n_rows": scored.height,
        "n_positive": int(y.sum()),
        "n_patients": scored["patient_id"].n_unique(),
        "n_patients_in_training": 3,
        "reasons": {},
        **figures,
        "operating_points": points,
        "calibration": _calibration(y, p),
        "decision_curve": _decision_curve(y, p),
        "groups": {
            "attribution": _groups(scored, "attribution"),
            "anatom_site_general": [],
            "sex": _groups(scored, "sex"),
        },
        "shift": {
            "auc": 0.634,
            "n_train": 4000,
            "n_cohort": scored.height,
            "importance": [
                ["tbp_lv_H", 0.31],
                ["age_approx", 0.12],
                ["clin_size_long_diam_mm", 0.05],
            ],
            "ks": [["tbp_lv_H", 0.21, 30.5, 34.1], ["age_approx", 0.11, 55.0, 60.0]],
        },
        "warnings": [
            "3 cohort patients also have lesions in the run's training data; the cohort is "
            "not fully external"
        ],
    }


@pytest.fixture(scope="module")
def cohort():
    scored = _cohort()
    return scored, _results(scored)


@pytest.fixture(scope="module")
def page(cohort, tmp_path_factory):
    scored, results = cohort
    html, markdown = write_evaluation_page(results, scored, tmp_path_factory.mktemp("evaluation"))
    return html, markdown


def test_the_cohort_is_realistic(cohort):
    scored, results = cohort
    assert results["n_positive"] == 20
    counts = {g["group"]: g["malignant"] for g in results["groups"]["attribution"]}
    assert counts[MARKUP_ATTRIBUTION] == 3 and min(counts.values()) == 3
    assert sum(counts.values()) == 20


def test_every_section_is_there_with_its_pictures(page):
    html, markdown = page
    assert (html.name, markdown.name) == ("evaluation.html", "evaluation.md")
    sections = Page(html.read_text()).sections
    assert list(sections) == SECTIONS
    images = {key: s["images"] for key, s in sections.items()}
    # ROC curve; reliability diagram; decision curve; forest plot.
    assert '<th class="num">threshold (risk)</th>' in html.read_text()
    assert images == {
        "evaluated": 0,
        "discrimination": 1,
        "operating-points": 0,
        "calibration": 1,
        "decision-curve": 1,
        "subgroups": 1,
        "shift": 0,
        "warnings": 0,
    }
    assert all(not s["missing"] for key, s in sections.items() if key != "warnings")


def test_the_page_needs_nothing_from_the_network(page):
    html = page[0].read_text()
    parsed = Page(html)
    assert parsed.links and all(link.startswith(("data:", "#")) for link in parsed.links)
    assert not re.search(r"url\(\s*(?!['\"]?data:)", html)
    assert not re.search(r"@import|https?://", html)
    assert parsed.scripts == 1  # the page's own table sorting, nothing else


def test_the_page_shows_the_dicts_figures(page, cohort):
    _, results = cohort
    html = page[0].read_text()
    sections = {key: _text(s["text"]) for key, s in Page(html).sections.items()}
    evaluated = sections["evaluated"]
    assert (
        "600" in evaluated
        and "20 (3.33 %)" in evaluated
        and "runs/2024-08-01T10-00-00" in evaluated
    )
    for model in MODELS:
        pauc, (low, high) = results["pauc"][model], results["pauc_ci"][model]
        assert f"{pauc:.4f} [{low:.4f}, {high:.4f}]" in sections["discrimination"]
        auc, (low, high) = results["auc"][model], results["auc_ci"][model]
        assert f"{auc:.3f} [{low:.3f}, {high:.3f}]" in sections["discrimination"]
    # No interval: the value alone.
    cat = next(row for row in _rows(html, "discrimination") if row[0] == "cat")
    assert cat[3] == f"{results['top15']['cat']:.3f}"
    # By wanted sensitivity, the out-of-fold threshold first.
    rows = _rows(html, "operating-points")
    expected = sorted(
        results["operating_points"], key=lambda p: (p["wanted"], p["chosen_on"] != "oof")
    )
    assert len(rows) == len(expected) == 6
    for row, point in zip(rows, expected, strict=True):
        low, high = point["specificity_ci"]
        assert row[:4] == [
            f"{100 * point['wanted']:.0f} %",
            {"oof": "out-of-fold (fixed before this cohort)", "cohort": "this cohort (optimistic)"}[
                point["chosen_on"]
            ],
            f"{point['threshold']:.4g}",
            f"{100 * point['sensitivity']:.1f} % [{100 * point['sensitivity_ci'][0]:.1f}, "
            f"{100 * point['sensitivity_ci'][1]:.1f}]",
        ]
        assert row[4] == f"{100 * point['specificity']:.1f} % [{100 * low:.1f}, {100 * high:.1f}]"
        assert row[6].startswith(f"{100 * point['npv']:.3f} % [")
        assert row[7:] == [
            f"{point['flagged_per_patient_median']:.0f}",
            f"{point['flagged_per_patient_p90']:.0f}",
        ]
    calibration = results["calibration"]
    low, high = calibration["observed_expected_ci"]
    assert (
        f"{calibration['observed_expected']:.2f} [{low:.2f}, {high:.2f}]" in sections["calibration"]
    )
    assert f"{calibration['brier']:.3g}" in sections["calibration"]
    assert "clipped to [1e-06, 1 - 1e-06]" in sections["calibration"]
    curve = results["decision_curve"]
    better = [c["model"] > max(c["all"], c["none"]) for c in curve]
    first, last = better.index(True), len(better) - 1 - better[::-1].index(True)
    assert all(better[first : last + 1])  # one run of thresholds, as the sentence says
    low, high = curve[first]["threshold"], curve[last]["threshold"]
    assert (
        f"at every risk threshold from {100 * low:.2g} % to {100 * high:.2g} %."
        in sections["decision-curve"]
    )
    assert "AUC 0.634" in sections["shift"] and "tbp_lv_H" in sections["shift"]
    assert "not fully external" in sections["warnings"]


def test_a_group_with_few_malignant_lesions_shows_counts_and_a_dash(page, cohort):
    html = page[0].read_text()
    _, results = cohort
    escaped = "&lt;script&gt;alert(&#34;attribution&#34;)&lt;/script&gt;"
    assert MARKUP_ATTRIBUTION not in html and escaped in html
    small = next(g for g in results["groups"]["attribution"] if g["malignant"] < 5)
    row = re.search(rf"<tr><td>{re.escape(escaped)}</td>(.*?)</tr>", html, re.S).group(1)
    cells = [unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", row)]
    assert cells == [f"{small['lesions']:,}", "3", "-", "-", f"{small['observed_expected']:.2f}"]
    scored = next(g for g in results["groups"]["attribution"] if g["group"] == "Hospital A")
    assert f"{scored['pauc']:.4f}" in html


def test_nulls_render_as_dashes_and_never_crash(cohort, tmp_path):
    scored, results = cohort
    results = copy.deepcopy(results)
    results["pauc"]["xgb"] = None
    results["auc_ci"]["lgbm"] = [None, 0.9]
    results["n_patients_in_training"] = None
    results["reasons"]["n_patients_in_training"] = "the run's training ids are not at hand"
    point = results["operating_points"][0]
    point.update(ppv=None, ppv_ci=None, flagged_per_patient_p90=float("nan"))
    results["calibration"]["slope"] = None
    results["calibration"]["bins"][0]["observed_ci"] = None
    results["decision_curve"][3]["model"] = None
    results["groups"]["sex"][0]["observed_expected"] = None
    results["shift"] = None
    results["reasons"]["shift"] = SHIFT_REASON
    # --allow-missing-scores: a lesion without a score.
    scored = scored.with_columns(
        pl.when(pl.int_range(pl.len()) == 7).then(None).otherwise(pl.col("xgb")).alias("xgb")
    )
    html_text = write_evaluation_page(results, scored, tmp_path)[0].read_text()
    html = Page(html_text)
    text = {key: _text(s["text"]) for key, s in html.sections.items()}
    models = {row[0]: row for row in _rows(html_text, "discrimination")}
    assert models["xgb"][1] == "-"
    assert models["lgbm"][2] == f"{results['auc']['lgbm']:.3f}"  # half an interval: none
    assert _facts(html_text)["patients also in the training data"] == "-"
    assert "not checked (the run's training ids are not at hand)" in text["evaluated"]
    assert "1 lesion without a score is left out of the curve." in text["discrimination"]
    first_cohort_point = _rows(html_text, "operating-points")[1]
    assert first_cohort_point[:2] == ["80 %", "this cohort (optimistic)"]
    assert first_cohort_point[5] == "-"  # the PPV
    assert first_cohort_point[-2:] == [f"{point['flagged_per_patient_median']:.0f}", "-"]
    calibration = {row[0]: row for row in _rows(html_text, "calibration")}
    assert calibration["calibration slope"][1] == "-"
    sex = _rows(html_text, "subgroups")[-len(results["groups"]["sex"])]
    assert sex[0] == results["groups"]["sex"][0]["group"] and sex[-1] == "-"
    assert html.sections["shift"]["missing"] == [f"No shift test: {SHIFT_REASON}."]


def test_without_calibration_the_reason_takes_one_line(cohort, tmp_path):
    scored, results = cohort
    results = copy.deepcopy(results)
    results.update(
        models=["scores"],
        probability_model="scores",
        pauc={"scores": results["pauc"]["ensemble"]},
        pauc_ci={"scores": results["pauc_ci"]["ensemble"]},
        auc={"scores": results["auc"]["ensemble"]},
        auc_ci={},
        top15={},
        top15_ci={},
        operating_points=[p for p in results["operating_points"] if p["chosen_on"] == "cohort"],
        calibration=None,
        decision_curve=[],
        n_patients_in_training=None,
        shift={"reason": SHIFT_REASON},
        reasons={"calibration": CALIBRATION_REASON, "n_patients_in_training": "--scores"},
        warnings=[],
    )
    results["source"].update(run=None, scores="blend/submission.csv", score_column="target")
    frame = scored.select("isic_id", "patient_id", "target", "probability")
    html_text = write_evaluation_page(results, frame, tmp_path)[0].read_text()
    sections = Page(html_text).sections
    # Not known to be a probability: its thresholds are scores, not risks.
    assert '<th class="num">threshold (score)</th>' in html_text
    assert sections["calibration"]["missing"] == [f"No calibration figures: {CALIBRATION_REASON}."]
    (line,) = sections["decision-curve"]["missing"]
    assert CALIBRATION_REASON in line
    assert sections["shift"]["missing"] == [f"No shift test: {SHIFT_REASON}."]
    assert sections["warnings"]["missing"] == ["None."]
    assert sections["calibration"]["images"] == sections["decision-curve"]["images"] == 0
    assert sections["discrimination"]["images"] == 1  # the probability column's ROC curve
    assert "blend/submission.csv (column target)" in _text(sections["evaluated"]["text"])
    lines = summary_lines(results)
    assert f"calibration: none ({CALIBRATION_REASON})" in lines
    assert "operating points (thresholds chosen on this cohort, so optimistic):" in lines


def test_the_markdown_summary_has_the_key_figures_as_a_table(page, cohort):
    _, results = cohort
    summary = page[1].read_text()
    assert "| model | ISIC score [95 % interval] | ROC AUC | top-15 retrieval |" in summary
    pauc, (low, high) = results["pauc"]["ensemble"], results["pauc_ci"]["ensemble"]
    assert f"| ensemble | {pauc:.4f} [{low:.4f}, {high:.4f}] |" in summary
    calibration = results["calibration"]
    assert f"| O/E (1 is right) | {calibration['observed_expected']:.2f} [" in summary
    rows = [line for line in summary.splitlines() if line.startswith("| 80 % |")]
    assert len(rows) == 2 and all(row.count("|") == 9 for row in rows)
    assert "<script" not in summary


def test_summary_lines_give_the_score_calibration_and_three_operating_points(cohort):
    _, results = cohort
    lines = summary_lines(results)
    pauc, (low, high) = results["pauc"]["ensemble"], results["pauc_ci"]["ensemble"]
    assert f"ISIC score (ensemble): {pauc:.4f} [{low:.4f}, {high:.4f}]" in lines[1]
    calibration = results["calibration"]
    assert f"O/E {calibration['observed_expected']:.2f} [" in lines[2]
    assert f"slope {calibration['slope']:.2f} [" in lines[2]
    assert "(thresholds chosen out-of-fold, fixed before this cohort)" in lines[3]
    oof = [p for p in results["operating_points"] if p["chosen_on"] == "oof"]
    points = lines[5:]
    assert len(points) == 3
    for line, point in zip(points, oof, strict=True):
        low, high = point["sensitivity_ci"]
        assert line.split()[:5] == [
            f"{100 * point['wanted']:.0f}",
            "%",
            f"{point['threshold']:.4g}",
            f"{100 * point['sensitivity']:.1f}",
            "%",
        ]
        assert f"[{100 * low:.1f}, {100 * high:.1f}]" in line
        assert line.endswith(
            f"{point['flagged_per_patient_median']:.0f}, {point['flagged_per_patient_p90']:.0f}"
        )
    assert all(len(line) <= 110 for line in lines)
    assert len(lines) <= 24  # one screen


# The checks the browser runs once the page has loaded: every image decoded, the sections
# there, and a subgroup table's sorting working. The verdict goes into the title, which
# --dump-dom prints.
_BROWSER_CHECK = """
<script>
window.addEventListener("load", function () {
  var all = function (list) { return Array.prototype.slice.call(list); };
  var broken = all(document.images).filter(function (img) {
    return !img.complete || img.naturalWidth === 0;
  }).map(function (img) { return img.alt; });
  var table = document.querySelector("table.sortable");
  var header = table.tHead.rows[0].cells[1];
  var lesions = function () {
    return all(table.tBodies[0].rows).map(function (r) {
      return parseFloat(r.cells[1].getAttribute("data-sort"));
    });
  };
  header.click();
  var ascending = lesions();
  document.title = JSON.stringify({
    errors: window.__errors,
    images: document.images.length,
    broken: broken,
    sections: all(document.querySelectorAll("section")).map(function (s) { return s.id; }),
    sorted: ascending.every(function (v, i) { return i === 0 || ascending[i - 1] <= v; })
  });
});
</script>
"""


def test_the_page_loads_in_a_real_browser(page, tmp_path):
    verdict = verdict_in_browser(page[0].read_text(), _BROWSER_CHECK, tmp_path)
    assert verdict["errors"] == []
    assert verdict["sections"] == SECTIONS
    assert verdict["images"] == 4 and verdict["broken"] == []
    assert verdict["sorted"]
    screenshot = tmp_path / "evaluation.png"
    subprocess.run(
        [
            *browser_flags(tmp_path),
            "--window-size=1200,4000",
            f"--screenshot={screenshot}",
            page[0].as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert screenshot.stat().st_size > 50_000  # a page of plots, not a blank one


def _rows(html: str, section: str) -> list[list[str]]:
    """The text of each body row's cells, in one section's tables."""
    body = re.search(rf'<section id="{section}".*?</section>', html, re.S).group(0)
    return [
        [
            _text(unescape(re.sub(r"<[^>]+>", " ", cell)))
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
        if "<td" in row
    ]


def _facts(html: str) -> dict[str, str]:
    return {
        unescape(k): unescape(v) for k, v in re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html)
    }


def _text(text: str) -> str:
    return " ".join(text.split())


def test_an_empty_results_dict_still_makes_a_page(tmp_path):
    html, _ = write_evaluation_page({}, pl.DataFrame(), tmp_path)
    sections = Page(html.read_text()).sections
    assert list(sections) == SECTIONS
    assert sections["calibration"]["missing"] == ["No calibration figures: no reason given."]
    assert summary_lines({})[1].startswith("ISIC score (ensemble): - ")


def test_an_additive_runs_page_has_the_curves_and_loads_in_a_browser(cohort, tmp_path):
    from tests.reports.test_curves import _shape
    from tests.reports.test_curves import _values as curve_values

    scored, results = cohort
    values, _ = curve_values(scored.height)
    html, markdown = write_evaluation_page(results, scored, tmp_path, shape=_shape(), values=values)
    text = html.read_text()
    sections = Page(text).sections
    assert list(sections) == [*SECTIONS[:-1], "curves", "warnings"]
    assert sections["curves"]["images"] == 1
    # Every feature with a curve (six: fewer than 12), each with its line, in the page and
    # in the summary; the cohort's lesions are the rugs.
    rows = _rows(text, "curves")
    assert sorted(row[0] for row in rows) == ["bump", "falls", "flat", "jump", "rises", "site"]
    assert "the cohort's lesions" in sections["curves"]["text"]
    summary = markdown.read_text()
    assert all(f"`{row[0]}`: {row[2]}" in summary for row in rows)
    verdict = verdict_in_browser(text, _BROWSER_CHECK, tmp_path)
    assert verdict["errors"] == [] and verdict["broken"] == []
    assert verdict["images"] == 5 and verdict["sections"] == list(sections)
