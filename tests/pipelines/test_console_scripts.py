"""The console scripts in pyproject.toml (`tbp-train`, ...) run the same commands as
`python -m pipelines....`."""

from __future__ import annotations

import importlib
import sys
import tomllib

import pytest

from tests.conftest import REPO

SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
# Arguments that each command refuses as a user error (exit 2, one line).
BAD_ARGUMENTS = {
    "tbp-train": ["--config", "/nonexistent.toml", "--out", "x"],
    "tbp-predict": ["--run", "/nonexistent", "--test", "t.csv"],
    "tbp-make-synthetic": ["--out", "x", "--rows", "0"],
    "tbp-compare": ["/nonexistent-a", "/nonexistent-b"],
    "tbp-blend": ["--run", "/nonexistent", "--out", "/nonexistent-blend"],
    "tbp-feature-report": ["--run", "/nonexistent", "--out", "/nonexistent-report.html"],
    "tbp-tune": ["--model", "lgbm", "--n-trials", "0", "--out", "x.toml"],
    "tbp-evaluate": ["--run", "/nonexistent", "--cohort", "/nonexistent.csv", "--out", "x"],
    "tbp-build-features": ["--train", "/nonexistent.csv", "--out", "x"],
}


def test_every_command_has_a_console_script():
    modules = {target.split(":")[0] for target in SCRIPTS.values()}
    commands = {f"pipelines.{p.stem}" for p in (REPO / "pipelines").glob("[!_]*.py")}
    assert modules == commands


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_console_script_answers_help_and_user_errors(name, monkeypatch, capsys):
    module, function = SCRIPTS[name].split(":")
    cli = getattr(importlib.import_module(module), function)
    monkeypatch.setattr(sys, "argv", [name, "--help"])
    with pytest.raises(SystemExit) as done:
        cli()
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", [name, *BAD_ARGUMENTS[name]])
    assert cli() == 2
    assert capsys.readouterr().err.startswith("error: ")
