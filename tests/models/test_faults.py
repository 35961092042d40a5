"""The kill tests' hook: a process told to die at the N-th arrival at a point dies there, by
the signal asked for, and not before; unset, nothing happens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from models import faults
from tests.conftest import REPO

# Reaches "step" three times, printing before each; the kill shows where it stopped.
SCRIPT = """
from models import faults
for i in range(3):
    print(i, flush=True)
    faults.reached("step")
    faults.reached("other")
print("done", flush=True)
"""


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    ours = (faults.KILL_AT_ENV, faults.KILL_SIGNAL_ENV)
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("wanted", "printed", "code"),
    [
        ("step:2", "0 1", -signal.SIGKILL),
        ("step", "0", -signal.SIGKILL),  # N defaults to 1
        ("step:4", "0 1 2 done", 0),  # never reached a fourth time
        ("nowhere:1", "0 1 2 done", 0),
    ],
)
def test_the_process_dies_at_the_nth_arrival(wanted, printed, code):
    result = _run({faults.KILL_AT_ENV: wanted})
    assert result.returncode == code
    assert result.stdout.split() == printed.split()


def test_another_signal_can_be_asked_for():
    result = _run({faults.KILL_AT_ENV: "other:1", faults.KILL_SIGNAL_ENV: "SIGTERM"})
    assert result.returncode == -signal.SIGTERM and result.stdout.split() == ["0"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write:submission.csv", ("write:submission.csv", 1)),
        ("write:submission.csv:3", ("write:submission.csv", 3)),
        ("fit_done:12", ("fit_done", 12)),
        ("features", ("features", 1)),
    ],
)
def test_point_names_may_hold_colons(text, expected):
    assert faults._parse(text) == expected


def test_unset_it_does_nothing(monkeypatch):
    monkeypatch.delenv(faults.KILL_AT_ENV, raising=False)
    for _ in range(3):
        faults.reached("write")  # the test process is still alive
