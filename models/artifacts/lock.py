"""One writer per output folder: a command that builds a run or blend folder holds a lock on
it, so a second command given the same `--out` stops at once instead of deleting or mixing
into the first one's `.partial` folder.

The lock is `OUT.lock` beside the folder, held with `flock` for as long as the command runs.
The kernel drops a `flock` when its process ends, however it ends, so a lock left by a killed
command is free to take: the file is still there, naming the pid, host and start time of the
run that died, and the next command (a new run or `--resume`) takes it over. The file is
removed when the command finishes. `flock` is local to one machine: two machines
writing one `--out` on a network file system are not kept apart.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from features.errors import UserError

log = logging.getLogger(__name__)

LOCK_SUFFIX = ".lock"


def lock_path(out: Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + LOCK_SUFFIX)


@contextmanager
def folder_lock(out: Path, command: str) -> Iterator[Path]:
    """Hold `out`'s lock while the block runs; a user error naming the holder when another
    live process holds it. `command` names this one in the lock file."""
    path = lock_path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{out}: cannot create its folder ({error.strerror})") from error
    descriptor = _acquire(path, out, command)
    try:
        yield path
    finally:
        # Removed while still held, and only if it is still ours: a command that opened the
        # file a moment ago then fails its `flock` or finds the file gone, and tries again.
        if _same_file(descriptor, path):
            path.unlink(missing_ok=True)
        os.close(descriptor)


def _acquire(path: Path, out: Path, command: str) -> int:
    while True:
        try:
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(
                f"{out}: cannot write there ({path}: {error.strerror}); expected a writable --out"
            ) from error
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _parse(os.pread(descriptor, 4096, 0))
            os.close(descriptor)
            raise UserError(
                f"{out}: {_describe(owner)} is writing this folder (lock {path}); wait for it "
                "to finish or choose another --out"
            ) from None
        if not _same_file(descriptor, path):
            # The holder finished and removed the file between our open and our flock.
            os.close(descriptor)
            continue
        previous = _parse(os.pread(descriptor, 4096, 0))
        if previous is not None:
            # Debug, not a warning: a user error that follows must stay the only line on stderr;
            # the `.partial` folder's own messages already say that a run was interrupted.
            log.debug(
                "%s: the lock of %s was left behind (that process is gone); taking it over",
                path,
                _describe(previous),
            )
        mine = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, (json.dumps(mine) + "\n").encode(), 0)
        return descriptor


def _same_file(descriptor: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(descriptor)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _parse(data: bytes) -> dict | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _describe(owner: dict | None) -> str:
    if owner is None:
        return "another process"
    return (
        f"another {owner.get('command', 'command')} (pid {owner.get('pid')} on "
        f"{owner.get('host')}, since {owner.get('started')})"
    )
