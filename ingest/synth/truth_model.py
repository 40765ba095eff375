"""The planted truth of the synthetic twin, in one place.

Study 1: among women aged 50+, osteoporosis follows a logistic model
``logit P(OP) = intercept + Σ β·x`` in covariates coded as the analysis codes them
(age in years, BMI group, race, parental OP, previous fracture, ever smoked, diabetes)
plus cadmium (harmful) and selenium (protective) quartile effects, quartiles cut within
the analytic cohort. Lead and mercury have no effect; hypertension, education and
marital status have none either. Three truths for the sensitivity analyses (``SENSITIVITY``):
manganese acts through a U-shape in its log (non-linear: both low and high manganese
raise the odds, so its quartile ORs and its per-IQR OR say little and a spline finds it);
serum cotinine confounds cadmium (it raises both blood cadmium and the odds of
osteoporosis, beyond ever-smoking); and women on a bone medicine (RXQ_RX, and OSQ072 when
told they have osteoporosis) have every T-score raised by a fixed amount. The lowest T-score
is built so that ``lowest T ≤ -2.5`` exactly when the logistic latent variable is ≥ 0 for
untreated women (≥ gain / scale for treated ones).

Study 2: in men, hemoglobin raises total-hip and femoral-neck BMD (g/cm² per g/dL);
in women it has no effect.

The T-score reference values are the generator's own copy of STUDY.md's defaults, not
read from the warehouse's seed, so that a wrong seed cannot agree with itself.
"""

from __future__ import annotations

import math

# (mean, sd) g/cm², non-Hispanic white women 20-29 (Looker 1998; spine: STUDY.md default)
TSCORE_REFERENCE = {
    "total_femur": (0.942, 0.122),
    "femoral_neck": (0.858, 0.120),
    "lumbar_spine": (1.047, 0.110),
}
OP_THRESHOLD = -2.5

METALS = ("lead", "cadmium", "mercury", "selenium", "manganese")

STUDY1 = {
    "intercept": -4.8,
    "age_per_year": 0.05,
    "bmi_group": {"<25": 0.8, "25-30": 0.0, ">=30": -0.9},
    "race": {
        "mexican_american": -0.2,
        "other_hispanic": 0.0,
        "non_hispanic_white": 0.0,
        "non_hispanic_black": -1.0,
        "other_race": 0.5,
    },
    "parental_osteoporosis": 0.5,
    "previous_fracture": 0.4,
    "ever_smoked": 0.25,
    "diabetes": -0.3,
    "hypertension": 0.0,
    "quartile_log_or": {
        "cadmium": {"2": math.log(1.4), "3": math.log(1.7), "4": math.log(2.2)},
        "selenium": {"2": math.log(0.55), "3": math.log(0.45), "4": math.log(0.5)},
        "lead": {"2": 0.0, "3": 0.0, "4": 0.0},
        "mercury": {"2": 0.0, "3": 0.0, "4": 0.0},
        "manganese": {"2": 0.0, "3": 0.0, "4": 0.0},
    },
    # lowest T-score = -2.5 - scale × latent, latent = linear predictor + logistic noise
    "latent_to_tscore_scale": 0.4,
}

