"""The layout's arrows point down only (DESIGN.md): each room of `models/` imports only the
rooms below it, other rooms through their package (`models.cv`, not `models.cv.tasks`),
`features/` never imports `models/`, `reports/` (the feature report) may import both but
neither imports it, and nothing imports `pipelines/`. Read from the source with `ast`,
imports inside functions and `TYPE_CHECKING` blocks included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Room -> the rooms it may import. `config` and `progress` are leaves every room above
# `blend` may use, and `faults` (the kill tests' hook) one that `cv`, `tuning` and `run` use;
# `run` is the chain and the run folder on top.
ALLOWED = {
    "features": set(),
    "evaluation": {"features"},
    "config": {"features"},
    "progress": set(),
    "faults": set(),
    "boosters": {"features", "evaluation"},
    "blend": {"features", "evaluation"},
    "cv": {"features", "evaluation", "boosters", "blend", "config", "progress", "faults"},
    "tuning": {
        "features", "evaluation", "boosters", "blend", "cv", "config", "progress", "faults"
    },
    "run": {
        "features", "evaluation", "boosters", "blend", "cv", "tuning", "config", "progress",
        "faults",
    },
    "reports": {
        "features", "evaluation", "boosters", "blend", "cv", "tuning", "config", "progress", "run"
    },
}  # fmt: skip
ROOM_PACKAGES = {"evaluation", "boosters", "cv", "blend", "tuning"}


def room_of_module(module: str) -> str | None:
    """The room of a dotted module name, or None outside `features`, `models` and `reports`."""
    parts = module.split(".")
    if parts[0] in ("features", "reports"):
        return parts[0]
    if parts[0] != "models" or len(parts) == 1:
        return None
    if parts[1] in ROOM_PACKAGES or parts[1] in ("config", "progress", "faults"):
        return parts[1]
    return "run"  # models.run, models.artifacts


def wrong_arrows(root: Path) -> list[str]:
    """Every import under `root`'s features/, models/ and reports/ that breaks the layout, as
    'file:line: what'."""
    problems = []
    rooms = ("features", "models", "reports")
    for path in sorted(p for room in rooms for p in root.glob(f"{room}/**/*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        here = room_of_module(module)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _imported(node):
                there = room_of_module(target)
                where = f"{path.relative_to(root)}:{node.lineno}"
                if target.split(".")[0] == "pipelines":
                    problems.append(f"{where}: {here} imports {target} (pipelines sit on top)")
                if there is None or there == here:
                    continue
                if there not in ALLOWED[here]:
                    problems.append(f"{where}: {here} imports {target}, an upward arrow")
                elif there in ROOM_PACKAGES and target != f"models.{there}":
                    problems.append(
                        f"{where}: {target} is private to {there}; import models.{there}"
                    )
    return problems


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        if node.module == "models":  # `from models import cv` names the room itself
            return [f"models.{alias.name}" for alias in node.names]
        return [node.module]
    return []


def test_every_arrow_of_the_project_points_down():
    assert wrong_arrows(REPO) == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("features/lesion.py", "from models.cv import folds\n", "features imports models.cv"),
        ("models/evaluation/metric.py", "import models.cv\n", "evaluation imports models.cv"),
        ("models/boosters/xgb.py", "from models.config import Config\n", "boosters imports"),
        ("models/blend/ranks.py", "from models.cv import FitTask\n", "blend imports models.cv"),
        ("models/cv/tasks.py", "from models import artifacts\n", "cv imports models.artifacts"),
        ("models/cv/tasks.py", "from models.blend.ranks import x\n", "private to blend"),
        ("models/run.py", "from pipelines import _cli\n", "pipelines sit on top"),
        ("features/lesion.py", "from reports import render\n", "features imports reports"),
        ("models/artifacts/loader.py", "import reports.plots\n", "run imports reports"),
        ("reports/report.py", "from pipelines import _cli\n", "pipelines sit on top"),
        ("reports/report.py", "from models.cv.tasks import x\n", "private to cv"),
        (
            "models/boosters/cat.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from models.cv import X\n",
            "boosters imports models.cv",
        ),
    ],
)
def test_a_wrong_arrow_is_found(tmp_path, path, source, expected):
    file = tmp_path / path
    file.parent.mkdir(parents=True)
    file.write_text(source)
    (problem,) = wrong_arrows(tmp_path)
    assert expected in problem and problem.startswith(f"{path}:")


def test_a_downward_arrow_passes(tmp_path):
    file = tmp_path / "models" / "cv" / "tasks.py"
    file.parent.mkdir(parents=True)
    file.write_text("from models.boosters import booster\nfrom models.cv.folds import x\n")
    report = tmp_path / "reports" / "model.py"
    report.parent.mkdir(parents=True)
    report.write_text("from models.artifacts import load_run\nfrom reports.plots import plot\n")
    assert wrong_arrows(tmp_path) == []
