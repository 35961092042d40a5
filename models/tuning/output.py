"""What `tune` leaves: `best.toml`, a partial config that `train_gbdt --config` takes, with the
study's numbers and the fresh-split verdict in its header comments; and beside it each study's
optimisation history and parameter importances as PNG (Optuna's matplotlib plots)."""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import optuna
import tomli_w

log = logging.getLogger(__name__)


def write_best_config(path: Path, table: dict[str, Any], header: list[str]) -> None:
    """`table` as TOML under `header` (comment lines), written to a temporary name in the same
    folder and renamed into place."""
    path = Path(path)
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header)
    _write_atomic(path, (comments + "\n" + tomli_w.dumps(table)).encode("utf-8"))


def plot_study(study: optuna.Study, stem: Path, seed: int) -> list[Path]:
    """The optimisation history and (with two or more complete trials) the parameter
    importances of `study`, as `<stem>_history.png` and `<stem>_importances.png`."""
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib plots experimental
        ax = optuna.visualization.matplotlib.plot_optimization_history(study)
        written.append(_save(ax.figure, stem.with_name(stem.name + "_history.png")))
        complete = study.get_trials(deepcopy=False, states=[optuna.trial.TrialState.COMPLETE])
        if len(complete) >= 2:
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
            try:
                ax = optuna.visualization.matplotlib.plot_param_importances(
                    study, evaluator=evaluator
                )
            except (RuntimeError, ValueError) as error:  # e.g. every trial drew the same point
                log.info("%s: no parameter importances (%s)", study.study_name, error)
            else:
                written.append(_save(ax.figure, stem.with_name(stem.name + "_importances.png")))
    return written


def _save(figure: plt.Figure, path: Path) -> Path:
    # Optuna draws with pyplot; closed once saved, so a notebook does not show it as well.
    figure.set_size_inches(8, 5)
    figure.tight_layout()
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".png", delete=False) as handle:
        figure.savefig(handle, format="png", dpi=100)
    os.replace(handle.name, path)
    plt.close(figure)
    return path


def _write_atomic(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(data)
    os.replace(f.name, path)
