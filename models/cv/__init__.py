"""Cross-validation over patient-grouped folds: the folds (seeded, or imposed from a file),
sampling of training rows, fit tasks (one library, fold, split seed and bag each) and where
they run (in process, a local pool, a Dask cluster), reuse of an interrupted run's fits, and
leave-one-group-out training. Sits on `boosters`, `blend` (ranks across repeats) and
`evaluation`."""

from models.cv.crossval import CVResult, FoldModel, cross_validate, repeat_scores
from models.cv.data import TrainingData, row_order, training_data
from models.cv.executors import (
    DaskCluster,
    ProcessPool,
    check_target,
    open_executor,
)
from models.cv.folds import (
    inner_split,
    patient_folds,
    read_folds_file,
    repeated_patient_folds,
)
from models.cv.leave_one_out import leave_one_group_out
from models.cv.plan import STOP_AFTER_ENV, Executor, InProcess, TaskData, TaskOutput, run_plan
from models.cv.resume import TaskStore
from models.cv.sampling import (
    SamplingPlan,
    cap_per_patient,
    derive_seed,
    disjoint_part,
    oversample_positives,
    sample_rows,
    sampling_plan,
    undersample_negatives,
)
from models.cv.tasks import (
    FitTask,
    fit_one,
    fit_settings,
    fit_task,
    log_odds,
    plan_tasks,
    split_seeds,
    task_scores,
)

__all__ = [
    "STOP_AFTER_ENV",
    "CVResult",
    "DaskCluster",
    "Executor",
    "FitTask",
    "FoldModel",
    "InProcess",
    "ProcessPool",
    "SamplingPlan",
    "TaskData",
    "TaskOutput",
    "TaskStore",
    "TrainingData",
    "cap_per_patient",
    "check_target",
    "cross_validate",
    "derive_seed",
    "disjoint_part",
    "fit_one",
    "fit_settings",
    "fit_task",
    "inner_split",
    "leave_one_group_out",
    "log_odds",
    "open_executor",
    "oversample_positives",
    "patient_folds",
    "plan_tasks",
    "read_folds_file",
    "repeat_scores",
    "repeated_patient_folds",
    "row_order",
    "run_plan",
    "sample_rows",
    "sampling_plan",
    "split_seeds",
    "task_scores",
    "training_data",
    "undersample_negatives",
]
