"""The robustness table (tests/robustness/cases.py) run case by case: a fault gives exit 2, one
line on stderr naming the file and the column or row, and no output; odd but valid input is
scored in full. docs/robustness.md must be the table as rendered."""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from pipelines._cli import run_cli
from tests.conftest import REPO
from tests.robustness import render
from tests.robustness.cases import CASES, Case
from tests.robustness.faults import Workspace, make_base, workspace

# Log lines as configure_logging writes them: what a subprocess's stderr holds besides errors.
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d [A-Z]+ ")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return make_base(tmp_path_factory.mktemp("robustness-base"))


@pytest.fixture(scope="module")
def shared_run(base, tmp_path_factory) -> Path:
    """One tiny LightGBM run on the base data that predict, blend and compare cases read."""
    from pipelines import train_gbdt

    out = tmp_path_factory.mktemp("robustness-run") / "run"
    args = ["--data-dir", str(base), "--out", str(out), "--config", str(base / "fast.toml")]
    assert train_gbdt.main(args) == 0
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case: Case, base, shared_run, tmp_path, capsys, caplog):
    ws = workspace(base, shared_run, tmp_path)
    case.setup(ws)
    argv = [a.format(**ws.placeholders()) for a in case.argv]
    if case.file_size_limit is None:
        code, errors, warnings = _in_process(case.command, argv, capsys, caplog)
    else:
        code, errors, warnings = _subprocess(case.command, argv, case.file_size_limit)
    errors = [ws.normalise(line) for line in errors]
    assert code == case.exit, f"exit {code}, stderr: {errors}"
    if case.exit:
        assert len(errors) == 1, f"expected one error line, got {errors}"
        if os.environ.get("ROBUSTNESS_RECORD"):
            _record(case, errors[0])
        else:
            assert _matches(case.message, errors[0]), errors[0]
    else:
        assert not errors, errors
        if case.message:
            assert any(case.message in ws.normalise(w) for w in warnings), warnings
    output = Path(case.output.format(**ws.placeholders())) if case.output else None
    if output is not None:
        if case.exit:
            assert not output.exists(), f"{output} was written"
        else:
            _assert_complete(output, ws)
    leftovers = [p for p in ws.dir.rglob("*") if _temporary(p.name)]
    assert not leftovers, leftovers
    partial = [ws.normalise(str(p)) for p in ws.dir.rglob("*.partial")]
    assert partial == ([render.placeholder(case.leaves)] if case.leaves else []), partial


def test_docs_are_the_rendered_table():
    written = render.DOC.read_text() if render.DOC.is_file() else ""
    assert written == render.render(CASES), (
        f"{render.DOC} is stale: regenerate it with `python -m tests.robustness.render`"
    )


def _in_process(command: str, argv: list[str], capsys, caplog):
    module = importlib.import_module(f"pipelines.{command}")
    with caplog.at_level(logging.WARNING):
        code = run_cli(lambda: module.main(argv))
    stderr = capsys.readouterr().err
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    return code, stderr.splitlines(), warnings


def _subprocess(command: str, argv: list[str], limit: int):
    """The command in its own process, on a 'disk' where no file may grow past `limit` bytes."""

    def small_disk() -> None:
        # Ignored, SIGXFSZ becomes the OSError (EFBIG) that a full disk's ENOSPC would be.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [sys.executable, "-m", f"pipelines.{command}", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=small_disk,
    )
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    warnings = [line for line in lines if LOG_LINE.match(line) and " WARNING " in line]
    return result.returncode, [line for line in lines if not LOG_LINE.match(line)], warnings


def _temporary(name: str) -> bool:
    return name.startswith(".tmp-") or name.endswith(".tmp")


def _record(case: Case, line: str) -> None:
    """ROBUSTNESS_RECORD=FILE: append each error line to FILE (JSON lines) instead of checking
    it, to write the table's MESSAGES after a deliberate change of wording."""
    with open(os.environ["ROBUSTNESS_RECORD"], "a") as handle:
        handle.write(json.dumps([case.id, line]) + "\n")


def _matches(expected: str, line: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, line) is not None


def _assert_complete(output: Path, ws: Workspace) -> None:
    """What a clean exit leaves: the whole output, with every test lesion scored."""
    assert output.exists(), f"{output} was not written"
    submission = output / "submission.csv" if output.is_dir() else output
    if output.is_dir():
        assert (output / "metrics.json").is_file() or (output / "train-metadata.csv").is_file()
    if submission.suffix != ".csv" or not submission.is_file():
        return
    # Polars reads a blank line as a row of nulls: it is no lesion.
    test_file = pl.read_csv(ws.data / "test-metadata.csv", columns=["isic_id"])
    test_ids = test_file["isic_id"].drop_nulls()
    written = pl.read_csv(submission)
    assert sorted(written["isic_id"].to_list()) == sorted(test_ids.to_list())
    assert all(math.isfinite(v) and 0 <= v <= 1 for v in written["target"])
