"""What a trial draws: a library's search space (its adapter's ranges, the boosting rounds and
its sampling ratio), overlaid with a user's TOML, as Optuna distributions; and the partial
config that a drawn point becomes.

A range is a TOML table: `{ low = 0.01, high = 0.1, log = true }` (integers when both ends
are integers; `step` optional) or `{ choices = [63, 255] }`. A `tune --space FILE.toml` file
holds `[lgbm.learning_rate]`-style tables that replace or add entries of the defaults.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from features.errors import UserError
from models.boosters import SEARCH_SPACES
from models.config import MODEL_NAMES, Config

# Two parameters that are not the library's own: its rounds ([training] fixed_rounds) and its
# negatives kept per positive ([sampling] negatives_per_positive_by_model).
ROUNDS = "rounds"
NEGATIVES = "negatives_per_positive"
SHARED_SPACE: dict[str, dict[str, Any]] = {
    ROUNDS: {"low": 100, "high": 500, "step": 25},
    NEGATIVES: {"low": 20.0, "high": 300.0, "log": True},
}
RANGE_KEYS = {"low", "high", "log", "step", "choices"}


@dataclass(frozen=True)
class SearchSpace:
    model: str
    distributions: dict[str, BaseDistribution]

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """One point of the space, drawn by the trial's sampler."""
        point = {}
        for name, d in self.distributions.items():
            if isinstance(d, CategoricalDistribution):
                point[name] = trial.suggest_categorical(name, d.choices)
            elif isinstance(d, IntDistribution):
                point[name] = trial.suggest_int(name, d.low, d.high, step=d.step, log=d.log)
            else:
                point[name] = trial.suggest_float(name, d.low, d.high, step=d.step, log=d.log)
        return point

    def overlay(self, point: dict[str, Any]) -> dict[str, Any]:
        """The partial config (as `train_gbdt --config` takes it) that sets `point`."""
        params = {k: v for k, v in point.items() if k not in (ROUNDS, NEGATIVES)}
        table: dict[str, Any] = {"models": {self.model: params}}
        if ROUNDS in point:
            table["training"] = {"fixed_rounds": {self.model: int(point[ROUNDS])}}
        if NEGATIVES in point:
            table["sampling"] = {
                "negatives_per_positive_by_model": {self.model: float(point[NEGATIVES])}
            }
        return table

    def point_of(self, config: Config) -> dict[str, Any]:
        """The values `config` gives the space's parameters: how the default (or an
        `--enqueue` file) becomes a trial. A parameter the config leaves to the library's own
        default is left out, and the sampler draws it."""
        params = config.models.params(self.model)
        known = {
            **params,
            ROUNDS: config.training.fixed_rounds.get(self.model, config.training.max_rounds),
            NEGATIVES: config.sampling.negatives_per_positive_by_model.get(
                self.model, config.sampling.negatives_per_positive
            ),
        }
        return {name: known[name] for name in self.distributions if name in known}


def search_space(model: str, config: Config, space_file: Path | None = None) -> SearchSpace:
    """`model`'s default space, with `space_file`'s entries for it replacing or adding ranges.
    The rounds are tuned only when the config boosts a fixed number of them."""
    table = {**SEARCH_SPACES[model], **SHARED_SPACE}
    if config.training.stopping != "fixed":
        table.pop(ROUNDS)
    source = "default search space"
    if space_file is not None:
        source = str(space_file)
        overrides = read_space_file(space_file, config)
        table.update(overrides.get(model, {}))
    return SearchSpace(
        model,
        {name: _distribution(spec, f"{source}: {model}.{name}") for name, spec in table.items()},
    )


def read_space_file(path: Path, config: Config) -> dict[str, dict[str, Any]]:
    """A search-space TOML file, checked: libraries and parameters it names must be known, and
    every range must be a non-empty one."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: search-space file not found")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid TOML ({error})") from None
    for model, entries in table.items():
        if model not in MODEL_NAMES or not isinstance(entries, dict):
            raise UserError(
                f"{path}: '{model}' is not a library table; expected [lgbm.NAME], [xgb.NAME] "
                "or [cat.NAME] ranges"
            )
        known = set(SEARCH_SPACES[model]) | set(config.models.params(model)) | set(SHARED_SPACE)
        for name, spec in entries.items():
            if name not in known:
                raise UserError(
                    f"{path}: unknown parameter '{model}.{name}'; known: {', '.join(sorted(known))}"
                )
            _distribution(spec, f"{path}: {model}.{name}")
    return table


def _distribution(spec: Any, where: str) -> BaseDistribution:
    if not isinstance(spec, dict) or not spec or set(spec) - RANGE_KEYS:
        raise UserError(
            f"{where}: expected a range table {{ low = .., high = .., log = .., step = .. }} "
            "or {{ choices = [..] }}"
        )
    if "choices" in spec:
        choices = spec["choices"]
        if set(spec) != {"choices"} or not isinstance(choices, list) or not choices:
            raise UserError(f"{where}: choices must be a non-empty list, alone in its table")
        return CategoricalDistribution(choices)
    low, high = spec.get("low"), spec.get("high")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        raise UserError(f"{where}: low and high must both be numbers")
    if low > high:
        raise UserError(f"{where}: empty range, low {low} > high {high}")
    log, step = bool(spec.get("log", False)), spec.get("step")
    if log and low <= 0:
        raise UserError(f"{where}: a log range needs low > 0, got {low}")
    if log and step is not None:
        raise UserError(f"{where}: a log range takes no step")
    if isinstance(low, int) and isinstance(high, int) and (step is None or isinstance(step, int)):
        return IntDistribution(low, high, log=log, step=step or 1)
    return FloatDistribution(float(low), float(high), log=log, step=step)
