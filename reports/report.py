"""The whole report from its inputs: the training features are built once (under the run's
feature spec, or the default config's when there is no run) and every section reads them;
the run's out-of-fold rows are joined to the training file by `isic_id`. A section whose
inputs are missing becomes one line saying why."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import polars as pl

from features.build import Built, FeatureSpec, build_features, fit_spec, registry
from models.additive import top_features
from models.artifacts import Run
from models.blend import ENSEMBLE_COLUMN
from models.boosters import Matrix
from models.config import ADDITIVE, load_config
from models.shift import row_sample
from reports import curves, data, explain, features, groups, lesions, model
from reports.inputs import ReportInputs
from reports.sample import SHAP_ROWS, sampled_note
from reports.section import Section, missing_section

log = logging.getLogger(__name__)


# The training file's columns that the per-group scores and the lesion lists show.
_CONTEXT_COLUMNS = (
    "attribution",
    "anatom_site_general",
    "sex",
    "age_approx",
    "tbp_tile_type",
)


@dataclass
class Report:
    source: str
    run: str | None
    sections: list[Section]
    built_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    seconds: float = 0.0
    # step -> (wall, CPU) seconds, for benchmarks
    timings: dict[str, tuple[float, float]] = field(default_factory=dict)


class _Clock:
    """Wall and CPU seconds (all threads) of each step of the build, logged as each ends: on a
    shared machine the wall time grows with other jobs' load, the CPU time does not."""

    def __init__(self) -> None:
        self.timings: dict[str, tuple[float, float]] = {}
        self._last = (time.perf_counter(), time.process_time())

    def lap(self, step: str) -> None:
        now = (time.perf_counter(), time.process_time())
        wall, cpu = now[0] - self._last[0], now[1] - self._last[1]
        self.timings[step] = (wall, cpu)
        self._last = now
        log.info("%s: %.1f s (CPU %.1f s)", step, wall, cpu)


def build_report(inputs: ReportInputs) -> Report:
    started = time.perf_counter()
    clock = _Clock()
    train, run, seed = inputs.train, inputs.run, inputs.seed
    sections: list[Section] = []
    built = spec = None
    if train is None:
        why = f"No training data: {inputs.notes.get('train', 'none given')}."
        sections += [
            missing_section(data.KEY, data.TITLE, why),
            missing_section(features.KEY, features.TITLE, why),
        ]
    else:
        spec = run.spec if run is not None else _default_spec(train)
        built = build_features(train, spec)
        clock.lap(f"features of {train.height:,} training lesions")
        sections.append(
            data.data_section(train, inputs.test, built, spec, seed, inputs.notes.get("test"))
        )
        clock.lap("data section")
        sections.append(
            features.features_section(built, registry(spec.families, spec.image_columns), seed)
        )
        clock.lap("features section")
    if run is None:
        why = "No run: pass --run RUN_DIR (a train_gbdt run folder) to see what a model learned."
        sections += [
            missing_section(model.KEY, model.TITLE, why),
            missing_section(groups.KEY, groups.TITLE, why),
            missing_section(lesions.KEY, lesions.TITLE, why),
        ]
    else:
        sections += _run_sections(run, train, built, inputs, seed, clock)
    return Report(
        inputs.source,
        str(run.path) if run is not None else None,
        sections,
        seconds=time.perf_counter() - started,
        timings=clock.timings,
    )


def _run_sections(
    run: Run,
    train: pl.DataFrame | None,
    built: Built | None,
    inputs: ReportInputs,
    seed: int,
    clock: _Clock,
) -> list[Section]:
    oof = model.read_oof(run)
    scored, why = _scored(oof, train, built)
    lists = values = None
    if scored is not None:
        lists = lesions.pick_lesions(scored)
        listed = np.concatenate(lists)
        values = built.frame[scored["row"].gather(listed).to_numpy()].select(run.feature_names)
    gain = explain.gain_importance(run)
    bias = None
    if run.form == ADDITIVE and run.shape is not None:
        # The curves are the model itself: no SHAP values to estimate.
        if scored is not None:
            contributions, bias = explain.oof_curve_contributions(
                run, values, scored["patient_id"].gather(listed), scored["fold"].gather(listed)
            )
        drawn = _curves(run, built, _docs(run), seed)
        sections = [model.model_section(run, oof, gain, None, None, drawn)]
        clock.lap("model section (curves)")
    else:
        shap, shap_note, contributions = _shap(run, built, scored, lists, seed, why)
        sections = [model.model_section(run, oof, gain, shap, shap_note)]
        clock.lap("model section (SHAP included)")
    if scored is None:
        sections += [
            missing_section(groups.KEY, groups.TITLE, f"No per-group scores: {why}."),
            missing_section(lesions.KEY, lesions.TITLE, f"No lesions to show: {why}."),
        ]
        return sections
    sections.append(groups.groups_section(scored, seed))
    clock.lap("groups section")
    if scored.height < oof.height:
        sections[-1].note(
            f"Only {scored.height:,} of the run's {oof.height:,} out-of-fold lesions are in "
            "this data."
        )
    sections.append(
        lesions.lesions_section(scored, lists, contributions, values, inputs.images, bias)
    )
    clock.lap("lesions section")
    return sections


