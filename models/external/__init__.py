"""External validation: a saved run (or any score file) scored on a labelled cohort it never
trained on, and the questions a reviewer of a triage tool asks answered with patient-bootstrap
intervals: discrimination, operating points fixed in advance on the run's out-of-fold scores,
calibration, net benefit, subgroups, and the shift from the training data.

Every check on the cohort runs before a model is loaded or a lesion scored (`cohort.py`,
`sources.py`); the figures come from `models.evaluation` (`figures.py`), the shift test from
`models.shift` on the training data the run's manifest records (`training_data.py`), and the
folder is written whole or not at all (`folder.py`).

    from models.external import evaluate_run
    evaluate_run("runs/first", "cohort.csv", "evaluations/first")
"""

from models.external.cohort import GROUPINGS, Cohort, read_cohort, read_labels
from models.external.evaluate import Evaluation, evaluate_run, evaluate_scores
from models.external.folder import EVALUATION, SCORES, default_evaluation_dir

__all__ = [
    "EVALUATION",
    "GROUPINGS",
    "SCORES",
    "Cohort",
    "Evaluation",
    "default_evaluation_dir",
    "evaluate_run",
    "evaluate_scores",
    "read_cohort",
    "read_labels",
]
