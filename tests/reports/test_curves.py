"""Tests for reports/curves.py and reports/curve_words.py on a shape frame written by hand (the
contract's columns): the line under each panel says what the curve does, checked against a
plain loop over the frame's rows; the picture is drawn with and without lesions; level names
are shortened without clashing."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import polars as pl
import pytest
from PIL import Image

from features import schema
from models.additive import SCHEMA
from reports.curve_words import describe, tick_labels
from reports.curves import TOP, shape_curves

# feature -> (left edges, contributions, missing contribution); "site" is categorical.
NUMERIC = {
    "rises": ([0.0, 1.0, 2.0, 3.0], [-0.5, -0.1, 0.2, 0.6], 0.3),
    "falls": ([10.0, 20.0, 30.0], [0.4, 0.0, -0.4], -0.2),
    "bump": ([0.0, 1.0, 2.0, 3.0, 4.0], [-0.3, 0.1, 0.8, 0.1, -0.2], 0.02),
    "flat": ([0.0, 5.0], [0.01, -0.01], 0.0),
    "jump": ([0.0, 2.0, 2.5, 6.0], [0.0, 0.02, 1.0, 0.98], 0.0),
}
LEVELS = {"arm": 0.2, "leg": -0.3, "torso": 0.05}


def _shape() -> pl.DataFrame:
    rows = [("(bias)", None, None, False, -5.0)]
    for name, (edges, contributions, missing) in NUMERIC.items():
        rows += [(name, e, None, False, c) for e, c in zip(edges, contributions, strict=True)]
        rows.append((name, None, None, True, missing))
    rows += [("site", None, level, False, c) for level, c in LEVELS.items()]
    rows.append(("site", None, None, True, 0.1))
    frame = pl.DataFrame(rows, schema=list(SCHEMA)[:5], orient="row")
    return frame.with_columns(
        (pl.col("contribution") - 0.05).alias("low"), (pl.col("contribution") + 0.1).alias("high")
    ).cast(SCHEMA)


def _values(n: int = 4000) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    frame = pl.DataFrame(
        {
            "rises": np.where(rng.random(n) < 0.1, np.nan, rng.uniform(-0.5, 3.5, n)),
            "falls": rng.uniform(5, 35, n),
            "bump": rng.uniform(-0.5, 4.5, n),
            "flat": rng.uniform(0, 10, n),
            "jump": rng.uniform(-1, 7, n),
            "site": rng.choice(["arm", "leg", "torso"], n),
        }
    ).with_columns(pl.col("rises").fill_nan(None))
    return frame, (rng.random(n) < 0.05).astype(np.int64)


def _curve(shape: pl.DataFrame, feature: str, x: float) -> float:
    """The curve at x by a plain loop: the last step whose left edge is below x (x <= t goes
    left, so a step starting at t holds only above it), the first step below every edge."""
    steps = [
        row
        for row in shape.filter(pl.col("feature") == feature).iter_rows(named=True)
        if not row["missing"]
    ]
    value = steps[0]["contribution"]
    for row in steps[1:]:
        if x > row["value"]:
            value = row["contribution"]
    return value


def _odds(change: float) -> str:
    return f"odds {'×' if change >= 0 else '÷'}{math.exp(abs(change)):.2g}"


def _ends(values: pl.Series) -> tuple[float, float, int]:
    """The panel's x axis (the middle 99 % of the values) and the decimals its numbers take:
    about three significant digits of its width."""
    low, high = np.percentile(values.drop_nulls().to_numpy(), [0.5, 99.5])
    return low, high, 2 - math.floor(math.log10(high - low))


@pytest.mark.parametrize("feature", ["rises", "falls"])
def test_the_line_says_which_way_the_curve_goes(feature):
    shape, (values, _) = _shape(), _values()
    low, high, digits = _ends(values[feature])
    change = _curve(shape, feature, high) - _curve(shape, feature, low)
    verb = "raises" if change > 0 else "lowers"
    line = describe(shape, feature, values[feature])
    assert line.startswith(
        f"higher {feature} {verb} the score ({_odds(change)} from {low:.{digits}f} to "
        f"{high:.{digits}f})"
    )


def test_a_step_is_named_by_its_edge():
    shape, (values, _) = _shape(), _values()
    low, high, digits = _ends(values["jump"])
    # By hand: the curve is flat, then jumps up by about 1 at one edge, then stays there.
    edges, contributions, _ = NUMERIC["jump"]
    middle = (_curve(shape, "jump", low) + _curve(shape, "jump", high)) / 2
    edge = next(e for e, c in zip(edges, contributions, strict=True) if c > middle)
    change = _curve(shape, "jump", high) - _curve(shape, "jump", low)
    assert describe(shape, "jump", values["jump"]) == (
        f"jump above {edge:.{digits}f} raises the score ({_odds(change)})"
    )
    # Its mirror image: below the edge raises the score.
    mirrored = shape.with_columns(
        pl.when(pl.col("feature") == "jump")
        .then(-pl.col("contribution"))
        .otherwise(pl.col("contribution"))
        .alias("contribution")
    )
    assert describe(mirrored, "jump", values["jump"]) == (
        f"jump below {edge:.{digits}f} raises the score ({_odds(change)})"
    )


def test_a_missing_value_is_described_only_where_lesions_lack_the_value():
    shape, (values, _) = _shape(), _values()
    # 10 % of the lesions lack "rises": its missing contribution (+0.3) raises the score.
    assert describe(shape, "rises", values["rises"]).endswith("; missing: raises it (odds ×1.3)")
    # No lesion lacks "falls": what a missing value would do is left out.
    assert "missing" not in describe(shape, "falls", values["falls"])
    # Without lesions, every curve says it.
    assert describe(shape, "falls").endswith("; missing: lowers it (odds ÷1.2)")


def test_a_bump_a_flat_curve_and_a_categorical_feature_in_words():
    shape, (values, _) = _shape(), _values()
    # Highest on (2, 3]: the middle of that step, with its contribution against the average.
    bump = describe(shape, "bump", values["bump"])
    assert bump == f"bump near 2.50 raises the score most ({_odds(0.8)} against average)"
    assert describe(shape, "bump").endswith("; missing: about average")  # +0.02: negligible
    assert describe(shape, "flat", values["flat"]).startswith("flat hardly moves the score")
    best, worst = max(LEVELS, key=LEVELS.get), min(LEVELS, key=LEVELS.get)
    assert describe(shape, "site", values["site"]) == (
        f"site = {best} raises the score most ({_odds(LEVELS[best])}); {worst} lowers it most "
        f"({_odds(LEVELS[worst])})"
    )


def test_without_lesions_the_curve_is_read_over_its_own_steps():
    shape = _shape()
    change = NUMERIC["rises"][1][-1] - NUMERIC["rises"][1][0]
    assert describe(shape, "rises").startswith(
        f"higher rises raises the score ({_odds(change)} from 0 to 3.00)"
    )


def _image(uri: str) -> Image.Image:
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_the_picture_is_drawn_with_and_without_lesions():
    shape, (values, y) = _shape(), _values()
    features = ["bump", "rises", "site", "falls", "flat"]
    docs = {"rises": "Something that rises, as recorded."}
    drawn = shape_curves(shape, features, values, y, docs, "training lesions", seed=1)
    assert [line[0] for line in drawn.lines] == features  # in the order asked
    assert drawn.lines[1][1] == docs["rises"] and drawn.lines[0][1] == ""
    assert drawn.lines[1][2] == describe(shape, "rises", values["rises"])
    assert "the training lesions" in drawn.plot.caption and "e = 2.7" in drawn.plot.caption
    width, height = _image(drawn.plot.uri).size
    assert width > 1000 and height > 500  # two rows of three panels
    bare = shape_curves(shape, features)
    assert "no lesions" in bare.plot.caption
    assert bare.lines[1][2] == describe(shape, "rises")
    _image(bare.plot.uri)


def test_at_most_twelve_panels():
    shape = _shape()
    many = pl.concat(
        [shape.filter(pl.col("feature") == "(bias)")]
        + [
            shape.filter(pl.col("feature") == "rises").with_columns(
                pl.lit(f"f{i}").alias("feature")
            )
            for i in range(15)
        ]
    )
    drawn = shape_curves(many, [f"f{i}" for i in range(15)])
    assert [line[0] for line in drawn.lines] == [f"f{i}" for i in range(TOP)]


def test_level_names_are_shortened_without_clashing():
    for levels in (schema.ATTRIBUTION_LEVELS, schema.LOCATION_LEVELS, schema.SITE_LEVELS):
        labels = tick_labels(list(levels))
        assert len(set(labels)) == len(levels)
        assert all(len(label) <= 24 for label in labels)
    # A part that several levels share is dropped: the hospital, not its department.
    assert tick_labels(["Dept, Hospital A", "Dept, Hospital B", "Clinic C"]) == [
        "Hospital A",
        "Hospital B",
        "Clinic C",
    ]


def test_a_feature_never_recorded_in_training_has_no_panel():
    # Its curve is its missing row alone (models.additive writes no step for it).
    ghost = pl.DataFrame(
        [("ghost", None, None, True, 0.0, 0.0, 0.0)], schema=list(SCHEMA), orient="row"
    ).cast(SCHEMA)
    shape = pl.concat([_shape(), ghost])
    drawn = shape_curves(shape, ["ghost", "rises"])
    assert [line[0] for line in drawn.lines] == ["rises"]
    assert describe(shape, "ghost").startswith("ghost was never recorded in training")
