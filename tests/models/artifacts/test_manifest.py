"""A run folder is data: a manifest with a missing key, a wrong type, another format version or
a path out of the folder is refused by `load_run` with one line naming the key; format 1 (the
runs written before the version existed) still loads and scores as format 2 does."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from features.errors import UserError
from models.artifacts import FORMAT, READS, load_run


def copy_run(trained_run: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run, symlinks=True)
    return run


def edit_manifest(run: Path, change: Callable[[dict], object]) -> None:
    path = run / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def refused(run: Path) -> str:
    with pytest.raises(UserError) as error:
        load_run(run)
    message = str(error.value)
    assert "\n" not in message
    return message


def _set(path: str, value) -> Callable[[dict], None]:
    """Set a dotted key (`models.0.fold`) of the manifest."""

    def change(manifest: dict) -> None:
        *parents, last = path.split(".")
        table = manifest
        for key in parents:
            table = table[int(key)] if isinstance(table, list) else table[key]
        if isinstance(table, list):
            table[int(last)] = value
        else:
            table[last] = value

    return change


def _drop(key: str) -> Callable[[dict], None]:
    return lambda manifest: manifest.pop(key)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_drop("feature_names"), "key 'feature_names' is missing; expected a list"),
        (_drop("models"), "key 'models' is missing"),
        (_set("feature_names", "tbp_lv_H"), "key 'feature_names' expected a list, got a string"),
        (
            _set("feature_names.0", 7),
            "key 'feature_names[0]' expected a string, got a whole number",
        ),
        (_set("models", []), "key 'models' expected at least one model file"),
        (_set("models.0", "model.txt"), "key 'models[0]' expected an object, got a string"),
        (_set("models.0.fold", "0"), "key 'models[0].fold' expected a whole number >= 0"),
        (_set("models.0.repeat", True), "key 'models[0].repeat' expected a whole number >= 0"),
        (_set("models.0.model", "svm"), "key 'models[0].model' expected one of lgbm, xgb, cat"),
        (_set("models.0.sha256", 12), "key 'models[0].sha256' expected 64 hex digits"),
        (_set("models.0.file", None), "key 'models[0].file' expected a string, got null"),
        (_set("config.models.names", ["lgbm", "svm"]), "key 'config.models.names' expected"),
        (_set("config.models", "lgbm"), "key 'config.models' expected an object"),
        (_set("feature_spec.levels", []), "key 'feature_spec.levels' expected an object"),
        (
            _set("feature_spec.levels.sex", "female"),
            "key 'feature_spec.levels.sex' expected a list",
        ),
        (
            _set("feature_spec.levels.sex", [1]),
            "key 'feature_spec.levels.sex[0]' expected a string",
        ),
        (_set("format", "2"), "key 'format' expected a whole number >= 1, got '2'"),
        (_set("format", 0), "key 'format' expected a whole number >= 1, got 0"),
    ],
)
def test_a_manifest_of_the_wrong_shape_is_refused_naming_the_key(
    trained_run, tmp_path, change, expected
):
    run = copy_run(trained_run, tmp_path)
    edit_manifest(run, change)
    message = refused(run)
    assert message.startswith(f"{run / 'manifest.json'}: ") and expected in message


def test_a_manifest_that_is_not_an_object_or_not_json_is_refused(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path)
    (run / "manifest.json").write_text("[1, 2]")
    assert "manifest.json: expected a JSON object, found a list" in refused(run)
    (run / "manifest.json").write_bytes(b'{"models": [\xff')
    assert "manifest.json: not valid JSON" in refused(run)


def test_a_newer_format_is_refused_saying_which_reads_it(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    # A trees run stays format 2; format 3 is an additive run's (test_additive_run.py).
    assert manifest["format"] == FORMAT == 2 and manifest["form"] == "trees"
    assert "artifacts" not in manifest
    edit_manifest(run, _set("format", 4))
    assert refused(run).endswith(
        "manifest.json: run folder format 4; this tbp-gbdt reads formats 1-3: upgrade tbp-gbdt"
    )
    assert READS == (1, 2, 3)
    loaded = load_run(trained_run)
    assert loaded.form == "trees" and loaded.shape is None and loaded.shape_by_fold is None


def test_format_1_without_the_key_loads_and_scores_the_same(trained_run, tmp_path, small_data):
    run = copy_run(trained_run, tmp_path)
    edit_manifest(run, _drop("format"))
    test = small_data[1].head(300)
    assert load_run(run).predict(test).equals(load_run(trained_run).predict(test))


@pytest.mark.parametrize("where", ["../outside.txt", "models/../../outside.txt", "/etc/hostname"])
def test_a_model_path_out_of_the_folder_is_refused(trained_run, tmp_path, where):
    run = copy_run(trained_run, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    # The file is there, with the hash the manifest gives: only its place is wrong.
    outside = tmp_path / "outside.txt"
    shutil.copy(run / manifest["models"][0]["file"], outside)
    edit_manifest(run, _set("models.0.file", where))
    assert f"key 'models[0].file' expected a path inside the run folder, got '{where}'" in (
        refused(run)
    )


def test_a_link_out_of_the_folder_is_refused(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path)
    name = json.loads((run / "manifest.json").read_text())["models"][0]["file"]
    outside = tmp_path / "elsewhere" / Path(name).name
    outside.parent.mkdir()
    shutil.move(run / name, outside)
    (run / name).symlink_to(outside)  # same bytes, same hash, outside the folder
    assert refused(run).startswith(f"{run / name}: a link out of the run folder (to {outside})")


@pytest.mark.parametrize("name", ["manifest.json", "oof.parquet", "ensemble.json"])
def test_a_run_file_linked_from_elsewhere_is_refused(trained_run, tmp_path, name):
    run = copy_run(trained_run, tmp_path)
    outside = tmp_path / name
    shutil.move(run / name, outside)
    (run / name).symlink_to(outside)
    assert "a link out of the run folder" in refused(run)


def test_a_link_inside_the_folder_is_followed(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path)
    name = json.loads((run / "manifest.json").read_text())["models"][0]["file"]
    shutil.move(run / name, run / "kept.bin")
    (run / name).symlink_to(run / "kept.bin")
    assert len(load_run(run).models) == len(load_run(trained_run).models)


@pytest.mark.parametrize(
    ("ensemble", "expected"),
    [
        ({"method": "__import__('os').system('true')"}, "key 'method' expected one of rank_mean"),
        ({"method": "weighted_rank"}, "key 'weights' is missing"),
        (
            {"method": "weighted_rank", "weights": {"lgbm": 1}},
            "key 'weights' expected a number for each of lgbm, xgb, cat",
        ),
        (
            {"method": "rank_mean", "calibrator": {"method": "pickle", "x": [], "y": []}},
            "key 'calibrator.method' expected one of isotonic, platt",
        ),
        (
            {"method": "rank_mean", "calibrator": {"method": "isotonic", "x": [0, 1], "y": [0]}},
            "key 'calibrator' expected isotonic knots x and y of one length",
        ),
        ([], "expected a JSON object, found a list"),
    ],
)
def test_an_ensemble_file_of_the_wrong_shape_is_refused(trained_run, tmp_path, ensemble, expected):
    run = copy_run(trained_run, tmp_path)
    (run / "ensemble.json").write_text(json.dumps(ensemble))
    message = refused(run)
    assert message.startswith(f"{run / 'ensemble.json'}: ") and expected in message
