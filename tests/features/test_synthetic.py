"""Tests for features/synthetic/: the generator against the real files and the README facts."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features import schema, synthetic
from features.errors import UserError
from pipelines import make_synthetic

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"real data folder {REAL} is absent")

# The site each location belongs to, by the real file's own rows (README and train-metadata-50).
SITE_OF_SIMPLE = {
    "Head & Neck": "head/neck",
    "Left Arm": "upper extremity",
    "Right Arm": "upper extremity",
    "Left Leg": "lower extremity",
    "Right Leg": "lower extremity",
    "Torso Back": "posterior torso",
    "Torso Front": "anterior torso",
    "Unknown": None,
}


@pytest.fixture(scope="module")
def big() -> tuple[pl.DataFrame, pl.DataFrame]:
    return synthetic.generate(200_000, 20_000, seed=7)


@pytest.fixture(scope="module")
def train(big) -> pl.DataFrame:
    return big[0]


@needs_real
def test_columns_and_dtypes_match_the_real_files(big):
    train, test = big
    real_train = pl.read_csv(REAL / "train-metadata-50.csv", n_rows=0)
    real_test = pl.read_csv(REAL / "test-metadata.csv", n_rows=0)
    assert train.columns == real_train.columns
    assert test.columns == real_test.columns
    assert dict(train.schema) == schema.train_schema()
    assert dict(test.schema) == schema.test_schema()
    assert train.schema["target"] == pl.Int8


@needs_real
def test_medians_within_half_a_real_std(train):
    stats = pl.read_csv(REAL / "stats_by_target.csv").filter(pl.col("n") > 0)
    both = stats.group_by("col").len().filter(pl.col("len") == 2)["col"].to_list()
    failures = []
    for row in stats.filter(pl.col("col").is_in(both)).iter_rows(named=True):
        values = train.filter(pl.col("target") == row["target"])[row["col"]]
        got = values.median()
        if got is None or abs(got - row["median"]) > row["std"] / 2:
            failures.append(f"{row['col']} target={row['target']}: {got} vs {row['median']}")
    assert len(both) >= 35
    assert not failures, failures


def test_ids_have_the_real_formats_and_are_unique(big):
    train, test = big
    ids = pl.concat([train["isic_id"], test["isic_id"]])
    assert ids.str.contains(r"^ISIC_\d{7}$").all()
    assert ids.n_unique() == ids.len()
    patients = pl.concat([train["patient_id"], test["patient_id"]])
    assert patients.str.contains(r"^IP_\d{7}$").all()
    lesions = train["lesion_id"].drop_nulls()
    assert lesions.str.contains(r"^IL_\d{7}$").all()
    assert lesions.n_unique() == lesions.len()


def test_test_patients_never_occur_in_train(big):
    train, test = big
    assert not set(train["patient_id"]) & set(test["patient_id"])
    assert test.height == 20_000


def test_exact_malignant_count():
    train, test = synthetic.generate(12_345, 0, seed=1, malignant_rate=0.002)
    assert train["target"].sum() == round(0.002 * 12_345)
    assert test.height == 0 and test.columns == list(schema.TEST_COLUMN_NAMES)


def test_embedded_default_has_enough_positives():
    train, test = synthetic.embedded()
    assert train.height == synthetic.EMBEDDED_TRAIN_ROWS
    assert test.height == synthetic.EMBEDDED_TEST_ROWS
    assert train["target"].sum() == round(synthetic.DEFAULT_MALIGNANT_RATE * train.height) >= 100


def test_lesion_id_on_every_malignant_and_few_benign(train):
    malignant = train.filter(pl.col("target") == 1)
    benign = train.filter(pl.col("target") == 0)
    assert malignant["lesion_id"].null_count() == 0
    assert 0.05 < benign["lesion_id"].is_not_null().mean() < 0.07


def test_missingness_near_the_real_rates(train):
    rates = {c: train[c].null_count() / train.height for c in synthetic.facts.MISSING}
    assert abs(rates["sex"] - 0.0287) < 0.004
    assert abs(rates["anatom_site_general"] - 0.0144) < 0.003
    assert abs(rates["age_approx"] - 0.0070) < 0.002
    tbp = [
        c for c in train.columns if c.startswith("tbp_lv_") and c != "tbp_lv_dnn_lesion_confidence"
    ]
    assert train.select(pl.col(tbp).null_count()).sum_horizontal().item() == 0


def test_tile_type_is_the_patients_machine(train):
    per_patient = train.group_by("patient_id").agg(
        pl.col("tbp_tile_type").n_unique().alias("types"),
        pl.col("attribution").first(),
        (pl.col("tbp_tile_type") == "3D: white").first().alias("white"),
    )
    assert (per_patient["types"] == 1).all()
    white_hospitals = per_patient.filter(pl.col("white"))["attribution"].unique().to_list()
    assert white_hospitals == ["Memorial Sloan Kettering Cancer Center"]
    benign_xp = train.filter(pl.col("target") == 0)["tbp_tile_type"].eq("3D: XP").mean()
    assert abs(benign_xp - 0.72) < 0.04


@needs_real
def test_white_tiles_read_like_the_real_white_tiles(train):
    # Median white minus median XP tile, per class, against the 50 real rows.
    real = pl.read_csv(REAL / "train-metadata-50.csv", infer_schema_length=None)

    def white_minus_xp(frame: pl.DataFrame, column: str, target: int) -> float:
        medians = dict(
            frame.filter(pl.col("target") == target)
            .group_by("tbp_tile_type")
            .agg(pl.col(column).median())
            .iter_rows()
        )
        return medians["3D: white"] - medians["3D: XP"]

    for column, tolerance in (("tbp_lv_Lext", 4.0), ("tbp_lv_L", 7.0), ("tbp_lv_Bext", 4.0)):
        got, want = white_minus_xp(train, column, 0), white_minus_xp(real, column, 0)
        assert abs(got - want) < tolerance, (column, got, want)
    # the nevus classifier all but fails on white tiles, in both classes
    for target in (0, 1):
        white = train.filter(
            (pl.col("target") == target) & (pl.col("tbp_tile_type") == "3D: white")
        )
        assert white["tbp_lv_nevi_confidence"].median() < 1.0


def test_keratoses_are_common_in_the_old_and_on_sun_exposed_skin(train):
    # On XP tiles a benign lesion the nevus classifier rejects is mostly a keratosis.
    benign = train.filter((pl.col("target") == 0) & (pl.col("tbp_tile_type") == "3D: XP"))
    rejected = pl.col("tbp_lv_nevi_confidence") < 0.1
    by_age = benign.group_by(old=pl.col("age_approx") >= 65).agg(rejected.mean()).sort("old")
    young, old = by_age.drop_nulls("old")["tbp_lv_nevi_confidence"].to_list()
    assert old > young + 0.03
    by_site = dict(benign.group_by("anatom_site_general").agg(rejected.mean()).iter_rows())
    assert by_site["head/neck"] > by_site["lower extremity"] + 0.03


def test_age_is_a_multiple_of_five(train):
    age = train["age_approx"].drop_nulls()
    assert ((age % 5) == 0).all() and age.min() >= 15 and age.max() <= 85


def test_head_and_neck_has_the_highest_malignant_rate(train):
    rates = (
        train.drop_nulls("anatom_site_general")
        .group_by("anatom_site_general")
        .agg(pl.col("target").mean())
        .sort("target", descending=True)
    )
    assert rates["anatom_site_general"][0] == "head/neck"
    assert rates["target"][0] > 3 * rates["target"][1]


def test_malignant_lesions_are_large_for_their_patient(train):
    pct = (
        train.with_columns(
            pct=pl.col("clin_size_long_diam_mm").rank("average").over("patient_id")
            / pl.len().over("patient_id")
        )
        .filter(pl.col("target") == 1)["pct"]
        .to_numpy()
    )
    assert np.median(pct) > 0.75
    assert (pct > 0.9).mean() > 0.3


def test_heavy_tail_of_lesions_per_patient(train):
    counts = train.group_by("patient_id").len()["len"]
    assert counts.mean() > 1.3 * counts.median()
    assert counts.max() > 5 * counts.median()
    # more rows means more patients, not bigger ones
    assert 200_000 / 600 < counts.len() < 200_000 / 250


def test_malignant_lesions_per_patient_mostly_one(train):
    per = train.group_by("patient_id").agg(pl.col("target").sum()).filter(pl.col("target") > 0)
    assert (per["target"] == 1).mean() > 0.5


def test_arithmetic_identities_of_the_real_columns(train):
    t = train.sample(5_000, seed=0)
    a, b, l_ = (t[c].to_numpy() for c in ("tbp_lv_A", "tbp_lv_B", "tbp_lv_L"))
    ae, be, le = (t[c].to_numpy() for c in ("tbp_lv_Aext", "tbp_lv_Bext", "tbp_lv_Lext"))
    close = {"atol": 1e-4, "rtol": 0}
    np.testing.assert_allclose(t["tbp_lv_C"].to_numpy(), np.hypot(a, b), **close)
    np.testing.assert_allclose(t["tbp_lv_Cext"].to_numpy(), np.hypot(ae, be), **close)
    np.testing.assert_allclose(t["tbp_lv_H"].to_numpy(), np.degrees(np.arctan2(b, a)), **close)
    np.testing.assert_allclose(t["tbp_lv_Hext"].to_numpy(), np.degrees(np.arctan2(be, ae)), **close)
    np.testing.assert_allclose(t["tbp_lv_deltaA"].to_numpy(), a - ae, **close)
    np.testing.assert_allclose(t["tbp_lv_deltaB"].to_numpy(), b - be, **close)
    np.testing.assert_allclose(t["tbp_lv_deltaL"].to_numpy(), l_ - le, **close)
    perim, area = t["tbp_lv_perimeterMM"].to_numpy(), t["tbp_lv_areaMM2"].to_numpy()
    np.testing.assert_allclose(t["tbp_lv_area_perim_ratio"].to_numpy(), perim**2 / area, rtol=1e-5)
    # the long diameter is about the ellipse's major axis
    major = t["tbp_lv_minorAxisMM"].to_numpy() / np.sqrt(
        1 - t["tbp_lv_eccentricity"].to_numpy() ** 2
    )
    ratio = t["clin_size_long_diam_mm"].to_numpy() / major
    assert 0.9 < np.median(ratio) < 1.1
    lb = np.hypot(t["tbp_lv_deltaL"].to_numpy(), t["tbp_lv_deltaB"].to_numpy())
    assert (t["tbp_lv_deltaLB"].to_numpy() >= lb - 1e-4).all()


def test_locations_agree_with_site_and_coordinates(train):
    prefix = pl.col("tbp_lv_location").str.starts_with(pl.col("tbp_lv_location_simple"))
    assert train.select(prefix.all()).item()
    site = train["tbp_lv_location_simple"].replace_strict(SITE_OF_SIMPLE, return_dtype=pl.String)
    assert site.equals(train["anatom_site_general"], null_equal=True, check_names=False)
    assert train["image_type"].unique().to_list() == [schema.IMAGE_TYPE]
    by = train.group_by("tbp_lv_location_simple").agg(pl.col("tbp_lv_x", "tbp_lv_y").median())
    med = {r["tbp_lv_location_simple"]: r for r in by.iter_rows(named=True)}
    assert (
        med["Head & Neck"]["tbp_lv_y"]
        > med["Torso Front"]["tbp_lv_y"]
        > med["Left Leg"]["tbp_lv_y"]
    )
    assert med["Left Arm"]["tbp_lv_x"] < 0 < med["Right Arm"]["tbp_lv_x"]


@needs_real
def test_categories_and_licences_are_real_ones(train):
    real = pl.read_csv(REAL / "train-metadata-50.csv", infer_schema_length=None)
    licence = dict(real.select("attribution", "copyright_license").unique().iter_rows())
    pairs = train.select("attribution", "copyright_license").unique()
    assert set(pairs["attribution"]) == set(licence)
    for attribution, lic in pairs.iter_rows():
        assert licence[attribution] == lic
    for column, levels in schema.CATEGORY_LEVELS.items():
        assert set(train[column].drop_nulls()) <= set(levels), column


def test_train_only_columns_agree_with_the_label(train):
    mal = train.filter(pl.col("target") == 1)
    ben = train.filter(pl.col("target") == 0)
    assert (mal["iddx_1"] == "Malignant").all()
    assert mal["iddx_full"].str.starts_with("Malignant::").all()
    assert mal["iddx_2"].null_count() == 0
    assert set(ben["iddx_1"]) <= {"Benign", "Indeterminate"}
    assert (ben["iddx_full"] == "Benign").mean() > 0.99
    joined = train.select(
        pl.concat_str([f"iddx_{i}" for i in range(1, 6)], separator="::", ignore_nulls=True)
    )
    assert joined.to_series().equals(train["iddx_full"], check_names=False)
    assert train["iddx_5"].null_count() == train.height
    assert ben["mel_thick_mm"].null_count() == ben.height
    assert ben["mel_mitotic_index"].null_count() == ben.height
    melanoma = mal.filter(pl.col("mel_thick_mm").is_not_null())["iddx_2"]
    assert melanoma.str.contains("Melanoma").all()
    conf = train["tbp_lv_dnn_lesion_confidence"]
    assert conf.min() >= 0 and conf.max() <= 100


def test_same_seed_same_bytes_different_seed_different(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        train, test = synthetic.generate(5_000, 1_000, seed=seed)
        synthetic.write_kaggle_layout(train, test, tmp_path / name)
    files = ("train-metadata.csv", "test-metadata.csv", "sample_submission.csv")
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c" / files[0]).read_bytes()


def test_free_direction_moves_only_malignant_lesions_by_the_asked_distance():
    plain, _ = synthetic.generate(20_000, 0, seed=5, malignant_rate=0.01)
    moved, _ = synthetic.generate(20_000, 0, seed=5, malignant_rate=0.01, free_direction_sd=3.0)
    malignant = plain["target"] == 1
    assert plain.filter(~malignant).equals(moved.filter(~malignant))
    untouched = ["tbp_lv_Lext", "tbp_lv_deltaL", "tbp_lv_x", "tbp_lv_nevi_confidence", "age_approx"]
    assert plain.select(untouched).equals(moved.select(untouched))
    # The five channels, each in units of its per-lesion noise, from the written columns alone,
    # on the rows where no clipping and no zeroed colour variation hides the move.
    a, b = plain.filter(malignant), moved.filter(malignant)
    clear = pl.all_horizontal(f["tbp_lv_color_std_mean"] > 0 for f in (a, b)) & pl.all_horizontal(
        f["tbp_lv_norm_border"].is_between(0.82, 9.9) for f in (a, b)
    )
    a, b = a.filter(clear), b.filter(clear)
    logs = {"tbp_lv_minorAxisMM": 0.25, "tbp_lv_norm_border": 0.42, "tbp_lv_color_std_mean": 0.55}
    shifts = {"tbp_lv_deltaA": 1.8, "tbp_lv_deltaB": 1.6}
    steps = np.column_stack(
        [np.log(b[c].to_numpy() / a[c].to_numpy()) / sd for c, sd in logs.items()]
        + [(b[c] - a[c]).to_numpy() / sd for c, sd in shifts.items()]
    )
    assert len(steps) > 100
    np.testing.assert_allclose(np.linalg.norm(steps, axis=1), 3.0, atol=1e-3)
    assert ((steps > 0).mean(axis=0) > 0.3).all() and ((steps < 0).mean(axis=0) > 0.3).all()


def test_cli_writes_the_kaggle_layout(tmp_path):
    out = tmp_path / "data"
    assert make_synthetic.main(["--out", str(out), "--rows", "3000", "--test-rows", "500"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "sample_submission.csv",
        "test-metadata.csv",
        "train-metadata.csv",
    ]
    train = pl.read_csv(out / "train-metadata.csv", schema=schema.train_schema())
    test = pl.read_csv(out / "test-metadata.csv", schema=schema.test_schema())
    sample = pl.read_csv(out / "sample_submission.csv")
    assert train.height == 3000 and test.height == 500
    assert sample.columns == ["isic_id", "target"]
    assert sample["isic_id"].equals(test["isic_id"]) and (sample["target"] == 0.3).all()
    first = (out / "train-metadata.csv").read_text().splitlines()[1].split(",")
    assert re.fullmatch(r"\d+\.0|", first[3])  # age_approx reads like 45.0
    assert train["sex"].null_count() > 0 or train.height < 100


@pytest.mark.parametrize(
    "argv",
    [
        ["--rows", "0"],
        ["--test-rows", "-1"],
        ["--free-direction-sd", "-1"],
        ["--free-direction-sd", "nan"],
    ],
)
def test_cli_rejects_bad_sizes(tmp_path, argv):
    with pytest.raises(UserError, match="--"):
        make_synthetic.main(["--out", str(tmp_path), *argv])
    assert not any(tmp_path.iterdir())
