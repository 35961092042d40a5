"""The train-only columns, consistent with the label: lesion ids, diagnoses, melanoma
thickness and mitotic index, and the TBP classifier's lesion confidence."""

from __future__ import annotations

import numpy as np
import polars as pl

from features.synthetic import facts, series


def columns(rng: np.random.Generator, malignant: np.ndarray, u: np.ndarray) -> list[pl.Series]:
    """The train-only columns of the schema, from each row's label and latent atypia `u`."""
    n = malignant.size
    n_mal = int(malignant.sum())
    # biopsied or followed-up benign lesions (lesion_id set) lean towards the atypical ones
    lean = np.where(malignant, 0.0, np.exp(1.5 * u))
    benign_id = ~malignant & (
        rng.random(n) < facts.BENIGN_LESION_ID * lean / lean[~malignant].mean()
    )
    lesion = pl.Series([None] * n, dtype=pl.String)
    has_id = malignant | benign_id
    ids = series.ids(rng, "IL_", int(has_id.sum()))
    lesion = lesion.scatter(np.flatnonzero(has_id), ids)

    levels = ("Benign", *facts.BENIGN_DETAILED, *(d[0] for d in facts.DIAGNOSES))
    full = np.zeros(n, dtype=np.int64)
    detailed = benign_id & (rng.random(n) < 0.1)
    full[detailed] = 1 + rng.choice(len(facts.BENIGN_DETAILED), int(detailed.sum()))
    weights = np.array([d[1] for d in facts.DIAGNOSES], dtype=float)
    pick = rng.choice(len(facts.DIAGNOSES), n_mal, p=weights / weights.sum())
    full[malignant] = 1 + len(facts.BENIGN_DETAILED) + pick
    kind = np.zeros(n, dtype=np.int8)
    kind[malignant] = np.array([d[2] for d in facts.DIAGNOSES])[pick]

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
        len(facts.MITOTIC), int(has_mitotic.sum()), p=[0.55, 0.2, 0.12, 0.06, 0.04, 0.03]
    )
    dnn_logit = np.where(
        malignant, 5.7 + 7.0 * rng.standard_normal(n), 9.9 + 5.1 * rng.standard_normal(n)
    )
    dnn = 100.0 / (1.0 + np.exp(-dnn_logit))

    parts = series.strings(levels, full).str.split("::")
    out = [
        lesion.alias("lesion_id"),
        parts.list.join("::").alias("iddx_full"),
        *(parts.list.get(i, null_on_oob=True).alias(f"iddx_{i + 1}") for i in range(5)),
        series.strings(facts.MITOTIC, mitotic).alias("mel_mitotic_index"),
        pl.Series("mel_thick_mm", thick, nan_to_null=True),
        pl.Series("tbp_lv_dnn_lesion_confidence", dnn),
    ]
    return out
