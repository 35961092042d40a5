"""What a run folder's manifest must be before anything in the folder is trusted: its format
version, the shape of every key the loader reads, and file paths that stay inside the folder.

A run folder is data: a manifest that names `../elsewhere`, an absolute path or a link out of
the folder is refused, as is one whose keys are missing or of the wrong type, each with one
line naming the key and what was expected. The format version (`"format"`; the runs written
before it existed have none and are format 1) says how the folder is laid out; this code
reads `READS` and refuses any other version rather than misreading it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from features.errors import UserError
from models.artifacts.files import SHAPE_FUNCTIONS, SHAPE_FUNCTIONS_BY_FOLD
from models.config import ADDITIVE, CALIBRATIONS, ENSEMBLE_METHODS, FORMS, MODEL_NAMES

FORMAT = 2  # what `write_run` writes: format 1 plus the "format" key
# An additive run (`[models] form`): format 2 plus "form" and its curves under "artifacts".
# A reader of format 2 would score its models as trees (mean probabilities, ranks), not by
# their mean log-odds, so it must refuse the folder rather than misread it.
ADDITIVE_FORMAT = 3
READS = (1, 2, 3)
FORMAT_KEY = "format"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def run_format(manifest: Any, path: Path) -> int:
    """The run-folder format of `manifest` (read from `path`), refused unless this code reads it."""
    if not isinstance(manifest, dict):
        raise UserError(f"{path}: expected a JSON object, found {_kind(manifest)}")
    version = manifest.get(FORMAT_KEY, 1)
    if not _is_int(version) or version < 1:
        raise UserError(f"{path}: key '{FORMAT_KEY}' expected a whole number >= 1, got {version!r}")
    if version not in READS:
        raise UserError(
            f"{path}: run folder format {version}; this tbp-gbdt reads formats "
            f"{READS[0]}-{READS[-1]}: upgrade tbp-gbdt"
        )
    return version


def check_manifest(manifest: Any, path: Path) -> int:
    """Refuse a manifest (read from `path`) that the loader would misread; its format if not."""
    version = run_format(manifest, path)
    _expect(manifest, "config", dict, path)
    _expect(manifest["config"], "models", dict, path, "config.")
    names = _expect(manifest["config"]["models"], "names", list, path, "config.models.")
    if not names or not all(isinstance(n, str) and n in MODEL_NAMES for n in names):
        raise UserError(
            f"{path}: key 'config.models.names' expected a list of {', '.join(MODEL_NAMES)}, "
            f"got {names!r}"
        )
    spec = _expect(manifest, "feature_spec", dict, path)
    for key in ("families", "categoricals"):
        _strings(_expect(spec, key, list, path, "feature_spec."), f"feature_spec.{key}", path)
    for column, levels in _expect(spec, "levels", dict, path, "feature_spec.").items():
        if not isinstance(levels, list):
            raise UserError(
                f"{path}: key 'feature_spec.levels.{column}' expected a list, got {_kind(levels)}"
            )
        _strings(levels, f"feature_spec.levels.{column}", path)
    for key in ("population", "image"):
        if spec.get(key) is not None:
            _expect(spec, key, dict, path, "feature_spec.")
    _strings(_expect(manifest, "feature_names", list, path), "feature_names", path)
    _strings(_expect(manifest, "categorical_features", list, path), "categorical_features", path)
    if "versions" in manifest:
        _expect(manifest, "versions", dict, path)
    models = _expect(manifest, "models", list, path)
    if not models:
        raise UserError(f"{path}: key 'models' expected at least one model file, got none")
    for i, entry in enumerate(models):
        where = f"models[{i}]"
        if not isinstance(entry, dict):
            raise UserError(f"{path}: key '{where}' expected an object, got {_kind(entry)}")
        if entry.get("model") not in names:
            raise UserError(
                f"{path}: key '{where}.model' expected one of {', '.join(names)}, "
                f"got {entry.get('model')!r}"
            )
        for key in ("repeat", "fold", "bag"):
            if key == "bag" and key not in entry:
                continue
            if not _is_int(entry.get(key)) or entry[key] < 0:
                raise UserError(
                    f"{path}: key '{where}.{key}' expected a whole number >= 0, "
                    f"got {entry.get(key)!r}"
                )
        _expect(entry, "file", str, path, f"{where}.")
        if not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
            raise UserError(
                f"{path}: key '{where}.sha256' expected 64 hex digits, got {entry.get('sha256')!r}"
            )
    _check_form(manifest, path)
    return version


def _check_form(manifest: dict, path: Path) -> None:
    """The keys `form` (absent before additive runs existed: "trees") and `artifacts` (the
    hash of each file beside the models that the loader checks; an additive run's curves)."""
    form = manifest.get("form", "trees")
    if form not in FORMS:
        raise UserError(f"{path}: key 'form' expected one of {', '.join(FORMS)}, got {form!r}")
    artifacts = manifest.get("artifacts", {})
    if not isinstance(artifacts, dict):
        raise UserError(f"{path}: key 'artifacts' expected an object, got {_kind(artifacts)}")
    for name, digest in artifacts.items():
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise UserError(
                f"{path}: key 'artifacts.{name}' expected 64 hex digits, got {digest!r:.80}"
            )
    if form == ADDITIVE:
        for name in (SHAPE_FUNCTIONS, SHAPE_FUNCTIONS_BY_FOLD):
            if name not in artifacts:
                raise UserError(
                    f"{path}: key 'artifacts.{name}' is missing; an additive run has its curves"
                )


def check_ensemble(spec: Any, names: list[str], path: Path) -> dict[str, Any]:
    """`ensemble.json` (read from `path`), refused unless its method, weights over the run's
    model `names` and calibrator are what the loader can apply."""
    if not isinstance(spec, dict):
        raise UserError(f"{path}: expected a JSON object, found {_kind(spec)}")
    if spec.get("method") not in ENSEMBLE_METHODS:
        raise UserError(
            f"{path}: key 'method' expected one of {', '.join(ENSEMBLE_METHODS)}, "
            f"got {spec.get('method')!r}"
        )
    weights = spec.get("weights")
    if spec["method"] == "weighted_rank" or weights is not None:
        weights = _expect(spec, "weights", dict, path)
        if set(weights) != set(names) or not all(_is_number(w) for w in weights.values()):
            raise UserError(
                f"{path}: key 'weights' expected a number for each of {', '.join(names)}"
            )
    calibrator = spec.get("calibrator")
    if calibrator is not None:
        calibrator = _expect(spec, "calibrator", dict, path)
        if calibrator.get("method") not in CALIBRATIONS:
            raise UserError(
                f"{path}: key 'calibrator.method' expected one of {', '.join(CALIBRATIONS)}, "
                f"got {calibrator.get('method')!r}"
            )
        for key in ("x", "y"):
            knots = _expect(calibrator, key, list, path, "calibrator.")
            if not all(_is_number(v) for v in knots):
                raise UserError(f"{path}: key 'calibrator.{key}' expected a list of numbers")
        x, y = calibrator["x"], calibrator["y"]
        if (calibrator["method"] == "isotonic" and (not x or len(x) != len(y))) or (
            calibrator["method"] == "platt" and len(x) != 2
        ):
            raise UserError(
                f"{path}: key 'calibrator' expected isotonic knots x and y of one length, or "
                "platt's [slope, intercept]"
            )
    return spec


def inside(folder: Path, relative: str, key: str) -> Path:
    """`folder / relative`, refused (naming the manifest `key`) when it is absolute, climbs out
    with `..` or is a link that resolves outside `folder`."""
    folder = Path(folder)
    given = Path(relative)
    if given.is_absolute() or ".." in given.parts or not relative.strip():
        raise UserError(
            f"{folder}: key '{key}' expected a path inside the run folder, got {relative!r}"
        )
    path = folder / given
    if not path.resolve().is_relative_to(folder.resolve()):
        raise UserError(
            f"{path}: a link out of the run folder (to {path.resolve()}); a run folder's "
            "files must be inside it"
        )
    return path


def _expect(table: dict, key: str, kind: type, path: Path, prefix: str = "") -> Any:
    if key not in table:
        raise UserError(f"{path}: key '{prefix}{key}' is missing; expected {_name(kind)}")
    value = table[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise UserError(
            f"{path}: key '{prefix}{key}' expected {_name(kind)}, got {_kind(value)} {value!r:.60}"
        )
    return value


def _strings(values: list, key: str, path: Path) -> None:
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise UserError(f"{path}: key '{key}[{i}]' expected a string, got {_kind(value)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    # JSON true and false arrive as bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool)


def _name(kind: type) -> str:
    return {dict: "an object", list: "a list", str: "a string"}.get(kind, kind.__name__)


def _kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    kinds |= {int: "a whole number", float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)
