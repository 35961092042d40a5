"""Concurrent runs (issue 14 part 3): a second train_gbdt on the same --out stops at once with
one line naming the first, which finishes intact; a killed run's lock is taken over; a blend
folder is locked the same way; two predict on one run folder, even to one --out, both succeed.

The first run is held mid-way, deterministically: it stops itself (SIGSTOP, `models.faults`)
after its first fit, holding the lock, and goes on when the test sends SIGCONT."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from models.artifacts import folder_lock
from models.faults import KILL_SIGNAL_ENV
from pipelines import blend, train_gbdt
from tests.pipelines.conftest import (
    blend_args,
    finish,
    in_process,
    predict_args,
    same_bytes,
    start,
    train_args,
)


def wait_until_stopped(pid: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # /proc/PID/stat: "pid (name) STATE ..."; T is stopped by a signal.
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
            return
        time.sleep(0.1)
    raise AssertionError(f"process {pid} never stopped")


def test_a_second_run_on_the_same_out_stops_at_once_and_the_first_finishes(
    tiny_dir, tiny_run, tmp_path, capsys
):
    out = tmp_path / "run"
    first = start(
        "train_gbdt", train_args(tiny_dir, out), "fit_done:1", **{KILL_SIGNAL_ENV: "SIGSTOP"}
    )
    try:
        wait_until_stopped(first.pid)
        kept = sorted(p.name for p in out.with_name("run.partial").rglob("*"))
        for extra in ([], ["--resume"]):
            began = time.monotonic()
            code, lines = in_process(capsys, train_gbdt, train_args(tiny_dir, out, *extra))
            assert time.monotonic() - began < 10  # at once: before any data is read
            assert code == 2 and len(lines) == 1, lines
            assert lines[0].startswith(f"error: {out}: another train_gbdt (pid {first.pid} on ")
            assert "is writing this folder" in lines[0] and "choose another --out" in lines[0]
        # The refused commands touched nothing of the first one's.
        assert sorted(p.name for p in out.with_name("run.partial").rglob("*")) == kept
    finally:
        os.kill(first.pid, signal.SIGCONT)
    code, err = finish(first)
    assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} == {"run"}
    same_bytes(out, tiny_run)


def test_the_lock_of_a_killed_run_is_taken_over_by_a_new_run(tiny_dir, tiny_run, tmp_path, capsys):
    out = tmp_path / "run"
    killed = start("train_gbdt", train_args(tiny_dir, out), "fit_done:1")
    code, err = finish(killed)
    assert code == -signal.SIGKILL, err
    assert json.loads((tmp_path / "run.lock").read_text())["pid"] == killed.pid
    # Not --resume: the dead run's partial folder is replaced, its lock taken over.
    code, lines = in_process(capsys, train_gbdt, train_args(tiny_dir, out))
    assert code == 0, lines
    assert {p.name for p in tmp_path.iterdir()} == {"run"}
    same_bytes(out, tiny_run)


def test_a_blend_folder_is_locked_too(tiny_run, tmp_path, capsys):
    out = tmp_path / "blend"
    with folder_lock(out, "blend"):
        code, lines = in_process(capsys, blend, blend_args(tiny_run, out))
    assert code == 2 and len(lines) == 1
    assert lines[0].startswith(f"error: {out}: another blend (pid {os.getpid()} on ")
    assert list(tmp_path.iterdir()) == []


def test_two_predicts_on_one_run_folder_at_once_both_succeed(tiny_dir, tiny_run, tmp_path):
    out = tmp_path / "submission.csv"  # the same --out for both: each writes its own copy
    both = [
        start(
            "predict",
            predict_args(tiny_dir, tiny_run, out, "--predictions", str(tmp_path / f"p{i}.parquet")),
        )
        for i in range(2)
    ]
    for process in both:
        code, err = finish(process)
        assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} == {"submission.csv", "p0.parquet", "p1.parquet"}
    assert out.read_bytes() == (tiny_run / "submission.csv").read_bytes()
    for i in range(2):
        predictions = (tmp_path / f"p{i}.parquet").read_bytes()
        assert predictions == (tiny_run / "test_predictions.parquet").read_bytes()
    assert not list(tiny_run.glob(".*"))  # predict wrote nothing into the run folder
