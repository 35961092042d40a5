"""benchmarks.ebm: without interpret it skips with one line; with it, a small run on real rows
whose folds are benchmarks.real's, whose column is each fold's EBM scoring its held-out fold,
and whose recorded scores and paired differences match a recomputation from the saved
columns."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from benchmarks import ebm
from features.build import build_features, fit_spec
from features.io import read_train
from models.config import load_config
from models.cv import patient_folds
from models.evaluation import isic_pauc, paired_bootstrap_diff
from pipelines._cli import run_cli

REAL_5K = Path(__file__).resolve().parents[1].parent / "shared/data/real/train-metadata-5k.csv"
SEEDS = (3, 4)
FOLDS = 2
PATIENTS = 55  # the first 55 patients: 307 rows, 24 malignant
# A quick EBM on half the default's columns (its fit time goes with the column count): the test
# checks the folds, the scoring and the record, not the EBM's score.
QUICK = {"outer_bags": 1, "max_rounds": 50}
OVERLAY = f"""
[cv]
folds = {FOLDS}
[features]
families = ["lesion"]
"""


def test_without_interpret_it_skips_with_one_line(monkeypatch, tmp_path, capsys):
    # None in sys.modules makes `import interpret...` raise ImportError, installed or not.
    monkeypatch.setitem(sys.modules, "interpret", None)
    monkeypatch.setitem(sys.modules, "interpret.glassbox", None)
    results = tmp_path / "RESULTS.md"
    code = run_cli(
        lambda: ebm.main(["--data", str(tmp_path / "absent.csv"), "--results", str(results)])
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert out.splitlines() == [ebm.SKIP_LINE] and err == ""
    assert "interpret is not installed" in out and "bench" in out
    assert not results.exists()


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The first patients of the real rows, an overlay (2 folds, the lesion family), and a
    benchmarks.real-like --work folder whose columns are made up but whose folds are
    patient_folds' own, its rows shuffled."""
    pytest.importorskip("interpret.glassbox")
    if not REAL_5K.is_file():
        pytest.skip(f"real SLICE-3D rows not found at {REAL_5K}")
    folder = tmp_path_factory.mktemp("ebm")
    raw = pl.read_csv(REAL_5K, infer_schema=False)
    kept = raw["patient_id"].unique().sort().head(PATIENTS)
    data = folder / "train-subset.csv"
    raw.filter(pl.col("patient_id").is_in(kept.implode())).write_csv(data)
    overlay = folder / "two.toml"
    overlay.write_text(OVERLAY)
    keys = read_train(data).select("isic_id", "patient_id", "target")
    y = keys["target"].to_numpy()
    against = folder / "against"
    against.mkdir()
    rng = np.random.default_rng(0)
    for seed in SEEDS:
        # a made-up default: noisy labels, so its pAUC and the differences are not trivial
        noisy = y + rng.normal(0, 0.6, y.size)
        keys.with_columns(
            pl.Series("fold", patient_folds(keys["patient_id"], y, FOLDS, seed), dtype=pl.Int32),
            pl.Series("lgbm", noisy),
            pl.Series("ensemble", noisy + rng.normal(0, 0.3, y.size)),
        ).sample(fraction=1.0, shuffle=True, seed=seed).write_parquet(
            against / f"default_seed{seed}.parquet"
        )
    return folder, data, overlay, against


def _argv(small, *extra: str) -> list[str]:
    _, data, overlay, _ = small
    seeds = ",".join(map(str, SEEDS))
    return ["--config", str(overlay), "--data", str(data), "--seeds", seeds, *extra]


@pytest.fixture(scope="module")
def small_run(small):
    folder, _, _, against = small
    work, results = folder / "work", folder / "RESULTS.md"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            ebm, "make_ebm", lambda est, seed: est(interactions=0, random_state=seed, **QUICK)
        )
        argv = _argv(
            small, "--work", str(work), "--against", str(against), "--results", str(results)
        )
        assert ebm.main(argv) == 0
    return work, results


