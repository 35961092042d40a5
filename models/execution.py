"""Where the fits of a cross-validation run: one after another in this process, on a local
process pool, or on a Dask cluster.

Every (library, fold, split seed, bag) fit is an independent task with its own seed. Wherever
it runs, its out-of-fold scores and its model (the library's native file, as bytes: never a
pickled booster) come back to this process, which stores each as it arrives (so an interrupted
run can resume) and hands them to `cv.py`, which combines them in plan order: the result does
not depend on where, or in which order, the tasks ran.

The feature matrix is not sent with every task: pool workers memory-map one Arrow IPC file,
and a Dask cluster receives it once per worker (`scatter(broadcast=True)`).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc

from features.errors import UserError
from models.config import Config
from models.device import check_device, device_problem
from models.gbdt import FitSettings, Fitted, Matrix
from models.metric import isic_pauc
from models.progress import progress
from models.registry import booster

log = logging.getLogger(__name__)

# Test-only: end the process abruptly (as a kill would) once this many fits are stored.
STOP_AFTER_ENV = "TBP_GBDT_TEST_STOP_AFTER_FITS"
SHARED_FILE = "matrix.arrow"


@dataclass(frozen=True)
class TaskData:
    """What every task reads: the feature matrix with labels, patients and every repeat's folds."""

    x: Matrix
    patient_ids: np.ndarray
    folds: np.ndarray  # (repeats, rows)

    def valid_rows(self, task: Any) -> np.ndarray:
        return np.flatnonzero(self.folds[task.repeat] == task.fold)


@dataclass
class TaskOutput:
    task: Any  # models.cv.FitTask
    scores: np.ndarray  # out-of-fold scores of the task's validation rows, in row order
    rounds: int
    model: bytes  # the native model file
    fitted: Fitted | None = None  # set once the model is in this process
    rows: np.ndarray | None = None  # the validation rows the scores belong to


TaskWork = Callable[[Any, TaskData, FitSettings], TaskOutput]


class TaskStore(Protocol):
    """Where finished tasks are kept between runs (`artifacts.TaskFolder`)."""

    def load(self, task: Any) -> TaskOutput | None: ...

    def save(self, output: TaskOutput) -> None: ...


class Executor(Protocol):
    def fit_settings(self, settings: FitSettings) -> FitSettings: ...

    def run(
        self,
        tasks: Sequence[Any],
        work: TaskWork,
        data: TaskData,
        settings: FitSettings,
        on_done: Callable[[TaskOutput], None],
    ) -> None: ...

    def close(self) -> None: ...


def run_plan(
    tasks: Sequence[Any],
    work: TaskWork,
    data: TaskData,
    settings: FitSettings,
    *,
    executor: Executor | None = None,
    store: TaskStore | None = None,
    label: str = "cross-validation",
) -> dict[str, TaskOutput]:
    """Every task's output by `task.stem`: the ones `store` already holds, then the rest run
    on `executor` (in this process by default), each stored as soon as it finishes; `label`
    names them in the progress bar and log."""
    outputs: dict[str, TaskOutput] = {}
    if store is not None:
        for task in tasks:
            stored = store.load(task)
            if stored is None:
                continue
            if stored.rows is not None and not np.array_equal(stored.rows, data.valid_rows(task)):
                raise UserError(
                    f"stored fit {task.stem}: its held-out rows differ from this run's folds; "
                    "resume with the same data and folds, or start a new --out"
                )
            outputs[task.stem] = stored
        if outputs:
            log.info(
                "resuming: %d of %d fits already done, %d to run",
                len(outputs),
                len(tasks),
                len(tasks) - len(outputs),
            )
    pending = [task for task in tasks if task.stem not in outputs]
    executor = executor or InProcess()
    stop_after = int(os.environ.get(STOP_AFTER_ENV, "0") or 0)
    y = np.asarray(data.x.y)
    with progress(len(pending), label) as bar:

        def on_done(output: TaskOutput) -> None:
            if store is not None:
                store.save(output)
            outputs[output.task.stem] = output
            if stop_after and len(outputs) >= stop_after:
                os._exit(75)
            task = output.task
            bar.step(
                f"repeat {task.repeat} fold {task.fold} {task.model} bag {task.bag}: "
                f"{output.rounds} rounds, pAUC "
                f"{_safe_pauc(y[data.valid_rows(task)], output.scores):.4f}"
            )

        executor.run(pending, work, data, executor.fit_settings(settings), on_done)
    for output in outputs.values():
        if output.fitted is None:
            output.fitted = load_model_bytes(output.task.model, output.model, output.rounds)
    return outputs


