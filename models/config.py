"""Run configuration: `configs/default.toml` overlaid with a user's partial TOML, as frozen
dataclasses. Unknown keys and wrong types are user errors that name the key."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from features.errors import UserError

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "default.toml"
MODEL_NAMES = ("lgbm", "xgb", "cat")
ENSEMBLE_METHODS = ("rank_mean", "weighted_rank", "mean")
CALIBRATIONS = ("isotonic", "platt")
SAMPLING_STRATEGIES = ("undersample", "disjoint")
STOPPING = ("refit", "inner", "fixed")
# `[models] form`: trees of any depth, or an additive model (LightGBM stumps).
TREES, ADDITIVE = "trees", "additive"
FORMS = (TREES, ADDITIVE)
# LightGBM settings an additive run needs: trees of depth 1, so that no tree uses two features.
ADDITIVE_LGBM = {"max_depth": 1, "num_leaves": 2}
# LightGBM settings that would break the curves: another name for the leaves (LightGBM takes
# either), a linear model in each leaf (no longer a step), zero read as missing (0.0 then
# leaves its step for the missing one).
_NOT_ADDITIVE = (
    *("num_leaf", "max_leaves", "max_leaf", "max_leaf_nodes"),
    *("linear_tree", "linear_trees", "zero_as_missing"),
)


@dataclass(frozen=True)
class SyntheticConfig:
    train_rows: int
    test_rows: int
    malignant_rate: float


@dataclass(frozen=True)
class FeatureConfig:
    families: list[str]
    categoricals: list[str]


@dataclass(frozen=True)
class CVConfig:
    folds: int
    repeats: int
    inner_splits: int


@dataclass(frozen=True)
class SamplingConfig:
    negatives_per_positive: float
    strategy: str = "undersample"
    positives_oversample_ratio: float = 0.0
    max_negatives_per_patient: int = 0
    # A library's own negatives-per-positive ratio, overriding the one above (`tune` writes it).
    negatives_per_positive_by_model: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingConfig:
    threads: int
    max_rounds: int
    early_stopping_rounds: int
    min_rounds: int
    eval_every: int
    smoothing_rounds: int
    bags: int
    bootstrap_samples: int
    # "cpu" or "cuda": where XGBoost, CatBoost (and LightGBM when built for it) boost.
    device: str = "cpu"
    # Fits run at once: 1 runs them one after another in this process, N > 1 on a local pool.
    workers: int = 1
    # Threads of each fit on the pool or a cluster; 0 means threads // workers.
    worker_threads: int = 0
    # How a fold model's rounds are chosen: "refit", "inner" or "fixed" (`models.cv.fit_one`).
    stopping: str = "refit"
    # With stopping = "fixed": rounds per library; a library not named boosts max_rounds.
    fixed_rounds: dict[str, int] = field(default_factory=dict)

    @property
    def n_threads(self) -> int:
        return self.threads if self.threads > 0 else (os.cpu_count() or 1)


@dataclass(frozen=True)
class EnsembleConfig:
    method: str
    calibration: str = "isotonic"


@dataclass(frozen=True)
class PredictConfig:
    # Test lesions are scored in batches of whole patients of about this many rows.
    batch_rows: int = 200_000


@dataclass(frozen=True)
class ModelsConfig:
    names: list[str]
    # "trees", or "additive": LightGBM stumps whose log-odds are a bias plus one curve per
    # feature (`models.additive`); checked in `_validate_form`.
    form: str = "trees"
    lgbm: dict[str, Any] = field(default_factory=dict)
    xgb: dict[str, Any] = field(default_factory=dict)
    cat: dict[str, Any] = field(default_factory=dict)

    def params(self, name: str) -> dict[str, Any]:
        return dict(getattr(self, name))


@dataclass(frozen=True)
class Config:
    seed: int
    synthetic: SyntheticConfig
    features: FeatureConfig
    cv: CVConfig
    sampling: SamplingConfig
    training: TrainingConfig
    ensemble: EnsembleConfig
    models: ModelsConfig
    predict: PredictConfig = field(default_factory=PredictConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **sections: Any) -> Config:
        """A copy with some fields changed: `cfg.replace(cv={"folds": 3}, seed=1)`."""
        return from_dict(merge_tables(self.to_dict(), sections), "overrides")


def load_config(overlay: Path | Mapping[str, Any] | None = None) -> Config:
    """The default config, overlaid with `overlay` when given: a partial TOML file, or the same
    tables as a dict (`{"training": {"threads": 1}}`, from Python)."""
    table = _read_toml(DEFAULT_CONFIG)
    if isinstance(overlay, Mapping):
        return from_dict(merge_tables(table, dict(overlay)), "the config dict")
    if overlay is not None:
        table = merge_tables(table, _read_toml(Path(overlay)))
    return from_dict(table, str(overlay or DEFAULT_CONFIG))


def from_dict(table: dict[str, Any], source: str) -> Config:
    config = _build(Config, table, source, "")
    _validate(config, source)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"{path}: config file not found")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path}: not valid TOML ({error})") from None
    except UnicodeDecodeError as error:
        raise UserError(
            f"{path}: byte {error.start + 1} is not UTF-8 text; TOML files are UTF-8"
        ) from None


def merge_tables(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(cls: type, table: dict[str, Any], source: str, prefix: str) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(table) - names)
    if unknown:
        raise UserError(f"{source}: unknown config key '{prefix}{unknown[0]}'")
    values = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if f.name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise UserError(f"{source}: config key '{key}' is missing")
            continue
        value, hint = table[f.name], hints[f.name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise UserError(f"{source}: config key '{key}' must be a table")
            value = _build(hint, value, source, key + ".")
        else:
            value = _check_type(value, hint, source, key)
        values[f.name] = value
    return cls(**values)


def _check_type(value: Any, hint: Any, source: str, key: str) -> Any:
    origin = getattr(hint, "__origin__", hint)
    if origin is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin is int and isinstance(value, bool):
        raise UserError(f"{source}: config key '{key}' must be an integer, got {value!r}")
    if origin in (int, float, str, list, dict) and not isinstance(value, origin):
        raise UserError(f"{source}: config key '{key}' must be {origin.__name__}, got {value!r}")
    return value


def _validate(config: Config, source: str) -> None:
    for name in config.models.names:
        if name not in MODEL_NAMES:
            raise UserError(
                f"{source}: models.names has '{name}'; expected some of {', '.join(MODEL_NAMES)}"
            )
    if not config.models.names:
        raise UserError(f"{source}: models.names is empty; name at least one model")
    if config.training.stopping not in STOPPING:
        raise UserError(
            f"{source}: training.stopping is '{config.training.stopping}'; "
            f"expected one of {', '.join(STOPPING)}"
        )
    for name, rounds in config.training.fixed_rounds.items():
        if name not in MODEL_NAMES or not isinstance(rounds, int) or rounds < 1:
            raise UserError(
                f"{source}: training.fixed_rounds has {name} = {rounds!r}; expected a library "
                f"of {', '.join(MODEL_NAMES)} and a whole number of rounds >= 1"
            )
    if config.predict.batch_rows < 1:
        raise UserError(f"{source}: predict.batch_rows must be >= 1")
    if config.training.bags < 1:
        raise UserError(f"{source}: training.bags must be >= 1")
    if config.training.device not in ("cpu", "cuda"):
        raise UserError(
            f"{source}: training.device is '{config.training.device}'; expected 'cpu' or 'cuda'"
        )
    if config.training.workers < 1 or config.training.worker_threads < 0:
        raise UserError(f"{source}: training needs workers >= 1 and worker_threads >= 0")
    if config.cv.folds < 2 or config.cv.repeats < 1 or config.cv.inner_splits < 2:
        raise UserError(f"{source}: cv needs folds >= 2, repeats >= 1, inner_splits >= 2")
    if config.ensemble.method not in ENSEMBLE_METHODS:
        raise UserError(
            f"{source}: ensemble.method '{config.ensemble.method}' is not known; "
            f"expected one of {', '.join(ENSEMBLE_METHODS)}"
        )
    if config.ensemble.calibration not in CALIBRATIONS:
        raise UserError(
            f"{source}: ensemble.calibration '{config.ensemble.calibration}' is not known; "
            f"expected one of {', '.join(CALIBRATIONS)}"
        )
    s = config.synthetic
    if s.train_rows < 1 or s.test_rows < 0 or not 0 <= s.malignant_rate <= 1:
        raise UserError(
            f"{source}: synthetic needs train_rows >= 1, test_rows >= 0 and "
            "malignant_rate in [0, 1]"
        )
    _validate_sampling(config.sampling, source)
    _validate_form(config.models, source)


def _validate_sampling(sampling: SamplingConfig, source: str) -> None:
    if sampling.strategy not in SAMPLING_STRATEGIES:
        raise UserError(
            f"{source}: sampling.strategy '{sampling.strategy}' is not known; "
            f"expected one of {', '.join(SAMPLING_STRATEGIES)}"
        )
    if sampling.negatives_per_positive < 0:
        raise UserError(f"{source}: sampling.negatives_per_positive must be >= 0 (0 keeps all)")
    for name, ratio in sampling.negatives_per_positive_by_model.items():
        if name not in MODEL_NAMES or isinstance(ratio, bool) or not isinstance(ratio, int | float):
            raise UserError(
                f"{source}: sampling.negatives_per_positive_by_model has {name} = {ratio!r}; "
                f"expected a library of {', '.join(MODEL_NAMES)} and a number >= 0"
            )
        if ratio < 0:
            raise UserError(
                f"{source}: sampling.negatives_per_positive_by_model.{name} must be >= 0"
            )
    if not 0 <= sampling.positives_oversample_ratio < 1:
        raise UserError(
            f"{source}: sampling.positives_oversample_ratio must be in [0, 1) "
            "(positives per negative after over-sampling; 0 turns it off)"
        )
    if sampling.max_negatives_per_patient < 0:
        raise UserError(
            f"{source}: sampling.max_negatives_per_patient must be >= 0 (0 means no cap)"
        )


def _validate_form(models: ModelsConfig, source: str) -> None:
    """`[models] form`: "additive" only for LightGBM alone, with trees of depth 1."""
    if models.form not in FORMS:
        raise UserError(
            f"{source}: models.form is {models.form!r}; expected one of {', '.join(FORMS)}"
        )
    if models.form != ADDITIVE:
        return
    if models.names != ["lgbm"]:
        raise UserError(
            f"{source}: models.form = 'additive' needs models.names = ['lgbm'] (LightGBM "
            f"stumps alone), got {models.names!r}"
        )
    for key, wanted in ADDITIVE_LGBM.items():
        value = models.lgbm.get(key)
        if value != wanted or isinstance(value, bool):
            raise UserError(
                f"{source}: models.form = 'additive' needs models.lgbm.{key} = {wanted} "
                f"(trees of depth 1), got {value!r}"
            )
    for key in _NOT_ADDITIVE:
        if models.lgbm.get(key):
            raise UserError(
                f"{source}: models.form = 'additive' refuses models.lgbm.{key} = "
                f"{models.lgbm[key]!r}; expected it unset (the curves need plain stumps)"
            )
