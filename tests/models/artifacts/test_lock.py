"""The folder lock: one holder at a time; a lock file whose process is gone is taken over; the
file goes when its holder finishes. Two processes at once: tests/pipelines/test_locks.py."""

from __future__ import annotations

import json
import os

import pytest

from features.errors import UserError
from models.artifacts import folder_lock, lock_path


def test_a_held_lock_refuses_a_second_holder_naming_the_first(tmp_path):
    out = tmp_path / "run"
    with folder_lock(out, "train_gbdt") as path:
        assert path == tmp_path / "run.lock"
        held = json.loads(path.read_text())
        assert held["pid"] == os.getpid() and held["command"] == "train_gbdt"
        # flock locks belong to an open file, not a process: this process is refused too.
        with pytest.raises(UserError) as refused, folder_lock(out, "blend"):
            pass
        message = str(refused.value)
        assert message.startswith(f"{out}: another train_gbdt (pid {os.getpid()} on ")
        assert "choose another --out" in message and "\n" not in message
        assert path.is_file()  # the refused one removed nothing
    assert not path.exists()
    with folder_lock(out, "train_gbdt"):  # free again
        pass


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    out = tmp_path / "run"
    # What a killed holder leaves: the file naming it, and no flock (the kernel dropped it).
    dead = {"pid": 999_999_999, "host": "gone", "started": "2024-01-01T00:00:00+00:00"}
    lock_path(out).write_text(json.dumps({**dead, "command": "train_gbdt"}))
    with folder_lock(out, "train_gbdt --resume") as path:
        now = json.loads(path.read_text())
        assert now["pid"] == os.getpid() and now["command"] == "train_gbdt --resume"
    assert not path.exists()


def test_a_damaged_lock_file_is_taken_over_too(tmp_path):
    out = tmp_path / "run"
    lock_path(out).write_bytes(b"\xff\x00 not json")
    with folder_lock(out, "blend") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_an_unwritable_place_is_a_user_error(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be")
    with (
        pytest.raises(
            UserError, match=r"blocked/sub/run: cannot create its folder \(Not a directory\)"
        ),
        folder_lock(blocked / "sub" / "run", "train_gbdt"),
    ):
        pass
