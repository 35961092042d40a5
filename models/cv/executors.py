"""Where the fits of a plan run: one after another in this process, on a local process pool,
or on a Dask cluster.

The feature matrix is not sent with every task: pool workers memory-map one Arrow IPC file,
and a Dask cluster receives it once per worker (`scatter(broadcast=True)`). Models come back
as their native file's bytes.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.ipc

from features.errors import UserError
from models.boosters import FitSettings, Matrix, check_device, device_problem
from models.config import Config
from models.cv.plan import Executor, InProcess, TaskData, TaskOutput, TaskWork

SHARED_FILE = "matrix.arrow"


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
