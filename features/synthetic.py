"""The embedded default: a SLICE-3D-shaped generator calibrated to real summary statistics.

Every lesion carries a latent atypia `u` (benign about N(0, 1/D), malignant about N(1, 1/D)).
Each malignancy-related measurement moves with `u` on top of a patient baseline (skin colour,
typical nevus size, contrast and colour) and independent noise, so a lesion is suspicious
partly in absolute terms and partly by how it stands out from its own patient's lesions (the
"ugly duckling"). Benign lesions with high atypia are the look-alikes.

Two effects of real TBP data shape what "standing out" means:
- A patient's benign lesions are not all nevi: seborrhoeic keratoses and solar lentigines are
  larger, lighter, yellower and not nevus-like, grow more common with age and sit mostly on
  sun-exposed sites. Each patient has their own share of them and their own look for them.
- The tile type is a property of the patient's TBP machine (the real rows: white tiles come
  from Memorial Sloan Kettering), and white-light tiles read far lighter, less yellow and
  less nevus-like than cross-polarised (XP) ones.

Priors on which rows are malignant follow the real site, hospital and age effects. Only summary
numbers of the real data (medians, rates, counts, level names) live here as constants; no real
row does.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import polars as pl

from features import schema

EMBEDDED_TRAIN_ROWS = 120_000
EMBEDDED_TEST_ROWS = 10_000
DEFAULT_MALIGNANT_RATE = 0.001


def generate(
    train_rows: int,
    test_rows: int,
    seed: int,
    malignant_rate: float = DEFAULT_MALIGNANT_RATE,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A train frame (TRAIN_COLUMN_NAMES, train_schema()) with exactly
    round(malignant_rate * train_rows) malignant rows, and a test frame (TEST_COLUMN_NAMES,
    test_schema()) from other patients; test_rows may be 0."""
    if train_rows < 1 or test_rows < 0:
        raise ValueError(
            f"train_rows must be >= 1 and test_rows >= 0, got {train_rows}, {test_rows}"
        )
    if not 0.0 <= malignant_rate <= 1.0:
        raise ValueError(f"malignant_rate must lie in [0, 1], got {malignant_rate}")
    rng = np.random.default_rng(seed)
    n_train_patients = _n_patients(train_rows)
    n_test_patients = _n_patients(test_rows) if test_rows else 0
    counts = np.concatenate(
        [
            _lesion_counts(rng, train_rows, n_train_patients),
            _lesion_counts(rng, test_rows, n_test_patients),
        ]
    )
    pidx = np.repeat(np.arange(counts.size), counts)
    patients = _patients(rng, counts.size)
    rows = _locations(rng, pidx.size)
    malignant = np.zeros(pidx.size, dtype=bool)
    for lo, hi, lo_p, hi_p in (
        (0, train_rows, 0, n_train_patients),
        (train_rows, train_rows + test_rows, n_train_patients, counts.size),
    ):
        n_mal = round(malignant_rate * (hi - lo))
        if n_mal:
            malignant[lo:hi] = _pick_malignant(
                rng, n_mal, pidx[lo:hi] - lo_p, counts[lo_p:hi_p], patients, lo_p, rows, lo, hi
            )
    frame = _measurements(rng, pidx, patients, rows, malignant)
    frame = frame.with_columns(
        isic_id=_ids(rng, "ISIC_", pidx.size),
        patient_id=pl.Series(_ids(rng, "IP_", counts.size)).gather(pidx),
        target=pl.Series(malignant.astype(np.int8)),
    )
    frame = frame.with_columns(_train_only(rng, malignant, frame["u"].to_numpy()))
    train = frame.slice(0, train_rows).select(schema.TRAIN_COLUMN_NAMES).cast(schema.train_schema())
    test = frame.slice(train_rows).select(schema.TEST_COLUMN_NAMES).cast(schema.test_schema())
    return train, test


