"""Who the lesions belong to and where they sit: patients with their baselines, lesion
counts, body locations, and which rows are malignant."""

from __future__ import annotations

import numpy as np

from features.synthetic import facts


def n_patients(rows: int) -> int:
    """Patients for `rows` lesions: more rows means more patients, not bigger ones."""
    return max(1, round(rows / facts.LESIONS_MEAN))


def lesion_counts(rng: np.random.Generator, rows: int, n_patients: int) -> np.ndarray:
    """Lesions of each patient (at least one): lognormal weights with the real median and mean."""
    if n_patients == 0:
        return np.zeros(0, dtype=np.int64)
    weights = rng.lognormal(np.log(facts.LESIONS_MEDIAN), facts.LESIONS_SIGMA, n_patients)
    return 1 + rng.multinomial(rows - n_patients, weights / weights.sum())


def patients(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Each patient's hospital, tile type, age, sex and the baselines their lesions share."""
    hospital_rows = np.array([v[0] for v in facts.HOSPITALS.values()], dtype=float)
    hospital = rng.choice(len(facts.HOSPITALS), n, p=hospital_rows / hospital_rows.sum())
    age = np.clip(np.round(rng.normal(58.0, 13.5, n) / 5) * 5, 15, 85)
    keratosis_logit = (
        np.log(facts.KERATOSIS_SHARE / (1 - facts.KERATOSIS_SHARE))
        + facts.KERATOSIS_AGE * (age - 58.0)
        + facts.KERATOSIS_PATIENT_SD * rng.standard_normal(n)
    )
    return {
        "hospital": hospital,
        "white": rng.random(n) < facts.HOSPITAL_WHITE[hospital],
        "age": age,
        "male": rng.random(n) < 0.62,
        # baselines that make one patient's lesions resemble each other (XP tiles; white
        # tiles add facts.WHITE_SHIFT)
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


def locations(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Each lesion's `tbp_lv_location`, as an index into `facts.LOCATIONS`, by real row shares."""
    weight = np.array([v[2] for v in facts.LOCATIONS.values()], dtype=float)
    return {"location": rng.choice(len(facts.LOCATIONS), n, p=weight / weight.sum())}


def pick_malignant(
    rng: np.random.Generator,
    n_mal: int,
    pidx: np.ndarray,
    counts: np.ndarray,
    patients: dict[str, np.ndarray],
    lo_p: int,
    rows: dict[str, np.ndarray],
    lo: int,
    hi: int,
) -> np.ndarray:
    """Exactly n_mal malignant rows among rows lo..hi: patients weighted by hospital rate, age
    and lesion count; lesions within a patient weighted by the site's malignant rate."""
    ks = np.array(list(facts.MALIGNANT_PER_PATIENT))
    kp = np.array(list(facts.MALIGNANT_PER_PATIENT.values()), dtype=float)
    draws = rng.choice(ks, n_mal, p=kp / kp.sum())
    draws = draws[: np.searchsorted(np.cumsum(draws), n_mal) + 1]
    draws[-1] -= draws.sum() - n_mal
    hospital_rate = np.array([m / r for r, m, _ in facts.HOSPITALS.values()])
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
    site_rate = np.array([facts.SITE_MALIGNANT_RATE[v[1]] for v in facts.LOCATIONS.values()])
    key = np.log(site_rate[rows["location"][lo:hi]]) + rng.gumbel(size=hi - lo)
    order_rows = np.lexsort((-key, pidx))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.empty(hi - lo, dtype=np.int64)
    pos[order_rows] = np.arange(hi - lo) - starts[pidx[order_rows]]
    return pos < per_patient[pidx]
