"""Section 1, the data: how many lesions, patients and malignant ones; lesions per patient;
missing values per column; and how far the test lesions differ from the training ones."""

from __future__ import annotations

import numpy as np
import polars as pl

from features.build import Built, FeatureSpec
from features.schema import TEST_COLUMN_NAMES
from models import shift
from models.boosters import Matrix
from reports import plots
from reports.section import Section, count, fmt

KEY = "data"
TITLE = "Data"
TOP_SHIFTED = 15


def data_section(
    train: pl.DataFrame,
    test: pl.DataFrame | None,
    built: Built,
    spec: FeatureSpec,
    seed: int,
    test_note: str | None = None,
) -> Section:
    """`built` holds `train`'s features under `spec`; the test sample is built the same way."""
    section = Section(KEY, TITLE)
    y = train["target"].to_numpy()
    section.facts = [
        ("training lesions", count(train.height)),
        ("patients", count(train["patient_id"].n_unique())),
        ("malignant lesions", f"{count(int(y.sum()))} ({100 * y.mean():.3f} %)"),
        (
            "patients with a malignant lesion",
            count(train.filter(pl.col("target") == 1)["patient_id"].n_unique()),
        ),
    ]
    if test is not None:
        section.facts += [
            ("test lesions", count(test.height)),
            ("test patients", count(test["patient_id"].n_unique())),
        ]
    section.plots.append(_lesions_per_patient(train, test))
    missing = missingness(train, test)
    section.tables["missing"] = missing
    if missing:
        section.plots.append(_missing_plot(missing))
    else:
        section.note("No column has a missing value.")
    _shift(section, built, spec, test, seed, test_note)
    return section


def missingness(train: pl.DataFrame, test: pl.DataFrame | None) -> list[dict]:
    """Columns a model may read (the test file's) with a missing value in train or test: name
    and missing share of each side. Train-only columns (`lesion_id`, `iddx_*`, ...) are left
    out: they are empty for most lesions by design."""
    shares = {
        "train": _null_shares(train.select(c for c in TEST_COLUMN_NAMES if c in train.columns))
    }
    if test is not None:
        shares["test"] = _null_shares(test)
    names = [c for c in TEST_COLUMN_NAMES if any(s.get(c, 0) > 0 for s in shares.values())]
    return [{"column": n, **{side: s.get(n) for side, s in shares.items()}} for n in names]


def _null_shares(frame: pl.DataFrame) -> dict[str, float]:
    nulls = frame.null_count().row(0, named=True)
    return {name: value / max(frame.height, 1) for name, value in nulls.items()}


def _lesions_per_patient(train: pl.DataFrame, test: pl.DataFrame | None) -> plots.Plot:
    figure, axes = plots.new_figure(plots.WIDTH, 2.6)
    ax = axes[0, 0]
    sides = [("train", train, plots.BENIGN)]
    if test is not None:
        sides.append(("test", test, "#7f8c8d"))
    sizes = {
        name: frame["patient_id"].value_counts()["count"].to_numpy() for name, frame, _ in sides
    }
    top = max(int(s.max()) for s in sizes.values())
    bins = np.unique(np.geomspace(1, top + 1, 40).round())
    for name, _, colour in sides:
        ax.hist(
            sizes[name],
            bins=bins,
            histtype="step",
            lw=1.5,
            color=colour,
            label=f"{name}: median {np.median(sizes[name]):.0f}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("lesions per patient (log scale)")
    ax.set_ylabel("patients")
    ax.legend()
    return plots.plot(
        "Lesions per patient",
        figure,
        "Each patient contributes many lesion tiles; patient-relative features compare a "
        "lesion with the same patient's other lesions.",
    )


def _missing_plot(missing: list[dict]) -> plots.Plot:
    figure, axes = plots.new_figure(plots.WIDTH, 0.6 + 0.28 * len(missing))
    ax = axes[0, 0]
    y = np.arange(len(missing))
    sides = [s for s in ("train", "test") if s in missing[0]]
    for i, side in enumerate(sides):
        values = [100 * (row[side] or 0) for row in missing]
        colour = plots.BENIGN if side == "train" else "#7f8c8d"
        ax.barh(
            y + (i - 0.5 * (len(sides) - 1)) * 0.4, values, height=0.4, color=colour, label=side
        )
    ax.set_yticks(y, [row["column"] for row in missing])
    ax.invert_yaxis()
    ax.set_xlabel("missing values (% of rows)")
    ax.legend()
    return plots.plot("Missing values", figure)


def _shift(
    section: Section,
    built: Built,
    spec: FeatureSpec,
    test: pl.DataFrame | None,
    seed: int,
    test_note: str | None,
) -> None:
    if test is None:
        section.tables["shift_missing"] = (
            f"No train-versus-test shift: {test_note or 'no test file'}."
        )
        return
    small = shift.too_small(test.height, test["patient_id"].n_unique())
    if small is not None:
        section.tables["shift_missing"] = f"No train-versus-test shift: {small}."
        return
    train_sample = shift.shift_sample(built.frame, seed)
    test_built = shift.shift_sample(test, seed + 1, spec)
    result = shift.shift_test(
        Matrix(train_sample, built.names, built.categorical),
        train_sample["patient_id"].to_numpy(),
        Matrix(test_built, built.names, built.categorical),
        test_built["patient_id"].to_numpy(),
        seed,
    )
    section.tables["shift"] = {
        "auc": fmt(result.auc, 3),
        "verdict": _verdict(result.auc),
        "ks": [
            {"feature": n, "ks": fmt(k, 3), "train": fmt(a, 3), "test": fmt(b, 3)}
            for n, k, a, b in result.ks[:TOP_SHIFTED]
        ],
    }
    section.plots.append(_shift_plot(result))
    section.note(_sample_note("training", train_sample["patient_id"], built.frame))
    section.note(_sample_note("test", test_built["patient_id"], test))


def _sample_note(side: str, taken: pl.Series, whole: pl.DataFrame) -> str | None:
    if taken.len() >= whole.height:
        return None
    return (
        f"Shift test, {side} side: {taken.len():,} of {whole.height:,} lesions, drawn at random "
        f"from {taken.n_unique():,} of {whole['patient_id'].n_unique():,} patients."
    )


def _verdict(auc: float) -> str:
    if auc < 0.45:
        return (
            "below 0.5, which only chance does: too few patients for a stable estimate, and no "
            "sign of a shift"
        )
    if auc < 0.55:
        return "a classifier can hardly tell test lesions from training lesions: little shift"
    if auc < 0.7:
        return "a classifier tells them apart somewhat: a moderate shift, led by the features below"
    return "a classifier tells them apart well: a strong shift, led by the features below"


def _shift_plot(result: shift.ShiftResult) -> plots.Plot:
    top = result.importance[:TOP_SHIFTED]
    figure, axes = plots.new_figure(plots.WIDTH, 0.7 + 0.25 * max(len(top), 1))
    ax = axes[0, 0]
    ax.barh(np.arange(len(top)), [100 * s for _, s in top], color="#7f8c8d")
    ax.set_yticks(np.arange(len(top)), [n for n, _ in top])
    ax.invert_yaxis()
    ax.set_xlabel("share of the train-versus-test classifier's gain (%)")
    return plots.plot(
        f"What tells test lesions from training lesions (AUC {result.auc:.3f})",
        figure,
        "A LightGBM classifier told to separate training from test lesions, cross-validated "
        "over patient-grouped folds: AUC 0.5 means no shift. The bars are the features it used.",
    )
