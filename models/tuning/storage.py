"""Where a study lives and who may join it.

- A database URL Optuna takes (`sqlite:///FILE`, the default beside the output;
  `postgresql://...` for workers on many machines) opens an `RDBStorage` with heartbeats: a
  worker that dies mid-trial stops beating, the next live worker marks that trial failed and
  queues a retry of the same parameters (`RetryHeartbeatStaleTrialCallback`).
- `journal:PATH` opens a journal file, for several processes on one host (no heartbeats: a
  killed process's trial stays running).

A study records the library it tunes and a key of the data and folds it tunes on; a worker
given another library or other data is refused, since mixing them would compare trials that
saw different things."""

from __future__ import annotations

import re
import time

import optuna
from optuna.storages import JournalStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend

from features.errors import UserError, first_line

JOURNAL_PREFIX = "journal:"
# A killed worker's trial is retried at most this many times (a trial that kills every
# worker it lands on must not loop for ever).
MAX_RETRIES = 3
# The system attribute in which Optuna's retry callback names the original trial.
RETRIED_FROM = "failed_trial"
STUDY_MODEL = "tbp_model"
TABLE_RACE_ATTEMPTS = 4
# What the loser of that race reads: a table made by the other worker (SQLite, PostgreSQL), or
# the other worker's row in the schema-version table (SQLite's and PostgreSQL's wording).
TABLE_RACE_SIGNS = ("already exists", "UNIQUE constraint failed", "duplicate key value")
STUDY_DATA = "tbp_data"


def open_storage(url: str | None, heartbeat_seconds: int) -> optuna.storages.BaseStorage:
    """The storage at `url` (None: in this process's memory, gone when it ends); a URL that
    cannot be opened is a user error naming it."""
    if url is None:
        return optuna.storages.InMemoryStorage()
    if url.startswith(JOURNAL_PREFIX):
        path = url[len(JOURNAL_PREFIX) :]
        try:
            return JournalStorage(JournalFileBackend(path))
        except OSError as error:
            raise UserError(f"--storage {url}: cannot open the journal file ({error})") from None
    for attempt in range(TABLE_RACE_ATTEMPTS):
        try:
            return RDBStorage(
                url,
                engine_kwargs=_engine_kwargs(url),
                heartbeat_interval=heartbeat_seconds,
                grace_period=2 * heartbeat_seconds,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRIES
                ),
            )
        except Exception as error:  # sqlalchemy's errors, a missing driver, a malformed URL
            reason = first_line(error)
            # Workers that start together on a new database race to create its tables: the
            # loser finds them made, and opens them on the next try.
            raced = any(sign in reason for sign in TABLE_RACE_SIGNS)
            if raced and attempt + 1 < TABLE_RACE_ATTEMPTS:
                time.sleep(0.5 * (attempt + 1))
                continue
            raise UserError(
                f"--storage {redact(url)}: cannot open the study storage ({reason})"
            ) from None
    raise AssertionError("unreachable")


def heartbeat_enabled(storage: optuna.storages.BaseStorage) -> bool:
    return isinstance(storage, RDBStorage)


def open_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    model: str,
    data_key: str,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """The study `name`, created when new; one made for another library or data is refused."""
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="maximize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    recorded = study.user_attrs
    if recorded.get(STUDY_MODEL, model) != model:
        raise UserError(
            f"study '{name}' tunes {recorded[STUDY_MODEL]}, not {model}; "
            "give another --study or the same --model"
        )
    if recorded.get(STUDY_DATA, data_key) != data_key:
        raise UserError(
            f"study '{name}' was made on other data or folds (key {recorded[STUDY_DATA]}, "
            f"here {data_key}); give another --study"
        )
    if STUDY_MODEL not in recorded:
        study.set_user_attr(STUDY_MODEL, model)
        study.set_user_attr(STUDY_DATA, data_key)
    return study


def retried_number(trial: optuna.trial.FrozenTrial) -> int | None:
    """The number of the trial this one retries (after its worker died), else None. Read
    where `RetryHeartbeatStaleTrialCallback` writes it (its own reader warns "experimental"
    on every call)."""
    return trial.system_attrs.get(RETRIED_FROM)


def redact(url: str | None) -> str:
    """`url` without its password, for messages."""
    if url is None:
        return "memory (this process only)"
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _engine_kwargs(url: str) -> dict:
    # SQLite: wait for another worker's write lock instead of failing at once.
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 60}}
    # A server: drop dead pooled connections instead of failing a trial on them, and give up
    # on an unreachable one in seconds, not minutes.
    kwargs: dict = {"pool_pre_ping": True}
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": 10}
    return kwargs
