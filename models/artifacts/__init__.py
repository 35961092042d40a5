"""The run folder: built as `RUN_DIR.partial/` (each fit kept as it finishes, so a killed run
can resume), written from one `RunResult` and renamed into place when complete, and loaded
back to score new lesions offline. One command at a time writes a folder (`lock.py`); a
loaded folder is data, checked before it is trusted (`manifest.py`). Every file is written
under a temporary name and renamed; model files are the libraries' native formats, never
pickle.

    from models.artifacts import load_run
    load_run("runs/first").predict(frame)
"""

from models.artifacts.files import (
    CONFIG,
    ENSEMBLE,
    FOLDS,
    MANIFEST,
    METRICS,
    MODELS,
    OOF,
    OOF_REPEATS,
    SHAPE_FUNCTIONS,
    SHAPE_FUNCTIONS_BY_FOLD,
    SUBMISSION,
    TEST_PREDICTIONS,
    package_versions,
    write_csv,
    write_json,
    write_parquet,
)
from models.artifacts.folder import (
    IMAGE_SCORES,
    PARTIAL_SUFFIX,
    TaskFolder,
    default_run_dir,
    fingerprint,
    open_partial,
    partial_dir,
)
from models.artifacts.loader import (
    LoadedModel,
    Run,
    finished_manifest,
    load_run,
)
from models.artifacts.lock import LOCK_SUFFIX, folder_lock, lock_path
from models.artifacts.manifest import ADDITIVE_FORMAT, FORMAT, READS
from models.artifacts.result import FinishedRun, RunResult
from models.artifacts.writer import submission_frame, write_run

__all__ = [
    "ADDITIVE_FORMAT",
    "CONFIG",
    "ENSEMBLE",
    "FOLDS",
    "FORMAT",
    "IMAGE_SCORES",
    "LOCK_SUFFIX",
    "MANIFEST",
    "METRICS",
    "MODELS",
    "OOF",
    "OOF_REPEATS",
    "PARTIAL_SUFFIX",
    "READS",
    "SHAPE_FUNCTIONS",
    "SHAPE_FUNCTIONS_BY_FOLD",
    "SUBMISSION",
    "TEST_PREDICTIONS",
    "FinishedRun",
    "LoadedModel",
    "Run",
    "RunResult",
    "TaskFolder",
    "default_run_dir",
    "finished_manifest",
    "fingerprint",
    "folder_lock",
    "load_run",
    "lock_path",
    "open_partial",
    "package_versions",
    "partial_dir",
    "submission_frame",
    "write_csv",
    "write_json",
    "write_parquet",
    "write_run",
]
