"""The documentation site's cheap checks: the features page lists exactly the registry's
features, each family says what it is, and the notebooks are committed without outputs. The
full build, with its links, API reference and executed notebooks, runs in .ci/run
(`python -m sphinx -W --keep-going -b html docs OUT`), not in the test suite."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from features.build import FAMILIES, RAW_FAMILY, describe
from features.family_docs import FAMILY_DOCS
from models.config import load_config
from tests.conftest import REPO

DOCS = REPO / "docs"
NOTEBOOKS = sorted((DOCS / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def feature_list():
    """docs/_ext/feature_list.py, the Sphinx extension that writes the features page's list."""
    spec = importlib.util.spec_from_file_location("feature_list", DOCS / "_ext" / "feature_list.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def page(feature_list) -> str:
    return feature_list.render()


def test_the_features_page_lists_exactly_the_registrys_features(feature_list, page):
    registry = describe(FAMILIES, (feature_list.IMAGE_EXAMPLE_COLUMN,))
    want = sorted((f["name"], f["family"], f["kind"], f["doc"]) for f in registry)
    got = _listed_features(page)
    assert len(got) == len(set(got)), "a feature is listed twice"
    assert sorted(got) == want


def test_every_family_has_a_section_and_says_what_it_is(feature_list, page):
    families = [*FAMILIES, "image"]
    assert set(FAMILY_DOCS) == set(FAMILIES), "a family without a doc, or a stale one"
    assert _family_headings(page) == families
    docs = {**FAMILY_DOCS, "image": feature_list.IMAGE_DOC}
    for family in families:
        introduction = page.split(f"### `{family}`", 1)[1].split("| feature |", 1)[0]
        assert docs[family] in introduction


def test_the_default_families_are_marked(page):
    marked = [family for family, on in _family_headings(page, marked=True) if on]
    assert marked == [RAW_FAMILY, *sorted_like(load_config().features.families, FAMILIES)]


def test_a_newcomer_finds_what_patient_outlier_means(page):
    section = page.split("### `patient_outlier`", 1)[1].split("###", 1)[0]
    assert "standard deviations" in section and "unlike this patient's others" in section


def test_the_features_page_includes_the_generated_list(feature_list):
    assert feature_list.GENERATED == DOCS / "_generated" / "feature_list.md"
    assert "```{include} _generated/feature_list.md" in (DOCS / "features.md").read_text()
    assert "docs/_generated/" in (REPO / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.name for n in NOTEBOOKS])
def test_notebooks_are_committed_without_outputs(notebook: Path):
    assert _stored_results(json.loads(notebook.read_text(encoding="utf-8"))) == []


def test_the_notebook_check_finds_outputs_and_execution_counts():
    stored = {
        "cells": [
            {"cell_type": "markdown", "source": "# x", "metadata": {}},
            {"cell_type": "code", "source": "1", "outputs": [], "execution_count": None},
            {"cell_type": "code", "source": "2", "outputs": [{"output_type": "stream"}]},
            {"cell_type": "code", "source": "3", "outputs": [], "execution_count": 4},
        ]
    }
    assert _stored_results(stored) == ["cell 2: outputs", "cell 3: execution count 4"]


def sorted_like(items: list[str], order: tuple[str, ...]) -> list[str]:
    return sorted(items, key=order.index)


def _listed_features(page: str) -> list[tuple[str, str, str, str]]:
    """(name, family, kind, doc) of every row of every family's table, the Markdown escapes
    undone."""
    rows, family = [], None
    for line in page.splitlines():
        heading = re.match(r"### `(\w+)`", line)
        if line.startswith("###"):
            family = heading.group(1) if heading else None
        row = re.match(r"\| `(\w+)` \| (\w+) \| (.*) \|$", line)
        if family and row:
            name, kind, doc = row.groups()
            rows.append((name, family, kind, re.sub(r"\\(.)", r"\1", doc)))
    return rows


def _family_headings(page: str, marked: bool = False) -> list:
    found = re.findall(r"^### `(\w+)`( \(on by default\))?$", page, flags=re.MULTILINE)
    return [(family, bool(on)) for family, on in found] if marked else [f for f, _ in found]


def _stored_results(notebook: dict) -> list[str]:
    """What a committed notebook should not hold: a code cell's outputs or execution count."""
    problems = []
    for number, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {number}: outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {number}: execution count {cell['execution_count']}")
    return problems


def test_every_api_parameter_is_described_by_its_flags_help():
    """docs/_ext/flag_params.py gives the API reference each parameter's line from the
    command's --help: every keyword argument of every command function gets one."""
    import inspect

    import tbp_gbdt as tbp

    spec = importlib.util.spec_from_file_location("flag_params", DOCS / "_ext" / "flag_params.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    commands = [tbp.train, tbp.predict, tbp.tune, tbp.blend, tbp.compare, tbp.evaluate]
    commands += [tbp.feature_report, tbp.make_synthetic, tbp.build_features]
    for function in commands:
        helps = module.flag_help(function)
        assert set(helps) == set(inspect.signature(function).parameters), function.__name__
        assert all(text and "%(" not in text for text in helps.values())
    assert "submission CSV" in module.flag_help(tbp.predict)["out"]
