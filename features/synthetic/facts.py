"""Summary facts of the real SLICE-3D training file that the generator is calibrated to.

Only summary numbers (medians, rates, counts, level names) live here; no real row does. Where
a number is a modelling choice rather than a fact, its comment says what it was tuned to.
"""

from __future__ import annotations

import numpy as np

from features import schema

LESIONS_MEDIAN, LESIONS_MEAN = 241.0, 385.0
LESIONS_SIGMA = float(np.sqrt(2 * np.log(LESIONS_MEAN / LESIONS_MEDIAN)))
_A = schema.ATTRIBUTION_LEVELS
# attribution: (rows in the real train file, malignant rows, licence)
HOSPITALS = {
    _A[4]: (129_068, 174, "CC-BY"),  # Memorial Sloan Kettering
    _A[1]: (105_724, 72, "CC-BY-NC"),  # Hospital Clínic de Barcelona
    _A[5]: (65_218, 13, "CC-BY-NC"),  # University Hospital of Basel
    _A[3]: (51_768, 81, "CC-BY"),  # Frazer Institute, Queensland
    _A[0]: (28_665, 33, "CC-0"),  # ACEMID MIA
    _A[6]: (12_640, 14, "CC-BY-NC"),  # ViDIR Vienna
    _A[2]: (7_976, 6, "CC-BY"),  # University of Athens
}
# Hospitals calibrate their cameras differently: a small lightness offset each.
HOSPITAL_L_SHIFT = np.array([0.0, 2.0, -2.5, 1.5, -1.0, 3.0, -2.0])
# Share of each hospital's patients imaged with white-light tiles: in the 50 real train rows
# 20 of 21 Memorial Sloan Kettering rows are "3D: white" and all 29 others "3D: XP", which
# makes about 28 % of rows white, as in the full file.
HOSPITAL_WHITE = np.array([0.9 if name == _A[4] else 0.0 for name in HOSPITALS])
# White minus XP tiles, medians of the 50 real rows (both classes agree in sign): the skin reads
# about 17 L* lighter, 2 a* redder and 5 b* less yellow, and the nevus classifier gives white
# tiles a confidence near 0 (median 0.2 against 13 for XP benign rows).
WHITE_SHIFT = {"Lext": 17.0, "Aext": 2.0, "Bext": -5.0, "nevi_logit": -4.0}
# location: (simple, site or None, rows, centroid x, y, z, spread x, y, z)
LOCATIONS = {
    "Head & Neck": ("Head & Neck", "head/neck", 12_046, 0, 1560, 20, 70, 90, 70),
    "Left Arm - Upper": ("Left Arm", "upper extremity", 22_816, -250, 1300, 50, 60, 90, 60),
    "Right Arm - Upper": ("Right Arm", "upper extremity", 22_972, 250, 1300, 50, 60, 90, 60),
    "Left Arm - Lower": ("Left Arm", "upper extremity", 12_478, -330, 1050, 30, 80, 110, 60),
    "Right Arm - Lower": ("Right Arm", "upper extremity", 12_191, 330, 1050, 30, 80, 110, 60),
    "Left Arm": ("Left Arm", "upper extremity", 50, -300, 1150, 40, 80, 150, 60),
    "Right Arm": ("Right Arm", "upper extremity", 50, 300, 1150, 40, 80, 150, 60),
    "Left Leg - Upper": ("Left Leg", "lower extremity", 23_673, -130, 750, 40, 70, 90, 70),
    "Right Leg - Upper": ("Right Leg", "lower extremity", 23_034, 130, 750, 40, 70, 90, 70),
    "Left Leg - Lower": ("Left Leg", "lower extremity", 27_428, -150, 330, 60, 70, 130, 60),
    "Right Leg - Lower": ("Right Leg", "lower extremity", 25_208, 150, 330, 60, 70, 130, 60),
    "Left Leg": ("Left Leg", "lower extremity", 1_974, -140, 550, 50, 80, 200, 60),
    "Right Leg": ("Right Leg", "lower extremity", 1_711, 140, 550, 50, 80, 200, 60),
    "Torso Back Top Third": ("Torso Back", "posterior torso", 71_112, 0, 1380, 160, 110, 80, 50),
    "Torso Back Middle Third": ("Torso Back", "posterior torso", 46_185, 0, 1100, 140, 110, 70, 50),
    "Torso Back Bottom Third": ("Torso Back", "posterior torso", 4_579, 0, 900, 130, 110, 60, 50),
    "Torso Back": ("Torso Back", "posterior torso", 26, 0, 1200, 150, 110, 150, 50),
    "Torso Front Top Half": ("Torso Front", "anterior torso", 63_350, 0, 1330, -30, 120, 90, 60),
    "Torso Front Bottom Half": ("Torso Front", "anterior torso", 24_360, 0, 1000, -20, 120, 80, 60),
    "Torso Front": ("Torso Front", "anterior torso", 60, 0, 1200, -30, 120, 150, 60),
    "Unknown": ("Unknown", None, 5_756, 0, 1100, 50, 200, 400, 100),
}
# Malignant share of rows by anatom_site_general (missing site: the overall rate).
SITE_MALIGNANT_RATE = {
    "head/neck": 0.00648,
    "anterior torso": 0.00093,
    "posterior torso": 0.00084,
    "upper extremity": 0.00081,
    "lower extremity": 0.00071,
    None: 0.00098,
}
# Malignant lesions per malignant patient: 1 for 193 patients, 2 for 35, ... up to 14.
MALIGNANT_PER_PATIENT = {1: 193, 2: 35, 3: 18, 4: 6, 5: 2, 6: 1, 7: 1, 8: 1, 10: 1, 14: 1}
MISSING = {"sex": 0.0287, "anatom_site_general": 0.0144, "age_approx": 0.0070}
# Seborrhoeic keratoses and solar lentigines among the benign lesions: a patient's share grows
# with age (logit per year) and is higher on sun-exposed sites (odds ratios).
KERATOSIS_SHARE, KERATOSIS_AGE, KERATOSIS_PATIENT_SD = 0.2, 0.05, 0.7
KERATOSIS_SITE_ODDS = {
    "head/neck": 2.0,
    "upper extremity": 1.5,
    "posterior torso": 1.0,
    "anterior torso": 0.8,
    "lower extremity": 0.6,
    None: 1.0,
}
KERATOSIS_NEVI_LOGIT = -3.5  # not nevi: the nevus classifier says so
NEVI_LOGIT = -0.3  # XP nevi: sets the benign median of tbp_lv_nevi_confidence
BENIGN_LESION_ID = 0.06
# Separation of the latent atypia between the classes, in benign standard deviations; it sets
# how hard the task is (tuned so that a plain GBDT reaches a pAUC near 0.15).
ATYPIA_D = 2.8
TINY_MALIGNANT = 0.07  # small early cancers, the opposite of the ugly duckling
BCC = "Malignant::Malignant adnexal epithelial proliferations - Follicular::Basal cell carcinoma"
SCC = "Malignant::Malignant epidermal proliferations::Squamous cell carcinoma"
MEL = "Malignant::Malignant melanocytic proliferations (Melanoma)::Melanoma"
DIAGNOSES = (
    # (iddx_full, weight, melanoma kind: 0 none, 1 in situ, 2 invasive)
    (BCC, 12, 0),
    (f"{BCC}::Basal cell carcinoma, Nodular", 18, 0),
    (f"{BCC}::Basal cell carcinoma, Superficial", 12, 0),
    (f"{BCC}::Basal cell carcinoma, Infiltrating", 3, 0),
    (f"{SCC} in situ", 12, 0),
    (f"{SCC}, Invasive", 6, 0),
    (f"{SCC}, Invasive::Squamous cell carcinoma, Invasive, Keratoacanthoma-type", 2, 0),
    (f"{MEL} in situ", 12, 1),
    (f"{MEL} in situ::Melanoma in situ, Lentigo maligna type", 3, 1),
    (f"{MEL} Invasive", 8, 2),
    (f"{MEL} Invasive::Melanoma Invasive, Superficial spreading", 5, 2),
    (f"{MEL} Invasive::Melanoma Invasive, Associated with a nevus", 3, 2),
)
BENIGN_DETAILED = (
    "Benign::Benign melanocytic proliferations::Nevus",
    "Benign::Benign melanocytic proliferations::Nevus::Nevus, Junctional",
    "Benign::Benign epidermal proliferations::Seborrheic keratosis",
    "Benign::Benign epidermal proliferations::Solar or actinic keratosis",
    "Indeterminate::Indeterminate melanocytic proliferations::Atypical melanocytic neoplasm",
)
MITOTIC = ("0/mm^2", "<1/mm^2", "1/mm^2", "2/mm^2", "3/mm^2", ">4/mm^2")