def test_folds_are_benchmarks_reals_and_the_column_is_each_folds_ebm(small, small_run):
    from interpret.glassbox import ExplainableBoostingClassifier

    _, data, overlay, _ = small
    work, _ = small_run
    seed = SEEDS[0]
    saved = pl.read_parquet(work / f"ebm_seed{seed}.parquet")
    assert saved.columns == ["isic_id", "patient_id", "target", "fold", "ebm"]
    expected = patient_folds(saved["patient_id"], saved["target"].to_numpy(), FOLDS, seed)
    np.testing.assert_array_equal(saved["fold"].to_numpy(), expected)
    assert saved.group_by("patient_id").agg(pl.col("fold").n_unique())["fold"].max() == 1
    # fold 0's scores again: an EBM fitted on the other fold's rows, by hand
    config = load_config(overlay)
    train = read_train(data)
    built = build_features(
        train, fit_spec(train, config.features.families, config.features.categoricals)
    )
    frame = built.frame.join(saved.select("isic_id", "fold"), on="isic_id", maintain_order="left")
    x = (
        frame.select(built.names)
        .with_columns(pl.col(built.categorical).cast(pl.String))
        .to_pandas()
    )
    held = frame["fold"].to_numpy() == 0
    model = ExplainableBoostingClassifier(interactions=0, random_state=seed, **QUICK)
    model.fit(x[~held], frame["target"].to_numpy()[~held])
    by_hand = model.predict_proba(x[held])[:, 1]
    np.testing.assert_allclose(saved["ebm"].to_numpy()[held], by_hand, rtol=0, atol=1e-12)
    assert saved["ebm"].is_between(0, 1).all()


def test_recorded_scores_and_differences_match_the_saved_columns(small, small_run):
    _, _, _, against = small
    work, results = small_run
    record = json.loads((work / "run.json").read_text())
    text = results.read_text()
    frames = [pl.read_parquet(work / f"ebm_seed{seed}.parquet") for seed in SEEDS]
    assert all(frame["isic_id"].equals(frames[0]["isic_id"]) for frame in frames)
    y = frames[0]["target"].to_numpy()
    assert 0 < y.sum() < y.size
    ours = [frame["ebm"].to_numpy() for frame in frames]
    per_seed = [isic_pauc(y, s) for s in ours]
    assert record["pauc"]["ebm"]["per_seed"] == per_seed
    assert "| ebm | " + " | ".join(f"{v:.4f}" for v in per_seed) in text
    for name in ("ensemble", "lgbm"):
        theirs = []
        for seed, frame in zip(SEEDS, frames, strict=True):
            default = pl.read_parquet(against / f"default_seed{seed}.parquet")
            paired = frame.join(default, on="isic_id", maintain_order="left")
            assert paired.height == frame.height
            theirs.append(paired[name].to_numpy())
        diff = paired_bootstrap_diff(y, ours, theirs, frames[0]["patient_id"], n_boot=1000, seed=0)
        entry = record["pauc"]["against"][name]
        assert entry["per_seed"] == [isic_pauc(y, s) for s in theirs]
        assert entry["diff"] == pytest.approx(list(diff), abs=1e-15)
        observed, low, high = diff
        assert f"| {name} | " in text and f"{observed:+.4f} | [{low:+.4f}, {high:+.4f}]" in text
    assert "<!-- benchmarks.ebm: start -->" in text


def test_a_default_on_other_folds_is_refused_before_any_fit(small, tmp_path, capsys, monkeypatch):
    _, _, _, against = small

    def no_fit(estimator, seed):
        raise AssertionError("an EBM was fitted before the --against folder was checked")

    monkeypatch.setattr(ebm, "make_ebm", no_fit)
    seed = SEEDS[0]
    other = tmp_path / "other"
    other.mkdir()
    for s in SEEDS:
        frame = pl.read_parquet(against / f"default_seed{s}.parquet")
        if s == seed:
            frame = frame.with_columns((1 - pl.col("fold")).alias("fold"))
        frame.write_parquet(other / f"default_seed{s}.parquet")
    code = run_cli(lambda: ebm.main(_argv(small, "--against", str(other), "--no-write")))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [f"error: {other / f'default_seed{seed}.parquet'}: other rows or folds than "
                   f"split seed {seed} has here"]  # fmt: skip
    code = run_cli(lambda: ebm.main(_argv(small, "--against", str(tmp_path), "--no-write")))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "no saved default columns" in err[0]
