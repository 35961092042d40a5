"""The storage opener: workers that create a new database together retry the lost race."""

from __future__ import annotations

import pytest

from features.errors import UserError
from models.tuning import storage


@pytest.mark.parametrize(
    "lost_race",
    [
        "(sqlite3.OperationalError) table studies already exists",
        "(sqlite3.IntegrityError) UNIQUE constraint failed: alembic_version.version_num",
        '(psycopg2.errors.UniqueViolation) duplicate key value violates unique constraint "x"',
    ],
)
def test_a_worker_that_loses_the_table_race_opens_the_tables_the_winner_made(
    tmp_path, monkeypatch, lost_race
):
    real = storage.RDBStorage
    calls = []

    def racing(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:
            raise RuntimeError(lost_race)
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "RDBStorage", racing)
    monkeypatch.setattr(storage.time, "sleep", lambda seconds: None)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    opened = storage.open_storage(url, heartbeat_seconds=5)
    assert isinstance(opened, real) and len(calls) == 2


def test_any_other_failure_is_one_user_error_at_once(tmp_path, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(args[0])
        raise RuntimeError("(sqlite3.OperationalError) unable to open database file")

    monkeypatch.setattr(storage, "RDBStorage", broken)
    with pytest.raises(UserError, match="unable to open database file"):
        storage.open_storage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_seconds=5)
    assert len(calls) == 1
