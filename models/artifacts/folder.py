"""The run folder while it is built: `RUN_DIR.partial/`, renamed to RUN_DIR when complete,
and every fit kept in it as it finishes so that `train_gbdt --resume` runs only the rest.

A fit's outputs are its native model file (`models/<stem><suffix>`, as in the finished run),
its out-of-fold scores (`tasks/<stem>.parquet`: row index and score) and, written last, a
marker (`tasks/<stem>.json`: the task, the model file's hash and the rounds). Each is written
under a temporary name and renamed, so a fit without its marker never happened. The marker
is the only thing `load` trusts; a stale or damaged fit is run again.

A partial folder records the hashes of the config and the input data it was started with
(`tasks/fingerprint.json`); resuming with other ones is refused, since the kept fits would not
belong to the run being finished. Where the fits run is not part of the hash (threads, workers,
worker threads: resume a run on another machine or pool size); with the same threads per fit
the result equals an uninterrupted run's bit for bit. The `tasks/` folder is removed when the
run completes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from features.errors import UserError
from features.io import file_sha256
from models.artifacts.files import MODELS, write_bytes, write_json, write_parquet
from models.artifacts.manifest import inside
from models.boosters import booster
from models.config import Config
from models.cv import TaskOutput

log = logging.getLogger(__name__)

TASKS = "tasks"
FINGERPRINT = "fingerprint.json"
PARTIAL_SUFFIX = ".partial"
IMAGE_SCORES = "image_scores"  # the key of `inputs` that describes image score files
# [training] settings that say where fits run, not what they are.
_PLACEMENT_SETTINGS = ("threads", "workers", "worker_threads")


def default_run_dir() -> Path:
    return Path("runs") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def partial_dir(run_dir: Path) -> Path:
    run_dir = Path(run_dir)
    return run_dir.with_name(run_dir.name + PARTIAL_SUFFIX)


def fingerprint(config: Config, inputs: dict[str, Any], folds_file: Path | None = None) -> dict:
    """Hashes of what decides a run's fits: the full config, the input files' contents (by
    file name, so a data folder that moved still matches) and the frames' content hashes,
    image score files included (`inputs["image_scores"]`, as `ImageScores.describe` gives
    it)."""
    hashes = inputs.get("sha256")
    data = {Path(k).name: v for k, v in hashes.items()} if isinstance(hashes, dict) else inputs
    frames = inputs.get("frames")
    if isinstance(hashes, dict) and frames:  # files and frames given together
        data = {**data, "frames": {role: f["sha256"] for role, f in frames.items()}}
    if folds_file is not None:
        data = {**data, "folds_file": file_sha256(Path(folds_file))}
    scores = inputs.get(IMAGE_SCORES)
    if scores:  # by content, as the data files: a score file that moved still matches
        data = {k: v for k, v in data.items() if k != IMAGE_SCORES}
        data[IMAGE_SCORES] = {r: scores[r]["sha256"] for r in ("train", "test") if r in scores}
    decisive = config.to_dict()
    decisive["training"] = {
        k: v for k, v in decisive["training"].items() if k not in _PLACEMENT_SETTINGS
    }
    return {"config_sha256": _digest(decisive), "inputs_sha256": _digest(data)}


def open_partial(run_dir: Path, stamp: dict, resume: bool) -> Path:
    """The `.partial` folder to build `run_dir` in: a new one, or with `resume` the one an
    interrupted run left, checked against `stamp` (from `fingerprint`)."""
    run_dir = Path(run_dir)
    if not resume:
        partial = _start_run(run_dir)
        (partial / TASKS).mkdir()
        write_json(partial / TASKS / FINGERPRINT, stamp)
        return partial
    if run_dir.exists():
        raise UserError(f"{run_dir}: this run already finished; there is nothing to resume")
    partial = partial_dir(run_dir)
    stored_path = partial / TASKS / FINGERPRINT
    if not partial.is_dir():
        raise UserError(f"{partial}: no unfinished run to resume there")
    if not stored_path.is_file():
        raise UserError(f"{stored_path}: missing; this partial run cannot be resumed")
    stored = json.loads(stored_path.read_text())
    for key, what in (("config_sha256", "config"), ("inputs_sha256", "input data")):
        if stored.get(key) != stamp[key]:
            raise UserError(
                f"{partial}: the {what} differs from the interrupted run's ({key} "
                f"{str(stored.get(key))[:12]} there, {stamp[key][:12]} now); resume with the "
                "same config and data, or start a new --out"
            )
    (partial / MODELS).mkdir(exist_ok=True)
    return partial


def close_partial(partial: Path) -> None:
    """Drop what only resuming needs, before the folder becomes the finished run."""
    shutil.rmtree(Path(partial) / TASKS, ignore_errors=True)


def finish_run(run_dir: Path) -> Path:
    """Rename the complete `.partial` folder to `run_dir`."""
    close_partial(partial_dir(run_dir))
    os.replace(partial_dir(run_dir), run_dir)
    return Path(run_dir)


def _start_run(run_dir: Path) -> Path:
    """The `.partial` folder to build `run_dir` in; a stale one from a crashed run is replaced."""
    if run_dir.exists():
        raise UserError(f"{run_dir}: run folder already exists; choose another --out")
    partial = partial_dir(run_dir)
    if partial.exists():
        log.warning("%s: removing the unfinished run left there", partial)
        shutil.rmtree(partial)
    (partial / MODELS).mkdir(parents=True)
    return partial


class TaskFolder:
    """`models.cv.TaskStore` over a partial run folder."""

    def __init__(self, partial: Path):
        self.partial = Path(partial)
        (self.partial / TASKS).mkdir(exist_ok=True)
        (self.partial / MODELS).mkdir(exist_ok=True)

    def load(self, task: Any) -> TaskOutput | None:
        marker = self._marker(task)
        if not marker.is_file():
            return None
        try:
            entry = json.loads(marker.read_bytes())
            # A marker is data like a manifest: its model file must be inside the folder.
            model = inside(self.partial, entry["file"], "file")
            rounds = int(entry["rounds"])
        except (ValueError, KeyError, TypeError, UserError):
            log.warning("%s: damaged fit marker; fitting it again", marker)
            return None
        scores = self._scores(task)
        if (
            {k: entry.get(k) for k in dataclasses.asdict(task)} != dataclasses.asdict(task)
            or not model.is_file()
            or file_sha256(model) != entry.get("sha256")
            or not scores.is_file()
        ):
            log.warning("%s: fit stored incompletely or for another task; fitting it again", marker)
            return None
        frame = pl.read_parquet(scores)
        return TaskOutput(
            task,
            frame["score"].to_numpy(),
            rounds,
            model.read_bytes(),
            rows=frame["row"].to_numpy(),
        )

    def save(self, output: TaskOutput) -> None:
        task = output.task
        path = self.partial / MODELS / f"{task.stem}{booster(task.model).suffix}"
        write_bytes(path, output.model)
        rows = output.rows if output.rows is not None else np.arange(output.scores.size)
        write_parquet(self._scores(task), pl.DataFrame({"row": rows, "score": output.scores}))
        write_json(self._marker(task), self.entry_for(output, path))

    def entry(self, task: Any) -> dict[str, Any]:
        """The manifest entry of a stored fit: the task, its model file, hash and rounds."""
        return json.loads(self._marker(task).read_text())

    def entry_for(self, output: TaskOutput, path: Path) -> dict[str, Any]:
        return {
            **dataclasses.asdict(output.task),
            "file": f"{MODELS}/{path.name}",
            "sha256": hashlib.sha256(output.model).hexdigest(),
            "rounds": output.rounds,
        }

    def _marker(self, task: Any) -> Path:
        return self.partial / TASKS / f"{task.stem}.json"

    def _scores(self, task: Any) -> Path:
        return self.partial / TASKS / f"{task.stem}.parquet"


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
