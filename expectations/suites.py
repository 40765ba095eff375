"""The data-quality suites: what is checked on which table, and how severely.

Each target is a table (or a read-only SQL view of one) with a ``critical`` and a
``warning`` suite, named ``<schema>.<table>.critical`` / ``.warning``. The numbers come
from independent facts only: the NHANES catalog (columns, rows), STUDY.md's ranges and
code sets, and the expected-counts profile (the paper, or the generator's TRUTH.json) —
never from the tables under test.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

import great_expectations.expectations as gxe

from expectations.profile import Profile
from nhanes_bone.core import vocabulary
from nhanes_bone.core.catalog import load_catalog
from nhanes_bone.core.settings import PLAUSIBILITY_LIMITS

METALS = vocabulary.METAL_COLUMNS
CYCLES = vocabulary.cycles()
# minimum ages of the examinations and questionnaires, by cycle (NHANES codebooks)
DXA_MIN_AGE = {"2013-2014": 40, "2017-2020": 50}


@dataclass
class Target:
    name: str  # <schema>.<table>
    sql: str
    critical: list = field(default_factory=list)
    warning: list = field(default_factory=list)


def plausibility_limits(model: str) -> list[dict]:
    """The plausibility limits of one staged model (the same seed dbt warns with)."""
    with PLAUSIBILITY_LIMITS.open(newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["staged_model"] == model]


def _exact(value: float) -> dict:
    return {"min_value": value, "max_value": value}


def raw_targets(profile: Profile, raw_tables: set[str]) -> list[Target]:
    targets = []
    for entry in load_catalog().values():
        table = entry.raw_table
        if table not in raw_tables:
            continue
        target = Target(f"raw.{table}", f'select * from raw."{table}"')
        target.critical += [
            gxe.ExpectTableColumnsToMatchSet(column_set=list(entry.required_columns), exact_match=False),
            gxe.ExpectColumnValuesToNotBeNull(column="SEQN"),
        ]
        if entry.seqn_is_key:  # RXQ_RX has one row per medicine
            target.critical.append(gxe.ExpectColumnValuesToBeUnique(column="SEQN"))
        if table in profile.raw_rows:
            target.warning.append(gxe.ExpectTableRowCountToEqual(value=profile.raw_rows[table]))
        targets.append(target)
    return targets


def staging_targets() -> list[Target]:
    def stg(name: str, sql: str | None = None) -> Target:
        return Target(f"staging.{name}", sql or f"select * from staging.{name}")

    def keys() -> list:
        return [
            gxe.ExpectColumnValuesToNotBeNull(column="participant_id"),
            gxe.ExpectColumnValuesToBeUnique(column="participant_id"),
            gxe.ExpectColumnValuesToBeInSet(column="cycle", value_set=CYCLES),
        ]

    demo = stg("stg_nhanes__demographics")
    demo.critical += [
        *keys(),
        gxe.ExpectColumnValuesToBeInSet(column="sex", value_set=["male", "female"]),
        gxe.ExpectColumnValuesToBeBetween(column="age_years", min_value=0, max_value=80),
        gxe.ExpectColumnValuesToNotBeNull(column="design_stratum"),
    ]
    demo.warning += [
        gxe.ExpectColumnValuesToBeInSet(column="race_ethnicity_code", value_set=[1, 2, 3, 4, 5]),
        gxe.ExpectColumnValuesToBeInSet(column="education_code", value_set=[1, 2, 3, 4, 5]),
        gxe.ExpectColumnValuesToBeInSet(column="marital_code", value_set=[1, 2, 3]),
        gxe.ExpectColumnValuesToBeBetween(column="mec_weight", min_value=0),
    ]
    metals = stg("stg_nhanes__blood_metals")
    metals.critical += keys() + [
        gxe.ExpectColumnValuesToBeBetween(column=col, min_value=0, strict_min=True) for col in METALS.values()
    ]
    metals.warning += [gxe.ExpectColumnValuesToBeBetween(column="metals_subsample_weight", min_value=0)]

    with_age = (
        "select s.*, d.age_years from staging.{name} as s "
        "join staging.stg_nhanes__demographics as d using (participant_id, cycle)"
    )
    femur = stg("stg_nhanes__dxa_femur", with_age.format(name="stg_nhanes__dxa_femur"))
    # impossible values are critical; the plausibility limits (a genuine extreme value is data) warn
    femur.critical += keys() + [
        gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True)
        for c in ("total_femur_bmd_g_cm2", "femoral_neck_bmd_g_cm2")
    ]
    spine = stg("stg_nhanes__dxa_spine", with_age.format(name="stg_nhanes__dxa_spine"))
    spine.critical += keys() + [
        gxe.ExpectColumnValuesToBeBetween(column="lumbar_spine_bmd_g_cm2", min_value=0, strict_min=True)
    ]
    for target in (femur, spine):
        for limit in plausibility_limits(target.name.removeprefix("staging.")):
            target.warning.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=limit["staged_column"],
                    min_value=float(limit["min_value"]),
                    max_value=float(limit["max_value"]),
                    row_condition=f'cycle=="{limit["cycle"]}"',
                    condition_parser="pandas",
                )
            )
    for target, status in ((femur, "femur_scan_status"), (spine, "spine_scan_status")):
        target.warning.append(gxe.ExpectColumnValuesToBeInSet(column=status, value_set=[1, 2, 3, 4, 5]))
        for cycle, age in DXA_MIN_AGE.items():
            target.warning.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column="age_years",
                    min_value=age,
                    max_value=80,
                    row_condition=f'cycle=="{cycle}"',
                    condition_parser="pandas",
                )
            )
    body = stg("stg_nhanes__body_measures")
    body.critical += keys()
    body.warning += [gxe.ExpectColumnValuesToBeBetween(column="bmi_kg_m2", min_value=10, max_value=100)]
    cbc = stg("stg_nhanes__complete_blood_count")
    cbc.critical += keys()
    cbc.warning += [gxe.ExpectColumnValuesToBeBetween(column="hemoglobin_g_dl", min_value=3, max_value=25)]
    diabetes = stg("stg_nhanes__diabetes_questionnaire")
    diabetes.critical += keys()
    diabetes.warning += [
        gxe.ExpectColumnValuesToBeInSet(column="told_diabetes", value_set=["yes", "no", "borderline"])
    ]
    others = [
        stg(name)
        for name in (
            "stg_nhanes__blood_pressure_questionnaire",
            "stg_nhanes__smoking",
            "stg_nhanes__osteoporosis_questionnaire",
            "stg_nhanes__reproductive_health",
        )
    ]
    for target in others:
        target.critical += keys()
    return [demo, metals, femur, spine, body, cbc, diabetes, *others]


def mart_targets(profile: Profile) -> list[Target]:
    cohort = Target(
        "marts.metals_op_cohort",
        "select *, cast(has_osteoporosis as integer) as osteoporosis from marts.metals_op_cohort",
    )
    cohort.critical += [
        gxe.ExpectTableRowCountToEqual(value=profile.cohort_n),
        gxe.ExpectColumnSumToBeBetween(column="osteoporosis", **_exact(profile.cohort_osteoporosis_n)),
        gxe.ExpectColumnValuesToBeUnique(column="participant_id"),
        gxe.ExpectColumnValuesToBeBetween(column="age_years", min_value=50, max_value=80),
        *[gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True) for c in METALS.values()],
        *[gxe.ExpectColumnValuesToBeInSet(column=f"{m}_quartile", value_set=[1, 2, 3, 4]) for m in METALS],
        gxe.ExpectColumnValuesToNotBeNull(column="lowest_tscore"),
    ]
    cohort.warning += [
        gxe.ExpectColumnValuesToBeBetween(column="bmi_kg_m2", min_value=12, max_value=80),
        gxe.ExpectColumnValuesToBeBetween(column="lowest_tscore", min_value=-8, max_value=6),
        gxe.ExpectColumnValuesToBeInSet(column="cycle", value_set=CYCLES),
    ]

    wide = ", ".join(
        f"max(q{k}_upper) filter (where metal = '{m}') as {m}_q{k}_upper" for m in METALS for k in (1, 2, 3)
    )
    quartiles = Target("marts.metal_quartiles", f"select {wide} from marts.metal_quartiles")
    tol = profile.quartile_tolerance
    for metal, cuts in profile.metal_quartiles.items():
        for k, cut in enumerate(cuts, start=1):
            column = f"{metal}_q{k}_upper"
            quartiles.critical += [
                gxe.ExpectColumnValuesToNotBeNull(column=column),  # an empty cohort has no cut-points
                gxe.ExpectColumnValuesToBeBetween(column=column, min_value=cut - tol, max_value=cut + tol),
            ]

    flow = Target("marts.metals_op_inclusion_flow", "select * from marts.metals_op_inclusion_flow")
    steps = profile.flow or [
        {
            "step": "complete_covariates",
            "n_remaining": profile.cohort_n,
            "n_osteoporosis": profile.cohort_osteoporosis_n,
        }
    ]
    # a row condition that matches no row would pass, so the steps must be there
    flow.critical.append(
        gxe.ExpectColumnDistinctValuesToContainSet(column="step", value_set=[s["step"] for s in steps])
    )
    for step in steps:
        for column in ("n_remaining", "n_osteoporosis"):
            flow.critical.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column,
                    **_exact(step[column]),
                    row_condition=f'step=="{step["step"]}"',
                    condition_parser="pandas",
                )
            )
    flow.warning.append(gxe.ExpectTableRowCountToEqual(value=7))
    return [cohort, quartiles, flow]


def all_targets(profile: Profile, raw_tables: set[str]) -> list[Target]:
    return raw_targets(profile, raw_tables) + staging_targets() + mart_targets(profile)
