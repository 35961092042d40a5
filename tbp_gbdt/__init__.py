"""tbp-gbdt from Python: one function per command, its flags as keyword arguments.

    import tbp_gbdt as tbp

    run = tbp.train(data_dir="kaggle", models="lgbm,xgb,cat")
    run.metrics["oof_pauc"]["ensemble"]
    predictions = run.predict(test_frame)

Every data argument takes a path or a Polars or pandas DataFrame, checked as the commands
check a file; frames come back as Polars; a mistake raises `UserError` with the command's
one-line message. This package only re-exports: the functions live beside their commands in
`pipelines/`, and nothing in the project imports this package."""

from features.errors import UserError
from models.artifacts import Run, load_run
from models.artifacts.blend_folder import FinishedBlend as Blend
from models.evaluation import Comparison
from models.external import Evaluation
from models.tuning import TuneOutcome
from pipelines.blend import blend
from pipelines.build_features import Features, build_features
from pipelines.compare import compare
from pipelines.evaluate import evaluate
from pipelines.feature_report import feature_report
from pipelines.make_synthetic import make_synthetic
from pipelines.predict import predict
from pipelines.train_gbdt import train
from pipelines.tune import tune

__all__ = [
    "Blend",
    "Comparison",
    "Evaluation",
    "Features",
    "Run",
    "TuneOutcome",
    "UserError",
    "blend",
    "build_features",
    "compare",
    "evaluate",
    "feature_report",
    "load_run",
    "make_synthetic",
    "predict",
    "train",
    "tune",
]
