"""Training and scoring, in rooms whose imports point down only (tests/models/test_arrows.py):

- `evaluation`: the ISIC score, intervals, per-fold and per-group scores;
- `boosters`: LightGBM, XGBoost and CatBoost behind one protocol;
- `blend`: rank ensembles and calibration;
- `cv`: folds, sampling, fit tasks and where they run;
- on top: `run` (the main job's chain), `artifacts` (the run folder), `config`, `progress`.
"""
