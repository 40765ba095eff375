"""The dbt vars under which the twin's truth is computed, and its warehouse built.

A module of its own, importing nothing: a build reads it to decide which vars dbt parses
with before its files are loaded, and it must not wait for the twin's generator (numpy,
pandas: half a second) to be imported first — dbt's head start begins only after it.
"""

DEFINITION = {
    "postmenopausal_rule": "age_50_plus",
    "require_income_poverty_ratio": False,
    "required_bmd_sites": ["total_femur", "femoral_neck", "lumbar_spine"],
    "spine_bmd_source": "total",
    "spine_reference": "spine_1047_0110",
    "tscore_rounding": "exact",
    "hypertension_definition": "told",
    "fracture_definition": "hip_wrist_spine",
    "marital_mapping": "harmonised",
    "borderline_diabetes_as": "no",
    "dont_know_as": "missing",
    "age_group_breaks": [60, 70],
    "bmi_group_breaks": [25, 30],
}
