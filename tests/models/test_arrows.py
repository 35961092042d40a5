"""The layout's arrows point down only (DESIGN.md): each room of `models/` imports only the
rooms below it, other rooms through their package (`models.cv`, not `models.cv.tasks`), and
`features/` never imports `models/`. Read from the source with `ast`, imports inside functions
and `TYPE_CHECKING` blocks included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# Room -> the rooms it may import. `config` and `progress` are leaves every room above
# `blend` may use; `run` is the chain and the run folder on top.
ALLOWED = {
    "features": set(),
    "evaluation": {"features"},
    "config": {"features"},
    "progress": set(),
    "boosters": {"features", "evaluation"},
    "blend": {"features", "evaluation"},
    "cv": {"features", "evaluation", "boosters", "blend", "config", "progress"},
    "tuning": {"features", "evaluation", "boosters", "blend", "cv", "config", "progress"},
    "run": {"features", "evaluation", "boosters", "blend", "cv", "tuning", "config", "progress"},
}
ROOM_PACKAGES = {"evaluation", "boosters", "cv", "blend", "tuning"}


def room_of_module(module: str) -> str | None:
    """The room of a dotted module name, or None outside `features` and `models`."""
    parts = module.split(".")
    if parts[0] == "features":
        return "features"
    if parts[0] != "models" or len(parts) == 1:
        return None
    if parts[1] in ROOM_PACKAGES or parts[1] in ("config", "progress"):
        return parts[1]
    return "run"  # models.run, models.artifacts


def wrong_arrows(root: Path) -> list[str]:
    """Every import under `root`'s features/ and models/ that breaks the layout, as
    'file:line: what'."""
    problems = []
    for path in sorted([*root.glob("features/**/*.py"), *root.glob("models/**/*.py")]):
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
    assert wrong_arrows(tmp_path) == []
