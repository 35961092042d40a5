"""The measurement columns of each lesion: shape, size, colour, the skin around it and its
3D position, driven by the lesion's latent atypia on top of its patient's baseline."""

from __future__ import annotations

import numpy as np
import polars as pl

from features import schema
from features.synthetic import facts, series

# The per-lesion noise of each channel that `free_direction` moves (log minor axis, log border
# irregularity, log colour variation, delta a*, delta b*): about its within-patient SD.
_FREE_CHANNEL_SD = np.array([0.25, 0.42, 0.55, 1.8, 1.6])


def measurements(
    rng: np.random.Generator,
    pidx: np.ndarray,
    patients: dict[str, np.ndarray],
    rows: dict[str, np.ndarray],
    malignant: np.ndarray,
    free_direction_sd: float = 0.0,
) -> pl.DataFrame:
    """One row per lesion (`pidx`: its patient): the measurement and categorical columns of the
    test schema, and the latent atypia `u` that the train-only columns follow.

    `free_direction_sd` > 0 is for experiments: each malignant lesion also moves that many
    within-patient SDs in a random direction of five colour and shape channels (see
    `free_direction`); 0 leaves the calibrated data as it is, byte for byte."""
    n = pidx.size
    per = {k: v[pidx] for k, v in patients.items()}
    loc = rows["location"]
    loc_names = np.array(list(facts.LOCATIONS), dtype=object)
    table = np.array([v[3:] for v in facts.LOCATIONS.values()], dtype=float)
    site_of_loc = np.array([v[1] for v in facts.LOCATIONS.values()], dtype=object)
    head = site_of_loc[loc] == "head/neck"
    known_site = np.array([v[1] is not None for v in facts.LOCATIONS.values()])[loc]
    n_mal = int(malignant.sum())

    # latent atypia: benign N(0, 1/D), malignant N(1, 1/D) with a few tiny early cancers
    u = rng.normal(0.0, 1.0, n) / facts.ATYPIA_D
    u[malignant] += 1.0
    size_u = u.copy()
    size_u[malignant] -= (rng.random(n_mal) < facts.TINY_MALIGNANT) * 2.6

    free = free_direction(rng, malignant, free_direction_sd)

    def z() -> np.ndarray:
        return rng.standard_normal(n)

    # benign keratoses and lentigines, more of them on sun-exposed sites
    site_odds = np.array([facts.KERATOSIS_SITE_ODDS[v[1]] for v in facts.LOCATIONS.values()])[loc]
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
        + free[:, 0]
    )
    minor = np.exp(log_minor)
    ratio = 1.0 + np.exp(np.log(0.577) + 0.55 * z() - 0.1 * u)
    major = minor * ratio
    eccentricity = np.sqrt(1.0 - 1.0 / ratio**2)
    diameter = np.maximum(np.round(major * np.exp(0.06 * z()), 2), 1.0)
    area = np.pi / 4 * major * minor * np.exp(0.08 * z())
    border = np.clip(
        np.exp(np.log(2.95) + 0.42 * z() + 0.12 * u + 0.1 * keratosis + free[:, 1]), 0.81, 10.0
    )
    a_, b_ = major / 2, minor / 2
    ellipse = np.pi * (3 * (a_ + b_) - np.sqrt((3 * a_ + b_) * (a_ + 3 * b_)))
    perimeter = ellipse * (1.0 + 0.04 * border) * np.exp(0.03 * z() + 0.06 * u)
    symm = np.clip(np.exp(np.log(0.28) + 0.36 * z() + 0.08 * u), 0.05, 0.8)
    angle = rng.integers(0, 36, n) * 5.0

    # colour variation inside the lesion: zero for small uniform lesions
    variation = np.exp(
        np.log(0.9) + per["variation"] + 0.55 * z() + 0.5 * u + 0.25 * keratosis + free[:, 2]
    )
    variation[rng.random(n) < np.where(minor < 1.5, 0.35, 0.06)] = 0.0
    radial = variation * np.exp(-0.03 + 0.15 * z())
    norm_color = np.minimum(variation * 2.95 * np.exp(0.2 * z()), 10.0)
    std_l = np.exp(np.log(2.15) + 0.2 * per["variation"] + 0.5 * z() + 0.22 * u)
    std_lext = np.exp(np.log(2.12) + per["stdLExt"] + 0.15 * z() + 0.17 * u)

    # skin around the lesion (patient baseline, tile lighting, site, hospital) and the
    # lesion's contrast: keratoses are lighter and yellower than the patient's nevi
    hospital, white = per["hospital"], per["white"]
    l_ext = per["Lext"] + facts.HOSPITAL_L_SHIFT[hospital] + facts.WHITE_SHIFT["Lext"] * white
    l_ext = np.clip(l_ext - 2.0 * head + 3.5 * z(), 15, 90)
    a_ext = per["Aext"] + facts.WHITE_SHIFT["Aext"] * white + 3.0 * head + 1.5 * z() + 1.6 * u
    b_ext = per["Bext"] + facts.WHITE_SHIFT["Bext"] * white + 1.8 * z() - 1.4 * u
    contrast = per["contrast"] - keratosis * per["k_light"]
    delta_l = -(2.6 + np.exp(np.log(5.7) + contrast + 0.42 * z() + 0.2 * u))
    delta_a = per["dA"] + 1.8 * z() + 0.4 * u + free[:, 3]
    delta_b = per["dB"] + keratosis * per["k_yellow"] + 1.6 * z() - 2.3 * u + free[:, 4]
    l_ = np.clip(l_ext + delta_l, 3.0, 95.0)
    delta_l = l_ - l_ext
    a_les, b_les = a_ext + delta_a, b_ext + delta_b
    delta_lb = np.hypot(delta_l, delta_b) * (1.0 + np.abs(0.02 * z()))
    delta_lb_norm = np.maximum(delta_lb * np.exp(np.log(0.8) + 0.15 * z()), 3.0)
    nevi_logit = facts.NEVI_LOGIT + per["nevi"] + 5.0 * z() - 3.6 * u
    nevi_logit += facts.WHITE_SHIFT["nevi_logit"] * white + facts.KERATOSIS_NEVI_LOGIT * keratosis
    nevi = 100.0 / (1.0 + np.exp(-nevi_logit))
    xyz = table[loc, :3] + table[loc, 3:] * rng.standard_normal((n, 3))
    xyz[:, 1] *= per["height"]

    def r6(x: np.ndarray) -> np.ndarray:
        return np.round(x, 6)

    a_les, b_les, l_ = r6(a_les), r6(b_les), r6(l_)
    a_ext, b_ext, l_ext = r6(a_ext), r6(b_ext), r6(l_ext)
    area, perimeter = r6(area), r6(perimeter)
    age = np.where(rng.random(n) < facts.MISSING["age_approx"], np.nan, per["age"])
    sex = per["male"].astype(np.int64)
    sex[rng.random(n) < facts.MISSING["sex"]] = -1
    return pl.DataFrame(
        {
            "age_approx": pl.Series(age, nan_to_null=True),
            "sex": series.strings(schema.SEX_LEVELS, sex),
            "anatom_site_general": series.strings(
                [v[1] or "" for v in facts.LOCATIONS.values()], np.where(head | known_site, loc, -1)
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
            "tbp_lv_location_simple": np.array([v[0] for v in facts.LOCATIONS.values()])[loc],
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
            "attribution": np.array(list(facts.HOSPITALS))[hospital],
            "copyright_license": np.array([v[2] for v in facts.HOSPITALS.values()])[hospital],
            "u": u,
        }
    )


def free_direction(rng: np.random.Generator, malignant: np.ndarray, sd: float) -> np.ndarray:
    """(rows, 5) shifts: zero for benign lesions; for a malignant one a random unit direction
    over the five channels, `sd` within-patient SDs long. Drawn from a child of `rng`, so the
    rest of the data does not change with `sd`."""
    shifts = np.zeros((malignant.size, _FREE_CHANNEL_SD.size))
    if sd > 0:
        direction = rng.spawn(1)[0].standard_normal((int(malignant.sum()), _FREE_CHANNEL_SD.size))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        shifts[malignant] = sd * direction * _FREE_CHANNEL_SD
    return shifts
