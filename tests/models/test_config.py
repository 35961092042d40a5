"""Config: defaults, partial overlays, and clear errors for unknown keys and wrong types."""

from __future__ import annotations

import pytest

from features.errors import UserError
from features.synthetic import EMBEDDED_TEST_ROWS, EMBEDDED_TRAIN_ROWS
from models.config import load_config
from tests.conftest import REPO


def test_overlay_changes_only_what_it_names(tmp_path):
    overlay = tmp_path / "o.toml"
    overlay.write_text("[cv]\nfolds = 3\n[models.lgbm]\nnum_leaves = 7\n")
    default, changed = load_config(), load_config(overlay)
    assert changed.cv.folds == 3 and changed.cv.inner_splits == default.cv.inner_splits
    assert changed.models.lgbm["num_leaves"] == 7
    assert changed.models.lgbm["learning_rate"] == default.models.lgbm["learning_rate"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cv]\nfold = 3\n", "unknown config key 'cv.fold'"),
        ("[cv]\nfolds = 'five'\n", "config key 'cv.folds' must be int"),
        ("[models]\nnames = ['lgbm', 'rf']\n", "models.names has 'rf'"),
        ("[cv\n", "not valid TOML"),
    ],
)
def test_bad_overlays_are_user_errors(tmp_path, text, message):
    overlay = tmp_path / "bad.toml"
    overlay.write_text(text)
    with pytest.raises(UserError, match=message):
        load_config(overlay)


def test_embedded_sizes_agree_with_the_generator_defaults():
    synthetic = load_config().synthetic
    assert (synthetic.train_rows, synthetic.test_rows) == (EMBEDDED_TRAIN_ROWS, EMBEDDED_TEST_ROWS)
    assert round(synthetic.train_rows * synthetic.malignant_rate) >= 100


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"strategy": "smote"}, "sampling.strategy"),
        ({"negatives_per_positive": -1}, "negatives_per_positive"),
        ({"positives_oversample_ratio": 1.5}, "positives_oversample_ratio"),
        ({"max_negatives_per_patient": -3}, "max_negatives_per_patient"),
    ],
)
def test_bad_sampling_values_are_user_errors(section, message):
    with pytest.raises(UserError, match=message):
        load_config().replace(sampling=section)


@pytest.mark.parametrize("preset", sorted((REPO / "configs").glob("*.toml")), ids=lambda p: p.stem)
def test_every_preset_loads_as_an_overlay(preset):
    config = load_config(preset)
    assert config.models.names  # a full config: the overlay only changes what it names
    if preset.stem != "default":
        assert config.to_dict() != load_config().to_dict()


STUMPS = "[models.lgbm]\nmax_depth = 1\nnum_leaves = 2\n"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[models]\nform = "additive"\n' + STUMPS, "models.names"),  # the default's three
        ('[models]\nform = "additive"\nnames = ["lgbm", "xgb"]\n' + STUMPS, "models.names"),
        ('[models]\nform = "additive"\nnames = ["lgbm"]\n', "models.lgbm.max_depth"),
        (
            '[models]\nform = "additive"\nnames = ["lgbm"]\n' + STUMPS.replace("1\n", "4\n"),
            "models.lgbm.max_depth",
        ),
        (
            '[models]\nform = "additive"\nnames = ["lgbm"]\n' + STUMPS.replace("2\n", "3\n"),
            "models.lgbm.num_leaves",
        ),
        (
            '[models]\nform = "additive"\nnames = ["lgbm"]\n' + STUMPS + "linear_tree = true\n",
            "models.lgbm.linear_tree",
        ),
        ('[models]\nform = "bogus"\n', "models.form"),
    ],
)
def test_an_additive_form_needs_lightgbm_stumps_alone(tmp_path, text, key):
    overlay = tmp_path / "form.toml"
    overlay.write_text(text)
    with pytest.raises(UserError) as caught:
        load_config(overlay)
    message = str(caught.value)
    assert message.startswith(f"{overlay}: ") and "\n" not in message
    assert f"{key} " in message or f"{key} =" in message or f"'{key}'" in message


def test_lightgbm_stumps_alone_load_as_an_additive_form(tmp_path):
    overlay = tmp_path / "form.toml"
    overlay.write_text('[models]\nform = "additive"\nnames = ["lgbm"]\n' + STUMPS)
    assert load_config(overlay).models.form == "additive"
    assert load_config().models.form == "trees"
