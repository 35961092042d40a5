"""Search spaces: the defaults lie inside them (so trial 0 is the default exactly), a drawn
point becomes a config that `train_gbdt --config` accepts, and a bad space file is a user
error that names the entry."""

from __future__ import annotations

import optuna
import pytest
import tomli_w

from features.errors import UserError
from models.boosters import SEARCH_SPACES
from models.config import load_config
from models.cv import sampling_plan
from models.tuning import NEGATIVES, ROUNDS, search_space


@pytest.mark.parametrize("model", ["lgbm", "xgb", "cat"])
def test_the_default_config_is_a_point_of_every_default_space(model):
    config = load_config()
    space = search_space(model, config)
    point = space.point_of(config)
    # Every tuned parameter has a default value, and it lies inside its range.
    assert set(point) == set(space.distributions)
    for name, value in point.items():
        distribution = space.distributions[name]
        assert distribution._contains(distribution.to_internal_repr(value)), (name, value)
    # The overlay of the default's own point trains the same models.
    same = config.replace(**space.overlay(point))
    assert same.models == config.models and same.training == config.training
    assert sampling_plan(same, model) == sampling_plan(config, model)


def test_a_drawn_point_becomes_the_config_it_names(tmp_path):
    config = load_config()
    space = search_space("lgbm", config)
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(3)).ask()
    point = space.suggest(trial)
    path = tmp_path / "drawn.toml"
    path.write_text(tomli_w.dumps(space.overlay(point)))
    drawn = load_config(path)
    params = drawn.models.params("lgbm")
    for name, value in point.items():
        if name == ROUNDS:
            assert drawn.training.fixed_rounds["lgbm"] == value
        elif name == NEGATIVES:
            assert drawn.sampling.negatives_per_positive_by_model["lgbm"] == value
        else:
            assert params[name] == value
    # Other libraries keep their defaults.
    assert drawn.models.params("xgb") == config.models.params("xgb")
    assert drawn.training.fixed_rounds["xgb"] == config.training.fixed_rounds["xgb"]


def test_rounds_are_tuned_only_with_a_fixed_round_count():
    refit = load_config().replace(training={"stopping": "refit"})
    assert ROUNDS not in search_space("cat", refit).distributions
    assert ROUNDS in search_space("cat", load_config()).distributions


def test_a_space_file_replaces_and_adds_ranges(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        "[lgbm.learning_rate]\nlow = 0.02\nhigh = 0.05\nlog = true\n"
        "[lgbm.max_bin]\nchoices = [63, 255]\n"
        "[lgbm.num_leaves]\nlow = 8\nhigh = 64\n"
    )
    space = search_space("lgbm", load_config(), path)
    d = space.distributions
    assert (d["learning_rate"].low, d["learning_rate"].high, d["learning_rate"].log) == (
        0.02,
        0.05,
        True,
    )
    assert isinstance(d["num_leaves"], optuna.distributions.IntDistribution)
    assert d["max_bin"].choices == (63, 255)
    # Entries the file leaves alone keep the adapter's range.
    assert d["lambda_l1"].high == SEARCH_SPACES["lgbm"]["lambda_l1"]["high"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[lgbm.num_leafs]\nlow = 8\nhigh = 64\n", "unknown parameter 'lgbm.num_leafs'"),
        (
            "[lgbm.num_leaves]\nlow = 64\nhigh = 8\n",
            "lgbm.num_leaves: empty range, low 64 > high 8",
        ),
        ("[lgbm.lambda_l1]\nlow = 0.0\nhigh = 1.0\nlog = true\n", "a log range needs low > 0"),
        ("[lgbm.max_bin]\nchoices = []\n", "choices must be a non-empty list"),
        ("[lgbm.max_bin]\nlow = 'a'\nhigh = 3\n", "low and high must both be numbers"),
        ("[ridge.alpha]\nlow = 1\nhigh = 2\n", "'ridge' is not a library table"),
        ("[lgbm\n", "not valid TOML"),
    ],
)
def test_a_bad_space_file_names_the_entry(tmp_path, text, message):
    path = tmp_path / "space.toml"
    path.write_text(text)
    with pytest.raises(UserError, match=str(path)) as caught:
        search_space("lgbm", load_config(), path)
    assert message in str(caught.value)
