"""benchmarks.blend_real: every run's config overlay is one train_gbdt accepts."""

from __future__ import annotations

import tomli_w

from benchmarks.blend_real import RUNS, run_config
from models.config import load_config


def test_every_run_config_loads_with_the_split_seed(tmp_path):
    for name in RUNS:
        path = tmp_path / f"{name}.toml"
        path.write_text(tomli_w.dumps(run_config(name, 3)))
        config = load_config(path)
        assert config.seed == 3
    assert load_config(tmp_path / "first_place_1bag.toml").training.bags == 1
    assert "patient_context" in load_config(tmp_path / "first_place_1bag.toml").features.families
