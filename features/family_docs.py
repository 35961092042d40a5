"""What each feature family of `features.build.FAMILIES` is for, in a reader's words (Markdown):
the docs' features page shows it above the family's generated list (docs/_ext/feature_list.py,
which adds the image family's own); tests/test_docs.py fails on a family without one."""

FAMILY_DOCS = {
    "raw": (
        "The SLICE-3D file's own numeric columns, as recorded: age, size, the TBP machine's "
        "colour (L\\*, A\\*, B\\*, hue) and shape measurements `tbp_lv_*`, and the 3D position. "
        "Always built, whatever `[features] families` says."
    ),
    "lesion": (
        "The public ISIC 2024 recipe's per-lesion features (`features/lesion.py`), each from one "
        "row's columns: colour contrasts between the lesion and the skin around it, shape and "
        "border ratios, colour variation, their combinations, and the site joined with the "
        "location as one category. A division by zero is null, not the recipe's `+ 1e-5` guard."
    ),
    "patient_norm": (
        'The "ugly duckling" a dermatologist looks for: every raw and lesion feature, age '
        "included, as a z-score within the patient's own lesions (`x_patient_z`). Null for a "
        "patient with one lesion or whose values are all equal, never NaN or inf."
    ),
    "patient_count": "How many lesions the patient has in the file.",
    "patient_group_norm": (
        "Z-scores within patient x site, x simple location and x tile type: a lesion compared "
        "with the patient's lesions on the same body site or under the same lighting."
    ),
    "patient_rank": (
        "Percentile rank within the patient, and a robust z-score (distance from the patient's "
        "median in units of its inter-quartile range), of the same 16 colour and shape columns "
        "as `patient_outlier`."
    ),
    "patient_loo": (
        "The z-score of a lesion against the patient's other lesions only (leave one out), so "
        "that an outlier does not widen its own yardstick."
    ),
    "patient_outlier": (
        "How far a lesion stands out from its own patient's lesions over 16 colour and shape "
        "columns at once (size, area, border, symmetry, colour variation, hue, contrast with the "
        "skin, the TBP machine's nevus confidence): how many of them put it beyond 2 and beyond "
        "3 within-patient standard deviations, the largest |z| and the root mean square of the "
        "z-scores (its distance from the patient's centre). One number that says: this lesion "
        "is unlike this patient's others."
    ),
    "patient_neighbour": (
        "Distances numpy and scikit-learn compute per patient: the Mahalanobis distance from "
        "the patient's centre with a Ledoit-Wolf shrunk covariance, and the distance to the "
        "nearest look-alike among the patient's other lesions (a k-d tree). Null for a patient "
        "with fewer than three lesions."
    ),
    "patient_context": (
        "The patient as a whole: total and per-site lesion area and count, the share of large "
        "or high-contrast lesions, age and sex times the lesion's size rank."
    ),
    "patient_visit": (
        "Acquisition context: a lesion imaged at an earlier age (visit), or with another tile "
        "type, than its patient's other lesions. On the real rows such lesions are nearly all "
        "malignant, most likely because of how SLICE-3D was assembled; see "
        "[Acquisition signals](#acquisition-signals) before using it on a clinic's own data."
    ),
    "population_norm": (
        "Colour and shape as a z-score among training lesions of the same hospital, body "
        "location and 10-year age band, with a back-off to larger groups. The norms are learned "
        "on train and stored in the run."
    ),
}