def model_bytes(name: str, fitted: Fitted) -> bytes:
    """The model's native file (`Booster.suffix`), as bytes."""
    with tempfile.TemporaryDirectory(prefix="tbp-model-") as folder:
        path = Path(folder) / f"model{booster(name).suffix}"
        fitted.save(path)
        return path.read_bytes()


def load_model_bytes(name: str, data: bytes, rounds: int) -> Fitted:
    """A model back from `model_bytes`, predicting with `rounds` rounds as when it was fitted."""
    model = booster(name)
    with tempfile.TemporaryDirectory(prefix="tbp-model-") as folder:
        path = Path(folder) / f"model{model.suffix}"
        path.write_bytes(data)
        fitted = model.load(path)
    fitted.rounds = rounds
    return fitted


def check_target(config: Config, cluster: str | None = None) -> None:
    """Fail early, as a UserError, when the fits cannot run where asked: a requested GPU that
    this machine (or a cluster worker) lacks, or a cluster that cannot be reached."""
    if cluster is None:
        check_device(config.training.device, config.models.names)
        return
    executor = DaskCluster(cluster, config.training.worker_threads or config.training.threads)
    try:
        executor.check_device(config.training.device, config.models.names)
    finally:
        executor.close()


@contextmanager
def open_executor(
    config: Config, cluster: str | None = None, scratch: Path | None = None
) -> Iterator[Executor]:
    """The executor the config and `--cluster` ask for (see `check_target` for the checks);
    closed on exit. `scratch` is where a local pool writes its shared matrix."""
    t = config.training
    if cluster is not None:
        executor: Executor = DaskCluster(cluster, t.worker_threads or t.threads)
    else:
        if t.workers > 1:
            threads = t.worker_threads or max(1, t.n_threads // t.workers)
            executor = ProcessPool(t.workers, threads, scratch)
        else:
            executor = InProcess()
    try:
        yield executor
    finally:
        executor.close()


class InProcess:
    """Today's loop: one task after another, in this process, with the config's threads."""

    def fit_settings(self, settings: FitSettings) -> FitSettings:
        return settings

    def run(self, tasks, work, data, settings, on_done) -> None:
        for task in tasks:
            on_done(work(task, data, settings))

    def close(self) -> None:
        pass


class ProcessPool:
    """`workers` local processes (spawned: forking a process whose OpenMP and Polars thread
    pools are running can deadlock), each fit with `threads` threads."""

    def __init__(self, workers: int, threads: int, scratch: Path | None = None):
        self.workers = workers
        self.threads = threads
        self.scratch = scratch

    def fit_settings(self, settings: FitSettings) -> FitSettings:
        return dataclasses.replace(settings, threads=self.threads)

    def run(self, tasks, work, data, settings, on_done) -> None:
        if not tasks:
            return
        with tempfile.TemporaryDirectory(prefix="tbp-pool-", dir=self.scratch) as folder:
            path = Path(folder) / SHARED_FILE
            _write_shared(data, path)
            with ProcessPoolExecutor(
                max_workers=min(self.workers, len(tasks)),
                mp_context=get_context("spawn"),
                initializer=_pool_start,
                initargs=(str(path), data.x.names, data.x.categorical, data.folds.shape[0]),
            ) as pool:
                futures = [pool.submit(_pool_run, work, task, settings) for task in tasks]
                try:
                    for future in as_completed(futures):
                        on_done(future.result())
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise

    def close(self) -> None:
        pass


class DaskCluster:
    """A Dask scheduler at `address` (`tcp://HOST:PORT`). Each fit uses `threads` threads
    (0: the worker machine's cores divided by the worker's task slots)."""

    def __init__(self, address: str, threads: int, timeout: str = "20s"):
        try:
            from distributed import Client
        except ImportError:
            raise UserError(
                f"--cluster {address}: Dask is not installed; pip install -e '.[distributed]'"
            ) from None
        try:
            self.client = Client(address, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as error:
            raise UserError(
                f"--cluster {address}: cannot reach the Dask scheduler ({error})"
            ) from None
        self.address = address
        self.threads = threads

    def check_device(self, device: str, model_names: Sequence[str]) -> None:
        if device == "cpu":
            return
        problems = self.client.run(device_problem, device, list(model_names))
        for worker, problem in sorted(problems.items()):
            if problem is not None:
                raise UserError(f"--cluster {self.address}: worker {worker}: {problem}")

    def fit_settings(self, settings: FitSettings) -> FitSettings:
        return dataclasses.replace(settings, threads=self.threads)

    def run(self, tasks, work, data, settings, on_done) -> None:
        if not tasks:
            return
        from distributed import as_completed as dask_completed

        shared = self.client.scatter(data, broadcast=True)
        futures = [
            self.client.submit(
                _remote_run, work, task, shared, settings, pure=False, key=f"fit-{task.stem}"
            )
            for task in tasks
        ]
        try:
            for future in dask_completed(futures):
                on_done(future.result())
        finally:
            self.client.cancel([*futures, shared])

    def close(self) -> None:
        self.client.close()


_SHARED: TaskData | None = None


def _write_shared(data: TaskData, path: Path) -> None:
    frame = data.x.frame.select(data.x.names).with_columns(
        pl.Series("__y", np.asarray(data.x.y)),
        pl.Series("__patient_id", data.patient_ids),
        *(pl.Series(f"__fold_{r}", data.folds[r]) for r in range(data.folds.shape[0])),
    )
    frame.write_ipc(path, compression="uncompressed")


def _pool_start(path: str, names: list[str], categorical: list[str], repeats: int) -> None:
    global _SHARED
    # Through pyarrow's memory map the columns stay views of the file's pages, which every
    # worker shares (Polars' own IPC reader copies them); Enum columns survive the trip.
    frame = pl.from_arrow(pa.ipc.open_file(pa.memory_map(path)).read_all())
    x = Matrix(frame.select(names), names, categorical, frame["__y"].to_numpy())
    folds = np.stack([frame[f"__fold_{r}"].to_numpy() for r in range(repeats)])
    _SHARED = TaskData(x, frame["__patient_id"].to_numpy(), folds)


def _pool_run(work: TaskWork, task: Any, settings: FitSettings) -> TaskOutput:
    assert _SHARED is not None, "pool worker started without its shared matrix"
    return dataclasses.replace(work(task, _SHARED, settings), fitted=None)


def _remote_run(work: TaskWork, task: Any, data: TaskData, settings: FitSettings) -> TaskOutput:
    if settings.threads <= 0:
        from distributed import get_worker

        slots = max(1, int(getattr(get_worker(), "nthreads", 1) or 1))
        settings = dataclasses.replace(settings, threads=max(1, (os.cpu_count() or 1) // slots))
    # The booster object stays here; its native bytes travel.
    return dataclasses.replace(work(task, data, settings), fitted=None)


def _safe_pauc(y: np.ndarray, scores: np.ndarray) -> float:
    if y.size == 0 or y.min() == y.max():
        return float("nan")
    return isic_pauc(y, scores)
