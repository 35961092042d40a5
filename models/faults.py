"""Deterministic fault points for the kill tests: a process asked to die at a named point dies
there, by a real signal, with no clean-up, as under `kill -9`.

`TBP_KILL_AT=POINT[:N]` (N defaults to 1) sends the process `TBP_KILL_SIGNAL` (default
SIGKILL; SIGSTOP freezes it instead, which the lock tests use to hold a run mid-way) the N-th
time it reaches POINT. Only tests set these variables; unset, `reached` is a dictionary look-up.

The points, where the work naturally pauses:
- `features`: the training features are built, no fit has run
- `fit_done`: a fit (one fold, model, bag) has finished, before it is kept and the next one
  starts (the fits before it are kept)
- `write`, and `write:NAME` (NAME a file name such as `submission.csv`): a file's temporary
  copy is complete and not yet renamed into place
- `predict`: a run folder is loaded and the test file read, nothing is scored yet
- `evaluation_done`: an evaluation folder is complete in its `.partial` name, not yet renamed
"""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_AT_ENV = "TBP_KILL_AT"
KILL_SIGNAL_ENV = "TBP_KILL_SIGNAL"

_reached: Counter[str] = Counter()


def reached(point: str) -> None:
    """Count one arrival at `point`; die (or stop) here when the environment asks for it."""
    wanted = os.environ.get(KILL_AT_ENV)
    if not wanted:
        return
    name, count = _parse(wanted)
    if name != point:
        return
    _reached[point] += 1
    if _reached[point] == count:
        os.kill(os.getpid(), getattr(signal, os.environ.get(KILL_SIGNAL_ENV) or "SIGKILL"))


def _parse(wanted: str) -> tuple[str, int]:
    """`write:submission.csv:2` -> ("write:submission.csv", 2); `fit_done` -> ("fit_done", 1)."""
    name, _, count = wanted.rpartition(":")
    if name and count.isdigit():
        return name, int(count)
    return wanted, 1
