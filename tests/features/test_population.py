"""Population norms: learned on train (without the label), stored in the spec, applied with the
documented back-off, and independent of the other rows of the frame."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from features import population
from features.build import FeatureSpec, build_features, fit_spec

COLUMN = "tbp_lv_areaMM2"


@pytest.fixture(scope="module")
def train(small_data):
    return small_data[0]


@pytest.fixture(scope="module")
def norms(train):
    return population.fit_norms(train)


def test_norms_match_a_group_by_hand(train, norms):
    out = population.apply_norms(train, norms)[f"{COLUMN}_population_z"].to_numpy()
    rows = train.with_row_index("row").to_dicts()
    groups: dict[tuple, list[int]] = {}
    for r in rows:
        age = r["age_approx"]
        band = None if age is None else (age // 10) * 10
        groups.setdefault((r["attribution"], r["tbp_lv_location"], band), []).append(r["row"])
    checked = 0
    for rows_of in groups.values():
        if len(rows_of) < population.MIN_COUNT:
            continue
        x = train[COLUMN].to_numpy()[rows_of]
        np.testing.assert_allclose(out[rows_of], (x - x.mean()) / x.std(ddof=1), rtol=1e-9)
        checked += 1
    assert checked > 0


def test_small_and_unseen_groups_back_off(train, norms):
    row = train.head(1).with_columns(
        attribution=pl.lit("FNQH Cairns"), tbp_lv_location=pl.lit("Head & Neck")
    )
    z = population.apply_norms(row, norms)[f"{COLUMN}_population_z"][0]
    x = train[COLUMN]
    assert z == pytest.approx((row[COLUMN][0] - x.mean()) / x.std())


def test_norms_survive_the_manifest_and_ignore_the_label(train):
    spec = fit_spec(train, ["population_norm"], [])
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    flipped = fit_spec(train.with_columns(target=1 - pl.col("target")), ["population_norm"], [])
    assert flipped.population == spec.population
    one = build_features(train.head(3), again).frame
    alone = build_features(train.slice(1, 1), again).frame  # the other rows do not matter
    assert one.row(1) == alone.row(0)