def embedded(seed: int = 42) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The default data set: EMBEDDED_TRAIN_ROWS train and EMBEDDED_TEST_ROWS test rows."""
    return generate(EMBEDDED_TRAIN_ROWS, EMBEDDED_TEST_ROWS, seed)


def write_kaggle_layout(train: pl.DataFrame, test: pl.DataFrame, out_dir: Path) -> None:
    """Write train-metadata.csv, test-metadata.csv and sample_submission.csv (target 0.3) into
    out_dir, each to a temporary name first and then renamed into place."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sample = test.select("isic_id", target=pl.lit(0.3))
    for name, frame in (
        ("train-metadata.csv", train),
        ("test-metadata.csv", test),
        ("sample_submission.csv", sample),
    ):
        final = out_dir / name
        tmp = out_dir / f".{name}.{os.getpid()}.tmp"
        try:
            frame.write_csv(tmp, null_value="")
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)


# --- calibration constants (summary facts of the real training file) -------------------------

_LESIONS_MEDIAN, _LESIONS_MEAN = 241.0, 385.0
_LESIONS_SIGMA = float(np.sqrt(2 * np.log(_LESIONS_MEAN / _LESIONS_MEDIAN)))
_A = schema.ATTRIBUTION_LEVELS
# attribution: (rows in the real train file, malignant rows, licence)
_HOSPITALS = {
    _A[4]: (129_068, 174, "CC-BY"),  # Memorial Sloan Kettering
    _A[1]: (105_724, 72, "CC-BY-NC"),  # Hospital Clínic de Barcelona
    _A[5]: (65_218, 13, "CC-BY-NC"),  # University Hospital of Basel
    _A[3]: (51_768, 81, "CC-BY"),  # Frazer Institute, Queensland
    _A[0]: (28_665, 33, "CC-0"),  # ACEMID MIA
    _A[6]: (12_640, 14, "CC-BY-NC"),  # ViDIR Vienna
    _A[2]: (7_976, 6, "CC-BY"),  # University of Athens
}
# Hospitals calibrate their cameras differently: a small lightness offset each.
_HOSPITAL_L_SHIFT = np.array([0.0, 2.0, -2.5, 1.5, -1.0, 3.0, -2.0])
# Share of each hospital's patients imaged with white-light tiles: in the 50 real train rows
# 20 of 21 Memorial Sloan Kettering rows are "3D: white" and all 29 others "3D: XP", which
# makes about 28 % of rows white, as in the full file.
_HOSPITAL_WHITE = np.array([0.9 if name == _A[4] else 0.0 for name in _HOSPITALS])
# White minus XP tiles, medians of the 50 real rows (both classes agree in sign): the skin reads
# about 17 L* lighter, 2 a* redder and 5 b* less yellow, and the nevus classifier gives white
# tiles a confidence near 0 (median 0.2 against 13 for XP benign rows).
_WHITE_SHIFT = {"Lext": 17.0, "Aext": 2.0, "Bext": -5.0, "nevi_logit": -4.0}
# location: (simple, site or None, rows, centroid x, y, z, spread x, y, z)
_LOCATIONS = {
    "Head & Neck": ("Head & Neck", "head/neck", 12_046, 0, 1560, 20, 70, 90, 70),
    "Left Arm - Upper": ("Left Arm", "upper extremity", 22_816, -250, 1300, 50, 60, 90, 60),
    "Right Arm - Upper": ("Right Arm", "upper extremity", 22_972, 250, 1300, 50, 60, 90, 60),
    "Left Arm - Lower": ("Left Arm", "upper extremity", 12_478, -330, 1050, 30, 80, 110, 60),
    "Right Arm - Lower": ("Right Arm", "upper extremity", 12_191, 330, 1050, 30, 80, 110, 60),
    "Left Arm": ("Left Arm", "upper extremity", 50, -300, 1150, 40, 80, 150, 60),
    "Right Arm": ("Right Arm", "upper extremity", 50, 300, 1150, 40, 80, 150, 60),
    "Left Leg - Upper": ("Left Leg", "lower extremity", 23_673, -130, 750, 40, 70, 90, 70),
    "Right Leg - Upper": ("Right Leg", "lower extremity", 23_034, 130, 750, 40, 70, 90, 70),
    "Left Leg - Lower": ("Left Leg", "lower extremity", 27_428, -150, 330, 60, 70, 130, 60),
    "Right Leg - Lower": ("Right Leg", "lower extremity", 25_208, 150, 330, 60, 70, 130, 60),
    "Left Leg": ("Left Leg", "lower extremity", 1_974, -140, 550, 50, 80, 200, 60),
    "Right Leg": ("Right Leg", "lower extremity", 1_711, 140, 550, 50, 80, 200, 60),
    "Torso Back Top Third": ("Torso Back", "posterior torso", 71_112, 0, 1380, 160, 110, 80, 50),
    "Torso Back Middle Third": ("Torso Back", "posterior torso", 46_185, 0, 1100, 140, 110, 70, 50),
    "Torso Back Bottom Third": ("Torso Back", "posterior torso", 4_579, 0, 900, 130, 110, 60, 50),
    "Torso Back": ("Torso Back", "posterior torso", 26, 0, 1200, 150, 110, 150, 50),
    "Torso Front Top Half": ("Torso Front", "anterior torso", 63_350, 0, 1330, -30, 120, 90, 60),
    "Torso Front Bottom Half": ("Torso Front", "anterior torso", 24_360, 0, 1000, -20, 120, 80, 60),
    "Torso Front": ("Torso Front", "anterior torso", 60, 0, 1200, -30, 120, 150, 60),
    "Unknown": ("Unknown", None, 5_756, 0, 1100, 50, 200, 400, 100),
}
# Malignant share of rows by anatom_site_general (missing site: the overall rate).
_SITE_MALIGNANT_RATE = {
    "head/neck": 0.00648,
    "anterior torso": 0.00093,
    "posterior torso": 0.00084,
    "upper extremity": 0.00081,
    "lower extremity": 0.00071,
    None: 0.00098,
}
# Malignant lesions per malignant patient: 1 for 193 patients, 2 for 35, ... up to 14.
_MALIGNANT_PER_PATIENT = {1: 193, 2: 35, 3: 18, 4: 6, 5: 2, 6: 1, 7: 1, 8: 1, 10: 1, 14: 1}
_MISSING = {"sex": 0.0287, "anatom_site_general": 0.0144, "age_approx": 0.0070}
# Seborrhoeic keratoses and solar lentigines among the benign lesions: a patient's share grows
# with age (logit per year) and is higher on sun-exposed sites (odds ratios).
_KERATOSIS_SHARE, _KERATOSIS_AGE, _KERATOSIS_PATIENT_SD = 0.2, 0.05, 0.7
_KERATOSIS_SITE_ODDS = {
    "head/neck": 2.0,
    "upper extremity": 1.5,
    "posterior torso": 1.0,
    "anterior torso": 0.8,
    "lower extremity": 0.6,
    None: 1.0,
}
_KERATOSIS_NEVI_LOGIT = -3.5  # not nevi: the nevus classifier says so
_NEVI_LOGIT = -0.3  # XP nevi: sets the benign median of tbp_lv_nevi_confidence
_BENIGN_LESION_ID = 0.06
# Separation of the latent atypia between the classes, in benign standard deviations; it sets
# how hard the task is (tuned so that a plain GBDT reaches a pAUC near 0.15).
_ATYPIA_D = 2.8
_TINY_MALIGNANT = 0.07  # small early cancers, the opposite of the ugly duckling
_BCC = "Malignant::Malignant adnexal epithelial proliferations - Follicular::Basal cell carcinoma"
_SCC = "Malignant::Malignant epidermal proliferations::Squamous cell carcinoma"
_MEL = "Malignant::Malignant melanocytic proliferations (Melanoma)::Melanoma"
_DIAGNOSES = (
    # (iddx_full, weight, melanoma kind: 0 none, 1 in situ, 2 invasive)
    (_BCC, 12, 0),
    (f"{_BCC}::Basal cell carcinoma, Nodular", 18, 0),
    (f"{_BCC}::Basal cell carcinoma, Superficial", 12, 0),
    (f"{_BCC}::Basal cell carcinoma, Infiltrating", 3, 0),
    (f"{_SCC} in situ", 12, 0),
    (f"{_SCC}, Invasive", 6, 0),
    (f"{_SCC}, Invasive::Squamous cell carcinoma, Invasive, Keratoacanthoma-type", 2, 0),
    (f"{_MEL} in situ", 12, 1),
    (f"{_MEL} in situ::Melanoma in situ, Lentigo maligna type", 3, 1),
    (f"{_MEL} Invasive", 8, 2),
    (f"{_MEL} Invasive::Melanoma Invasive, Superficial spreading", 5, 2),
    (f"{_MEL} Invasive::Melanoma Invasive, Associated with a nevus", 3, 2),
)
_BENIGN_DETAILED = (
    "Benign::Benign melanocytic proliferations::Nevus",
    "Benign::Benign melanocytic proliferations::Nevus::Nevus, Junctional",
    "Benign::Benign epidermal proliferations::Seborrheic keratosis",
    "Benign::Benign epidermal proliferations::Solar or actinic keratosis",
    "Indeterminate::Indeterminate melanocytic proliferations::Atypical melanocytic neoplasm",
)
_MITOTIC = ("0/mm^2", "<1/mm^2", "1/mm^2", "2/mm^2", "3/mm^2", ">4/mm^2")