def _shap(
    run: Run,
    built: Built | None,
    scored: pl.DataFrame | None,
    lists: tuple[np.ndarray, np.ndarray] | None,
    seed: int,
    why: str | None,
) -> tuple[dict[str, np.ndarray] | None, str, np.ndarray | None]:
    """A trees run's mean |SHAP| per library on a sample of out-of-fold lesions, its note, and
    the listed lesions' SHAP contributions (mean over libraries)."""
    if scored is None:
        return None, f"No SHAP values: {why}.", None
    sample = row_sample(scored.height, SHAP_ROWS, seed)
    explained = np.concatenate([sample, *lists])
    by_library = _contributions(run, built, scored, explained)
    shap = {name: np.abs(v[: sample.size]).mean(axis=0) for name, v in by_library.items()}
    contributions = np.mean([v[sample.size :] for v in by_library.values()], axis=0)
    note = sampled_note("Mean |SHAP|: out-of-fold lesions", sample.size, scored.height)
    if run.manifest["config"]["cv"]["repeats"] > 1:
        note = (note or "") + " SHAP values come from the first CV repeat's fold models."
    return shap, note, contributions


def _docs(run: Run) -> dict[str, str]:
    """Feature -> what it is, in a line (the registry's doc)."""
    return {f.name: f.doc for f in registry(run.spec.families, run.spec.image_columns)}


def _curves(run: Run, built: Built | None, docs: dict[str, str], seed: int) -> curves.Curves:
    """An additive run's curves, with the training lesions as rugs when the data are here."""
    top = top_features(run.shape, curves.TOP)
    if built is None:
        return curves.shape_curves(run.shape, top, docs=docs, seed=seed)
    return curves.shape_curves(
        run.shape,
        top,
        built.frame.select(top),
        built.frame["target"].to_numpy(),
        docs,
        "training lesions",
        seed,
    )


def _scored(oof: pl.DataFrame, train: pl.DataFrame | None, built: Built | None):
    """The out-of-fold rows found in the training data, with its context columns and their
    row in `built`; or (None, why)."""
    if train is None or built is None:
        return None, "no training data to join the run's out-of-fold lesions to"
    context = [c for c in _CONTEXT_COLUMNS if c in train.columns]
    rows = built.frame.select("isic_id").with_row_index("row")
    scored = (
        oof.select("isic_id", "patient_id", "target", "fold", ENSEMBLE_COLUMN)
        .join(train.select("isic_id", *context), on="isic_id", how="inner", maintain_order="left")
        .join(rows, on="isic_id", how="inner", maintain_order="left")
    )
    if scored.height == 0:
        return None, "none of the run's out-of-fold lesions is in this data"
    if scored["target"].n_unique() < 2:
        return None, "the run's out-of-fold lesions found in this data are of one class only"
    return scored, None


def _contributions(
    run: Run, built: Built, scored: pl.DataFrame, rows: np.ndarray
) -> dict[str, np.ndarray]:
    frame_rows = scored["row"].gather(rows).to_numpy()
    x = Matrix(built.frame[frame_rows], run.feature_names, run.categorical)
    return explain.oof_contributions(run, x, scored["fold"].gather(rows).to_numpy())


def _default_spec(train: pl.DataFrame) -> FeatureSpec:
    """Without a run: the features `train_gbdt` would build with the default config."""
    config = load_config()
    return fit_spec(train, config.features.families, config.features.categoricals)