# The sensitivity analyses' truths (see the module docstring). ln cotinine is centred at
# ``ln_cotinine_centre`` (about the mean among women 50+), the manganese term at its
# women-50+ median and log-SD: κ·((ln Mn - ln median)² - log_sd²), mean zero.
SENSITIVITY = {
    "op_log_or_per_ln_cotinine": 0.08,
    "cadmium_ln_per_ln_cotinine": 0.06,
    "ln_cotinine_centre": -2.1,
    "manganese_u_kappa": 5.0,
    "treated_tscore_gain": 0.8,
    "treated_share_told_osteoporosis": 0.35,
    "treated_share_others_women_50_plus": 0.03,
}
# serum cotinine (ng/mL): log-normal by smoking now (SMQ040 1/2) or not; LOD 0.015, filled
# with LOD/√2 = 0.011 as NCHS does
# "max": the genuine COT_H's largest serum cotinine (1,820 ng/mL); without it a 10x twin's
# lognormal tail passed the staging plausibility limit of 5,000
COTININE = {"current_smoker_ln": (5.2, 0.8), "others_ln": (-3.0, 1.5), "lod": 0.015, "max": 1820.0}
# the bone medicines a treated twin takes (Multum codes as RXQ_RX spells them), with shares;
# the combination is found by name only (its code is not in the warehouse's seed)
BONE_MEDICINES = (
    ("ALENDRONATE", "d03849", 0.6),
    ("RALOXIFENE", "d04261", 0.2),
    ("IBANDRONATE", "d05357", 0.1),
    ("ALENDRONATE; CHOLECALCIFEROL", "d05526", 0.05),
    ("DENOSUMAB", "d07640", 0.05),
)
BONE_REASON = ("M81.0", "Age-related osteoporosis without current pathological fracture")
# other medicines (the commonest of P_RXQ_RX)
OTHER_MEDICINES = (
    ("ATORVASTATIN", "d04105", "E78.5", "Hyperlipidemia, unspecified"),
    ("METFORMIN", "d03807", "E11", "Type 2 diabetes mellitus"),
    ("LISINOPRIL", "d00732", "I10", "Essential (primary) hypertension"),
    ("AMLODIPINE", "d00689", "I10", "Essential (primary) hypertension"),
    ("METOPROLOL", "d00134", "I10", "Essential (primary) hypertension"),
    ("LEVOTHYROXINE", "d00278", "E03.9", "Hypothyroidism, unspecified"),
    ("OMEPRAZOLE", "d00325", "K21.9", "Gastro-esophageal reflux disease without esophagitis"),
    ("LOSARTAN", "d03821", "I10", "Essential (primary) hypertension"),
    ("ALBUTEROL", "d00749", "J45.909", "Unspecified asthma, uncomplicated"),
    ("GABAPENTIN", "d03182", "G62.9", "Polyneuropathy, unspecified"),
)

# Men, and women under 50 (DXA from 40 in 2013-2014): a plausible baseline, not a claim.
OTHERS = {"men_intercept": -7.3, "women_under_50_intercept": -6.5, "age_per_year": 0.05}

STUDY2 = {
    "hemoglobin_bmd_slope_g_cm2_per_g_dl": {
        "men": {"total_femur": 0.0079, "femoral_neck": 0.0064, "lumbar_spine": 0.0},
        "women": {"total_femur": 0.0, "femoral_neck": 0.0, "lumbar_spine": 0.0},
    },
    "hemoglobin_centre_g_dl": {"men": 14.3, "women": 13.1},
}

# Log-normal blood metals among women 50+: medians and log-SDs from Peng et al. Table 2's
# quartile cut-points (median = Q2 upper bound; log-SD = ln(Q3/Q1) / 1.349).
METAL_WOMEN_50 = {
    "lead": (1.16, math.log(1.66 / 0.77) / 1.349),
    "cadmium": (0.38, math.log(0.61 / 0.25) / 1.349),
    "mercury": (0.83, math.log(1.70 / 0.39) / 1.349),
    "selenium": (185.67, math.log(201.84 / 172.07) / 1.349),
    "manganese": (9.30, math.log(11.41 / 7.49) / 1.349),
}
CADMIUM_SMOKING_LOG_SHIFT = 0.45


def as_json() -> dict:
    """The truth as written to TRUTH.json."""
    return {
        "study1_logistic_model": STUDY1,
        "others_baseline": OTHERS,
        "study2_hemoglobin": STUDY2,
        "tscore_reference": {k: {"mean": m, "sd": s} for k, (m, s) in TSCORE_REFERENCE.items()},
        "metal_distribution_women_50_plus": {
            k: {"median": m, "log_sd": s} for k, (m, s) in METAL_WOMEN_50.items()
        },
        "cadmium_log_shift_ever_smokers": CADMIUM_SMOKING_LOG_SHIFT,
        "sensitivity": SENSITIVITY,
        "serum_cotinine": COTININE,
        "bone_medicines": [{"name": n, "code": c, "share": p} for n, c, p in BONE_MEDICINES],
    }
