"""Seeds and sampling of training rows. Every random choice derives from the config's one seed.

Sampling only ever sees the training rows it is given (a training fold or its inner part): the
rows being scored are never resampled. Two strategies, both from ISIC 2024 winners:

- "undersample": optionally over-sample positives (with replacement) until they are
  `positives_oversample_ratio` of the negatives, then keep `negatives_per_positive` random
  negatives per positive (the 1st place: 0.003, then 100 per positive, i.e. a 0.01 ratio).
- "disjoint": the negatives are dealt into `bags` disjoint subsets, one per bag, so every bag
  sees different negatives (the 10th place: 10 subsets, at most 50 negatives per patient).

`max_negatives_per_patient` caps the negatives any one patient contributes, in both strategies,
before anything else is drawn; 0 means no cap.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from models.config import Config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SamplingPlan:
    """What `sample_rows` does to a training set: the `[sampling]` config section (which
    `models.config` validates)."""

    strategy: str = "undersample"
    negatives_per_positive: float = 0.0
    positives_oversample_ratio: float = 0.0
    max_negatives_per_patient: int = 0


def sampling_plan(config: Config, model: str | None = None) -> SamplingPlan:
    """The `[sampling]` section as a plan; for `model`, with its own negatives-per-positive
    ratio where `negatives_per_positive_by_model` names one (a tuned library's choice)."""
    table = dataclasses.asdict(config.sampling)
    by_model = table.pop("negatives_per_positive_by_model")
    if model in by_model:
        table["negatives_per_positive"] = float(by_model[model])
    return SamplingPlan(**table)


def derive_seed(*keys: int) -> int:
    """A 31-bit seed for one task (for example: base seed, repeat, fold, model), stable across
    runs and distinct between tasks."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0] >> 1)


def sample_rows(
    y: np.ndarray,
    patient_ids: np.ndarray,
    plan: SamplingPlan,
    seed: int,
    bag: int = 0,
    bags: int = 1,
    partition_seed: int | None = None,
) -> np.ndarray:
    """Indices into `y` of the rows one bag trains on, sorted (over-sampled positives repeat).

    `seed` drives this bag's own draws; `partition_seed` (the same for every bag of a fold)
    drives the per-patient cap and the disjoint split, so the bags' subsets really are
    disjoint. Without it, `seed` is used."""
    y = np.asarray(y)
    shared = seed if partition_seed is None else partition_seed
    negatives = np.flatnonzero(y == 0)
    if plan.max_negatives_per_patient > 0:
        negatives = cap_per_patient(
            negatives, np.asarray(patient_ids)[negatives], plan.max_negatives_per_patient, shared
        )
    if plan.strategy == "disjoint":
        negatives = disjoint_part(negatives, bag, bags, shared)
    positives = oversample_positives(
        np.flatnonzero(y == 1), negatives.size, plan.positives_oversample_ratio, seed
    )
    kept = _at_most(negatives, plan.negatives_per_positive * positives.size, seed + 1)
    return np.sort(np.concatenate([positives, kept]))


def undersample_negatives(y: np.ndarray, negatives_per_positive: float, seed: int) -> np.ndarray:
    """Row indices keeping every positive and a random subset of negatives, at most
    `negatives_per_positive` per positive (0 keeps everything). Indices come back sorted."""
    y = np.asarray(y)
    positives = np.flatnonzero(y == 1)
    negatives = np.flatnonzero(y == 0)
    kept = _at_most(negatives, negatives_per_positive * positives.size, seed)
    return np.sort(np.concatenate([positives, kept]))


def oversample_positives(
    positives: np.ndarray, n_negatives: int, ratio: float, seed: int
) -> np.ndarray:
    """Every positive, plus positives drawn with replacement until there are `ratio` positives
    per negative (0, or already that many, adds none)."""
    wanted = int(round(ratio * n_negatives))
    if ratio <= 0 or positives.size == 0 or wanted <= positives.size:
        return positives
    extra = np.random.default_rng(seed).choice(positives, wanted - positives.size, replace=True)
    return np.concatenate([positives, extra])


def cap_per_patient(rows: np.ndarray, patients: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """A random `cap` of each patient's `rows` (all of them for a patient with fewer), sorted."""
    order = np.random.default_rng(seed).permutation(rows.size)
    _, codes = np.unique(patients[order], return_inverse=True)
    # Position of each shuffled row among its own patient's rows, by a stable sort on patient.
    by_patient = np.argsort(codes, kind="stable")
    sorted_codes = codes[by_patient]
    first = np.searchsorted(sorted_codes, sorted_codes, side="left")
    position = np.empty(rows.size, dtype=np.int64)
    position[by_patient] = np.arange(rows.size) - first
    return np.sort(rows[order][position < cap])


def disjoint_part(rows: np.ndarray, bag: int, bags: int, seed: int) -> np.ndarray:
    """Part `bag` of `rows` dealt at random into `bags` disjoint parts of near-equal size."""
    if not 0 <= bag < bags:
        raise ValueError(f"bag {bag} is not in 0..{bags - 1}")
    shuffled = np.random.default_rng(seed).permutation(rows)
    return np.sort(shuffled[bag::bags])


def _at_most(negatives: np.ndarray, wanted: float, seed: int) -> np.ndarray:
    """A random `wanted` of `negatives` (all of them when `wanted` is 0 or more than there are)."""
    wanted = int(round(wanted))
    if wanted <= 0 or negatives.size <= wanted:
        if wanted > 0:
            log.info(
                "no under-sampling: %d negatives, fewer than the %d asked", negatives.size, wanted
            )
        return negatives
    return np.random.default_rng(seed).choice(negatives, size=wanted, replace=False)
