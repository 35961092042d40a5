"""Loading a run folder never runs code from it: hostile files (pickles that would act when
unpickled, in the place of a model, the out-of-fold scores or the ensemble) are refused with
one line and nothing acts; the loading code has no way to unpickle or evaluate; a folder that
is not finished is refused."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from features.errors import UserError
from models.artifacts import load_run
from tests.conftest import REPO

# Every module that reads a run folder's files, down to the libraries' own loaders.
LOADING_CODE = [
    "models/artifacts/loader.py",
    "models/artifacts/manifest.py",
    "models/artifacts/scoring.py",
    "models/artifacts/files.py",
    "models/artifacts/folder.py",
    "models/artifacts/blend_inputs.py",
    "models/boosters/lgbm.py",
    "models/boosters/xgb.py",
    "models/boosters/cat.py",
    "models/blend/calibrate.py",
    "features/build.py",
]
# What could turn bytes into code: unpickling in its forms, evaluating text, loading modules.
RUNS_CODE = re.compile(
    r"\b(import|from) (pickle|cloudpickle|dill|joblib|marshal|shelve)\b"
    r"|\b(pickle|cloudpickle|joblib|dill|marshal|shelve)\.\w+\("
    r"|\beval\(|\bexec\(|allow_pickle\s*=\s*True|yaml\.load\(|torch\.load\(|__import__\("
    r"|importlib\.import_module\(|(?<![\w.])compile\("
)


class Acts:
    """Unpickling this touches `marker`: proof that a loader unpickled it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def hostile(marker: Path) -> bytes:
    return pickle.dumps(Acts(marker))


def copy_run(trained_run: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(trained_run, run)
    return run


def refused(run: Path) -> str:
    with pytest.raises(UserError) as error:
        load_run(run)
    assert "\n" not in str(error.value)
    return str(error.value)


def test_the_hostile_payload_does_act_when_unpickled(tmp_path):
    # The other tests' proof is that the marker stays absent; here is that it would appear.
    marker = tmp_path / "acted"
    pickle.loads(hostile(marker))
    assert marker.is_file()


@pytest.mark.parametrize("model", ["lgbm", "xgb", "cat"])
def test_a_pickle_in_place_of_a_model_is_refused_without_acting(trained_run, tmp_path, model):
    run = copy_run(trained_run, tmp_path)
    marker = tmp_path / "acted"
    manifest = json.loads((run / "manifest.json").read_text())
    entry = next(e for e in manifest["models"] if e["model"] == model)
    payload = hostile(marker)
    (run / entry["file"]).write_bytes(payload)
    # A careful attacker also fixes the hash: the file must then fail as a model, not run.
    entry["sha256"] = hashlib.sha256(payload).hexdigest()
    (run / "manifest.json").write_text(json.dumps(manifest))
    message = refused(run)
    assert message.startswith(f"{run / entry['file']}: not a {model} model file")
    assert not marker.exists()


def test_a_changed_model_file_is_refused_by_its_hash(trained_run, tmp_path):
    run = copy_run(trained_run, tmp_path)
    entry = json.loads((run / "manifest.json").read_text())["models"][0]
    with (run / entry["file"]).open("ab") as handle:
        handle.write(b"\n")
    assert (
        refused(run)
        == f"{run / entry['file']}: model file missing or changed since the run wrote it"
    )


@pytest.mark.parametrize("name", ["oof.parquet", "oof_repeats.parquet"])
def test_a_pickle_in_place_of_the_scores_is_refused_without_acting(trained_run, tmp_path, name):
    run = copy_run(trained_run, tmp_path)
    marker = tmp_path / "acted"
    (run / name).write_bytes(hostile(marker))
    assert refused(run).startswith(f"{run / name}: not a readable Parquet file")
    assert not marker.exists()


@pytest.mark.parametrize("name", ["manifest.json", "ensemble.json"])
def test_a_pickle_in_place_of_json_is_refused_without_acting(trained_run, tmp_path, name):
    run = copy_run(trained_run, tmp_path)
    marker = tmp_path / "acted"
    (run / name).write_bytes(hostile(marker))
    assert refused(run).startswith(f"{run / name}: not valid JSON")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("oof.parquet", lambda f: f.drop("xgb"), "score column 'xgb' is missing"),
        (
            "oof.parquet",
            lambda f: f.with_columns(pl.col("cat").cast(pl.String)),
            "score column 'cat' expected numbers, got String",
        ),
        (
            "oof_repeats.parquet",
            lambda f: f.select("isic_id"),
            "score column 'lgbm_r0' is missing",
        ),
    ],
)
def test_scores_without_a_model_column_are_refused(trained_run, tmp_path, name, change, expected):
    run = copy_run(trained_run, tmp_path)
    change(pl.read_parquet(run / name)).write_parquet(run / name)
    assert refused(run) == f"{run / name}: {expected}"


@pytest.mark.parametrize("path", LOADING_CODE)
def test_the_loading_code_cannot_unpickle_or_evaluate(path):
    source = (REPO / path).read_text()
    found = [m.group(0) for m in RUNS_CODE.finditer(source)]
    assert found == [], f"{path}: {found}"


def test_the_code_check_would_find_each_way_in():
    for line in [
        "import pickle",
        "from joblib import load",
        "x = joblib.load(p)",
        "eval(text)",
        "np.load(p, allow_pickle=True)",
        "yaml.load(f)",
        "__import__('os')",
        "code = compile(text, 'f', 'exec')",
    ]:
        assert RUNS_CODE.search(line), line
    assert not RUNS_CODE.search('"""never pickle: native formats, never a pickle."""')
    assert not RUNS_CODE.search('_SHA256 = re.compile(r"[0-9a-f]{64}")')


def test_an_unfinished_folder_is_refused(trained_run, tmp_path):
    partial = tmp_path / "run.partial"
    shutil.copytree(trained_run, partial)
    assert refused(partial) == (
        f"{partial}: an unfinished run folder; expected a finished one (finish it with "
        f"train_gbdt --resume --out {tmp_path / 'run'})"
    )
    run = copy_run(trained_run, tmp_path)
    (run / "metrics.json").unlink()
    assert refused(run) == (
        f"{run}: an incomplete run folder (no metrics.json, the file a run writes last)"
    )
    (run / "manifest.json").unlink()
    assert refused(run) == f"{run}: not a run folder (no manifest.json)"