# --- structure: patients, locations, which rows are malignant --------------------------------


def _n_patients(rows: int) -> int:
    return max(1, round(rows / _LESIONS_MEAN))


def _lesion_counts(rng: np.random.Generator, rows: int, n_patients: int) -> np.ndarray:
    if n_patients == 0:
        return np.zeros(0, dtype=np.int64)
    weights = rng.lognormal(np.log(_LESIONS_MEDIAN), _LESIONS_SIGMA, n_patients)
    return 1 + rng.multinomial(rows - n_patients, weights / weights.sum())


def _patients(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    hospital_rows = np.array([v[0] for v in _HOSPITALS.values()], dtype=float)
    hospital = rng.choice(len(_HOSPITALS), n, p=hospital_rows / hospital_rows.sum())
    age = np.clip(np.round(rng.normal(58.0, 13.5, n) / 5) * 5, 15, 85)
    keratosis_logit = (
        np.log(_KERATOSIS_SHARE / (1 - _KERATOSIS_SHARE))
        + _KERATOSIS_AGE * (age - 58.0)
        + _KERATOSIS_PATIENT_SD * rng.standard_normal(n)
    )
    return {
        "hospital": hospital,
        "white": rng.random(n) < _HOSPITAL_WHITE[hospital],
        "age": age,
        "male": rng.random(n) < 0.62,
        # baselines that make one patient's lesions resemble each other (XP tiles; white
        # tiles add _WHITE_SHIFT)
        "Lext": np.clip(rng.normal(46.6, 8.0, n), 20, 85),
        "Aext": rng.normal(14.0, 2.65, n),
        "Bext": rng.normal(28.3, 2.8, n),
        "size": rng.normal(0.0, 0.22, n),
        "contrast": rng.normal(0.0, 0.28, n),
        "dA": rng.normal(4.6, 1.4, n),
        "dB": rng.normal(1.35, 1.2, n),
        "variation": rng.normal(0.0, 0.2, n),
        "stdLExt": rng.normal(0.0, 0.18, n),
        "nevi": rng.normal(0.0, 1.2, n),
        "height": rng.normal(1.0, 0.05, n),
        # the patient's keratoses: how many, and how they look next to the patient's nevi
        "keratosis_logit": keratosis_logit,
        "k_size": rng.normal(0.25, 0.1, n),
        "k_light": rng.normal(0.35, 0.12, n),
        "k_yellow": rng.normal(1.8, 0.6, n),
    }


def _locations(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    weight = np.array([v[2] for v in _LOCATIONS.values()], dtype=float)
    return {"location": rng.choice(len(_LOCATIONS), n, p=weight / weight.sum())}


def _pick_malignant(rng, n_mal, pidx, counts, patients, lo_p, rows, lo, hi) -> np.ndarray:
    """Exactly n_mal malignant rows among rows lo..hi: patients weighted by hospital rate, age
    and lesion count; lesions within a patient weighted by the site's malignant rate."""
    ks = np.array(list(_MALIGNANT_PER_PATIENT))
    kp = np.array(list(_MALIGNANT_PER_PATIENT.values()), dtype=float)
    draws = rng.choice(ks, n_mal, p=kp / kp.sum())
    draws = draws[: np.searchsorted(np.cumsum(draws), n_mal) + 1]
    draws[-1] -= draws.sum() - n_mal
    hospital_rate = np.array([m / r for r, m, _ in _HOSPITALS.values()])
    hosp = patients["hospital"][lo_p : lo_p + counts.size]
    age = patients["age"][lo_p : lo_p + counts.size]
    score = np.log(hospital_rate[hosp] * counts * np.exp(0.03 * (age - 58))) + rng.gumbel(
        size=counts.size
    )
    order = np.argsort(-score, kind="stable")
    per_patient = np.zeros(counts.size, dtype=np.int64)
    first = order[: draws.size]
    per_patient[first] = np.minimum(draws[: first.size], counts[first])
    # patients too small for their draw: the rest go one each to the next patients in line
    extra = order[draws.size : draws.size + n_mal - per_patient.sum()]
    per_patient[extra] = 1
    short = n_mal - per_patient.sum()
    for p in order:  # only tiny data sets get here with short > 0
        if short <= 0:
            break
        take = min(short, counts[p] - per_patient[p])
        per_patient[p] += take
        short -= take
    site_rate = np.array([_SITE_MALIGNANT_RATE[v[1]] for v in _LOCATIONS.values()])
    key = np.log(site_rate[rows["location"][lo:hi]]) + rng.gumbel(size=hi - lo)
    order_rows = np.lexsort((-key, pidx))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.empty(hi - lo, dtype=np.int64)
    pos[order_rows] = np.arange(hi - lo) - starts[pidx[order_rows]]
    return pos < per_patient[pidx]


# --- measurements ------------------------------------------------------------------------------


def _measurements(rng, pidx, patients, rows, malignant) -> pl.DataFrame:
    n = pidx.size
    per = {k: v[pidx] for k, v in patients.items()}
    loc = rows["location"]
    loc_names = np.array(list(_LOCATIONS), dtype=object)
    table = np.array([v[3:] for v in _LOCATIONS.values()], dtype=float)
    site_of_loc = np.array([v[1] for v in _LOCATIONS.values()], dtype=object)
    head = site_of_loc[loc] == "head/neck"
    known_site = np.array([v[1] is not None for v in _LOCATIONS.values()])[loc]
    n_mal = int(malignant.sum())

    # latent atypia: benign N(0, 1/D), malignant N(1, 1/D) with a few tiny early cancers
    u = rng.normal(0.0, 1.0, n) / _ATYPIA_D
    u[malignant] += 1.0
    size_u = u.copy()
    size_u[malignant] -= (rng.random(n_mal) < _TINY_MALIGNANT) * 2.6

    def z() -> np.ndarray:
        return rng.standard_normal(n)

    # benign keratoses and lentigines, more of them on sun-exposed sites
    site_odds = np.array([_KERATOSIS_SITE_ODDS[v[1]] for v in _LOCATIONS.values()])[loc]
    k_logit = per["keratosis_logit"] + np.log(site_odds)
    keratosis = ~malignant & (rng.random(n) < 1.0 / (1.0 + np.exp(-k_logit)))

    # shape and size: a patient's typical nevus size, a right-skewed spread around it
    site_size = np.where(head, -0.15, 0.0) + np.where(
        site_of_loc[loc] == "posterior torso", 0.05, 0
    )
    log_minor = (
        np.log(1.78)
        + per["size"]
        + site_size
        + 0.16 * z()
        + rng.exponential(0.14, n)
        + 0.56 * size_u
        + keratosis * per["k_size"]
    )
    minor = np.exp(log_minor)
    ratio = 1.0 + np.exp(np.log(0.577) + 0.55 * z() - 0.1 * u)
    major = minor * ratio
    eccentricity = np.sqrt(1.0 - 1.0 / ratio**2)
    diameter = np.maximum(np.round(major * np.exp(0.06 * z()), 2), 1.0)
    area = np.pi / 4 * major * minor * np.exp(0.08 * z())
    border = np.clip(np.exp(np.log(2.95) + 0.42 * z() + 0.12 * u + 0.1 * keratosis), 0.81, 10.0)
    a_, b_ = major / 2, minor / 2
    ellipse = np.pi * (3 * (a_ + b_) - np.sqrt((3 * a_ + b_) * (a_ + 3 * b_)))
    perimeter = ellipse * (1.0 + 0.04 * border) * np.exp(0.03 * z() + 0.06 * u)
    symm = np.clip(np.exp(np.log(0.28) + 0.36 * z() + 0.08 * u), 0.05, 0.8)
    angle = rng.integers(0, 36, n) * 5.0

    # colour variation inside the lesion: zero for small uniform lesions
    variation = np.exp(np.log(0.9) + per["variation"] + 0.55 * z() + 0.5 * u + 0.25 * keratosis)
    variation[rng.random(n) < np.where(minor < 1.5, 0.35, 0.06)] = 0.0
    radial = variation * np.exp(-0.03 + 0.15 * z())
    norm_color = np.minimum(variation * 2.95 * np.exp(0.2 * z()), 10.0)
    std_l = np.exp(np.log(2.15) + 0.2 * per["variation"] + 0.5 * z() + 0.22 * u)
    std_lext = np.exp(np.log(2.12) + per["stdLExt"] + 0.15 * z() + 0.17 * u)

    # skin around the lesion (patient baseline, tile lighting, site, hospital) and the
    # lesion's contrast: keratoses are lighter and yellower than the patient's nevi
    hospital, white = per["hospital"], per["white"]
    l_ext = per["Lext"] + _HOSPITAL_L_SHIFT[hospital] + _WHITE_SHIFT["Lext"] * white
    l_ext = np.clip(l_ext - 2.0 * head + 3.5 * z(), 15, 90)
    a_ext = per["Aext"] + _WHITE_SHIFT["Aext"] * white + 3.0 * head + 1.5 * z() + 1.6 * u
    b_ext = per["Bext"] + _WHITE_SHIFT["Bext"] * white + 1.8 * z() - 1.4 * u
    contrast = per["contrast"] - keratosis * per["k_light"]
    delta_l = -(2.6 + np.exp(np.log(5.7) + contrast + 0.42 * z() + 0.2 * u))
    delta_a = per["dA"] + 1.8 * z() + 0.4 * u
    delta_b = per["dB"] + keratosis * per["k_yellow"] + 1.6 * z() - 2.3 * u
    l_ = np.clip(l_ext + delta_l, 3.0, 95.0)
    delta_l = l_ - l_ext
    a_les, b_les = a_ext + delta_a, b_ext + delta_b
    delta_lb = np.hypot(delta_l, delta_b) * (1.0 + np.abs(0.02 * z()))
    delta_lb_norm = np.maximum(delta_lb * np.exp(np.log(0.8) + 0.15 * z()), 3.0)
    nevi_logit = _NEVI_LOGIT + per["nevi"] + 5.0 * z() - 3.6 * u
    nevi_logit += _WHITE_SHIFT["nevi_logit"] * white + _KERATOSIS_NEVI_LOGIT * keratosis
    nevi = 100.0 / (1.0 + np.exp(-nevi_logit))
    xyz = table[loc, :3] + table[loc, 3:] * rng.standard_normal((n, 3))
    xyz[:, 1] *= per["height"]

    def r6(x: np.ndarray) -> np.ndarray:
        return np.round(x, 6)

    a_les, b_les, l_ = r6(a_les), r6(b_les), r6(l_)
    a_ext, b_ext, l_ext = r6(a_ext), r6(b_ext), r6(l_ext)
    area, perimeter = r6(area), r6(perimeter)
    age = np.where(rng.random(n) < _MISSING["age_approx"], np.nan, per["age"])
    sex = per["male"].astype(np.int64)
    sex[rng.random(n) < _MISSING["sex"]] = -1
    return pl.DataFrame(
        {
            "age_approx": pl.Series(age, nan_to_null=True),
            "sex": _strings(schema.SEX_LEVELS, sex),
            "anatom_site_general": _strings(
                [v[1] or "" for v in _LOCATIONS.values()], np.where(head | known_site, loc, -1)
            ),
            "clin_size_long_diam_mm": diameter,
            "image_type": pl.repeat(schema.IMAGE_TYPE, n, eager=True),
            "tbp_tile_type": np.where(white, "3D: white", "3D: XP"),
            "tbp_lv_A": a_les,
            "tbp_lv_Aext": a_ext,
            "tbp_lv_B": b_les,
            "tbp_lv_Bext": b_ext,
            "tbp_lv_C": r6(np.hypot(a_les, b_les)),
            "tbp_lv_Cext": r6(np.hypot(a_ext, b_ext)),
            "tbp_lv_H": r6(np.degrees(np.arctan2(b_les, a_les))),
            "tbp_lv_Hext": r6(np.degrees(np.arctan2(b_ext, a_ext))),
            "tbp_lv_L": l_,
            "tbp_lv_Lext": l_ext,
            "tbp_lv_areaMM2": area,
            "tbp_lv_area_perim_ratio": r6(perimeter**2 / area),
            "tbp_lv_color_std_mean": r6(variation),
            "tbp_lv_deltaA": r6(a_les - a_ext),
            "tbp_lv_deltaB": r6(b_les - b_ext),
            "tbp_lv_deltaL": r6(l_ - l_ext),
            "tbp_lv_deltaLB": r6(delta_lb),
            "tbp_lv_deltaLBnorm": r6(delta_lb_norm),
            "tbp_lv_eccentricity": r6(eccentricity),
            "tbp_lv_location": loc_names[loc].astype(str),
            "tbp_lv_location_simple": np.array([v[0] for v in _LOCATIONS.values()])[loc],
            "tbp_lv_minorAxisMM": r6(minor),
            "tbp_lv_nevi_confidence": nevi,
            "tbp_lv_norm_border": r6(border),
            "tbp_lv_norm_color": r6(norm_color),
            "tbp_lv_perimeterMM": perimeter,
            "tbp_lv_radial_color_std_max": r6(radial),
            "tbp_lv_stdL": r6(std_l),
            "tbp_lv_stdLExt": r6(std_lext),
            "tbp_lv_symm_2axis": r6(symm),
            "tbp_lv_symm_2axis_angle": angle,
            "tbp_lv_x": r6(xyz[:, 0]),
            "tbp_lv_y": r6(xyz[:, 1]),
            "tbp_lv_z": r6(xyz[:, 2]),
            "attribution": np.array(list(_HOSPITALS))[hospital],
            "copyright_license": np.array([v[2] for v in _HOSPITALS.values()])[hospital],
            "u": u,
        }
    )


def _ids(rng: np.random.Generator, prefix: str, n: int) -> pl.Series:
    """n unique ids: prefix + 7 digits."""
    if n > 10_000_000:
        raise ValueError(f"cannot draw {n} unique 7-digit ids")
    digits = rng.choice(10_000_000, n, replace=False)
    return pl.select(pl.lit(prefix) + pl.Series(digits).cast(pl.String).str.zfill(7)).to_series()


def _strings(levels, codes: np.ndarray) -> pl.Series:
    """levels[codes] as a String series; a negative code is a missing value."""
    idx = pl.Series(codes, dtype=pl.Int64)
    return pl.Series(list(levels), dtype=pl.String).gather(idx.set(idx < 0, None))


def _train_only(rng, malignant: np.ndarray, u: np.ndarray) -> list[pl.Series]:
    n = malignant.size
    n_mal = int(malignant.sum())
    # biopsied or followed-up benign lesions (lesion_id set) lean towards the atypical ones
    lean = np.where(malignant, 0.0, np.exp(1.5 * u))
    benign_id = ~malignant & (rng.random(n) < _BENIGN_LESION_ID * lean / lean[~malignant].mean())
    lesion = pl.Series([None] * n, dtype=pl.String)
    has_id = malignant | benign_id
    ids = _ids(rng, "IL_", int(has_id.sum()))
    lesion = lesion.scatter(np.flatnonzero(has_id), ids)

    levels = ("Benign", *_BENIGN_DETAILED, *(d[0] for d in _DIAGNOSES))
    full = np.zeros(n, dtype=np.int64)
    detailed = benign_id & (rng.random(n) < 0.1)
    full[detailed] = 1 + rng.choice(len(_BENIGN_DETAILED), int(detailed.sum()))
    weights = np.array([d[1] for d in _DIAGNOSES], dtype=float)
    pick = rng.choice(len(_DIAGNOSES), n_mal, p=weights / weights.sum())
    full[malignant] = 1 + len(_BENIGN_DETAILED) + pick
    kind = np.zeros(n, dtype=np.int8)
    kind[malignant] = np.array([d[2] for d in _DIAGNOSES])[pick]

    thick = np.full(n, np.nan)
    has_thick = (kind == 2) & (rng.random(n) < 0.9) | (kind == 1) & (rng.random(n) < 0.1)
    thick[has_thick] = np.clip(
        np.round(np.exp(np.log(0.4) + 0.6 * rng.standard_normal(int(has_thick.sum()))) / 0.05)
        * 0.05,
        0.1,
        5.0,
    )
    mitotic = np.full(n, -1)
    has_mitotic = (kind == 2) & (rng.random(n) < 0.45)
    mitotic[has_mitotic] = rng.choice(
        len(_MITOTIC), int(has_mitotic.sum()), p=[0.55, 0.2, 0.12, 0.06, 0.04, 0.03]
    )
    dnn_logit = np.where(
        malignant, 5.7 + 7.0 * rng.standard_normal(n), 9.9 + 5.1 * rng.standard_normal(n)
    )
    dnn = 100.0 / (1.0 + np.exp(-dnn_logit))

    parts = _strings(levels, full).str.split("::")
    out = [
        lesion.alias("lesion_id"),
        parts.list.join("::").alias("iddx_full"),
        *(parts.list.get(i, null_on_oob=True).alias(f"iddx_{i + 1}") for i in range(5)),
        _strings(_MITOTIC, mitotic).alias("mel_mitotic_index"),
        pl.Series("mel_thick_mm", thick, nan_to_null=True),
        pl.Series("tbp_lv_dnn_lesion_confidence", dnn),
    ]
    return out
