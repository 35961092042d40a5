"""`python -m pipelines.tune` end to end on a tiny data folder: best.toml that train_gbdt
takes, the verdict in its header, the plots, a study that continues, and user errors that
exit 2 with one line and write nothing."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import optuna
import pytest

from features import synthetic
from models.config import load_config
from pipelines import tune
from pipelines._cli import run_cli
from tests.conftest import REPO

TINY_TOML = """
[cv]
folds = 3
[training]
threads = 1
bootstrap_samples = 50
fixed_rounds = { lgbm = 20, xgb = 20, cat = 20 }
[models.cat]
depth = 4
"""
TINY_SPACE = """
[lgbm.rounds]
low = 10
high = 30
step = 10
[xgb.rounds]
low = 10
high = 30
step = 10
[cat.rounds]
low = 10
high = 30
step = 10
"""


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    """3,000 lesions with 60 malignant in the Kaggle layout, a quick config and space."""
    folder = tmp_path_factory.mktemp("tiny")
    train, test = synthetic.generate(3_000, 50, seed=5, malignant_rate=0.02)
    synthetic.write_kaggle_layout(train, test, folder)
    (folder / "tiny.toml").write_text(TINY_TOML)
    (folder / "space.toml").write_text(TINY_SPACE)
    return folder


def tune_args(folder, out, *more: str) -> list[str]:
    return [
        "--data-dir", str(folder), "--config", str(folder / "tiny.toml"),
        "--space", str(folder / "space.toml"), "--out", str(out), *more,
    ]  # fmt: skip


def test_one_library_writes_a_config_train_gbdt_takes(tiny_dir, tmp_path, capsys):
    out = tmp_path / "best.toml"
    assert tune.main(tune_args(tiny_dir, out, "--model", "lgbm", "--n-trials", "3")) == 0
    printed = capsys.readouterr().out
    assert "tbp-lgbm: 3 trials" in printed and "split seed 1042" in printed
    text = out.read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Verdict: on split seed 1042 (no trial saw it), lgbm" in line for line in header)
    assert any("best trial" in line and "optimistic" in line for line in header)
    table = tomllib.loads(text)
    assert set(table) <= {"models", "training", "sampling"} and set(table["models"]) == {"lgbm"}
    tuned = load_config(out)
    assert tuned.training.fixed_rounds["lgbm"] in (10, 20, 30)
    assert tuned.models.params("xgb") == load_config().models.params("xgb")
    assert (tmp_path / "best_lgbm_history.png").stat().st_size > 1000
    assert (tmp_path / "best_lgbm_importances.png").stat().st_size > 1000
    assert (tmp_path / "best.db").is_file()
    # The same study continues: its budget grows to 4, so one more trial runs.
    assert tune.main(tune_args(tiny_dir, out, "--model", "lgbm", "--n-trials", "4")) == 0
    assert "tbp-lgbm: 4 trials" in capsys.readouterr().out


def test_all_libraries_then_the_ensemble_method(tiny_dir, tmp_path, capsys):
    out = tmp_path / "best.toml"
    args = tune_args(tiny_dir, out, "--model", "all", "--n-trials", "2", "--study", "s")
    assert tune.main(args) == 0
    printed = capsys.readouterr().out
    for model in ("lgbm", "xgb", "cat"):
        assert f"s-{model}: 2 trials" in printed
        assert (tmp_path / f"best_{model}_history.png").is_file()
    table = tomllib.loads(out.read_text())
    assert table["ensemble"]["method"] in ("rank_mean", "weighted_rank")
    assert set(table["models"]) == {"lgbm", "xgb", "cat"}
    assert "ensemble: " in out.read_text() and "Verdict: on split seed 1042" in out.read_text()


def test_a_study_refuses_another_library_or_other_data(tiny_dir, tmp_path, capsys):
    out = tmp_path / "best.toml"
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    common = ["--storage", storage, "--study", "mine", "--n-trials", "1", "--no-finish"]
    assert tune.main(tune_args(tiny_dir, out, "--model", "lgbm", *common)) == 0
    assert run_cli(lambda: tune.main(tune_args(tiny_dir, out, "--model", "cat", *common))) == 2
    assert "study 'mine' tunes lgbm, not cat" in capsys.readouterr().err
    other = tmp_path / "other"
    other.mkdir()
    synthetic.write_kaggle_layout(
        *synthetic.generate(3_000, 50, seed=6, malignant_rate=0.02), other
    )
    (other / "tiny.toml").write_text(TINY_TOML)
    (other / "space.toml").write_text(TINY_SPACE)
    assert run_cli(lambda: tune.main(tune_args(other, out, "--model", "lgbm", *common))) == 2
    assert "study 'mine' was made on other data or folds" in capsys.readouterr().err
    assert not out.exists()  # --no-finish workers leave best.toml to a finishing one


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--n-trials", "0"], "--n-trials 0: a study needs at least 1 trial"),
        (
            ["--storage", "postgresql+psycopg2://nobody@127.0.0.1:9/none"],
            "cannot open the study storage",
        ),
        (["--storage", "nosuchdb://x"], "--storage nosuchdb://x: cannot open the study storage"),
        (["--space", "BAD_SPACE"], "unknown parameter 'lgbm.leaves'"),
        (["--space", "EMPTY_SPACE"], "lgbm.rounds: empty range, low 30 > high 10"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tiny_dir, tmp_path, extra, message):
    (tmp_path / "BAD_SPACE").write_text("[lgbm.leaves]\nlow = 2\nhigh = 8\n")
    (tmp_path / "EMPTY_SPACE").write_text("[lgbm.rounds]\nlow = 30\nhigh = 10\n")
    out = tmp_path / "best.toml"
    args = tune_args(tiny_dir, out, "--model", "lgbm", "--n-trials", "2")
    args += [str(tmp_path / e) if e.endswith("_SPACE") else e for e in extra]
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.tune", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
    leftovers = {p.name for p in tmp_path.iterdir()} - {"BAD_SPACE", "EMPTY_SPACE"}
    assert leftovers == set()


def test_imposed_folds_are_the_trials_folds_and_the_verdict_says_so(tiny_dir, tmp_path):
    import polars as pl

    from models.cv import patient_folds

    train = pl.read_csv(tiny_dir / "train-metadata.csv", columns=["patient_id", "target"])
    # Four folds where the config says three: the file's count rules.
    folds = patient_folds(train["patient_id"].to_numpy(), train["target"].to_numpy(), 4, 99)
    folds_file = tmp_path / "folds.csv"
    pl.DataFrame({"patient_id": train["patient_id"], "fold": folds}).unique().write_csv(folds_file)
    out = tmp_path / "best.toml"
    args = tune_args(tiny_dir, out, "--model", "xgb", "--n-trials", "1")
    assert tune.main([*args, "--folds-file", str(folds_file)]) == 0
    assert f"The trials used the folds of {folds_file}" in out.read_text()
    study = optuna.load_study(study_name="tbp-xgb", storage=f"sqlite:///{tmp_path / 'best.db'}")
    assert sorted(study.trials[0].intermediate_values) == [0, 1, 2, 3]


def test_from_python_a_frame_is_tuned_in_memory_and_nothing_is_written(
    tiny_dir, tmp_path, monkeypatch
):
    """`tbp.tune` without `out` or `storage`: the studies live in memory, the tuned config
    comes back as a dict, and no file lands in the working folder."""
    import polars as pl

    import tbp_gbdt as tbp

    monkeypatch.chdir(tmp_path)
    train = pl.read_csv(tiny_dir / "train-metadata.csv")
    config = tomllib.loads(TINY_TOML)
    outcome = tbp.tune(
        "lgbm", train=train, config=config, space=tiny_dir / "space.toml", n_trials=2
    )
    assert outcome.path is None and outcome.written == []
    assert list(tmp_path.iterdir()) == []
    study = outcome.studies["lgbm"]
    assert len(study.trials) == 2
    best_rounds = study.best_trial.params["rounds"]
    assert outcome.best_config["training"]["fixed_rounds"]["lgbm"] == best_rounds
    assert outcome.verdict.word in {"better", "worse", "within noise"}
    assert repr(outcome).endswith(f"tuned vs default: {outcome.verdict.word}; path None)")
    # What best.toml would hold is a config train takes as it is.
    assert load_config(outcome.best_config).training.fixed_rounds["lgbm"] == best_rounds
