"""How the cohort and the headline odds ratios move with each OPEN choice of STUDY.md.

One row per choice changed from its default (dbt_project.yml): the warehouse is copied,
its models re-run with that one var changed (`dbt run --vars`), and the cohort size, the
osteoporosis count and Model 3's cadmium and selenium Q4 odds ratios (unweighted) are
read from the copy. The first row is the defaults.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import study1
from analysis.run import load
from ingest.build import dbt_build

VARIANTS: list[tuple[str, object]] = [
    ("postmenopausal_rule", "no_periods_12m"),
    ("postmenopausal_rule", "menopause_reported"),
    ("postmenopausal_rule", "no_periods_or_menopause"),
    ("required_bmd_sites", ["total_femur", "femoral_neck"]),
    ("spine_reference", "spine_1064_0106"),
    ("spine_reference", "spine_1065_0122"),
    ("spine_reference", "spine_1068_0118"),
    ("borderline_diabetes_as", "yes"),
    ("borderline_diabetes_as", "missing"),
    ("dont_know_as", "no"),
    ("age_group_breaks", [65, 75]),
]


def _headline(warehouse: Path) -> dict:
    cohort, design, _ = load(warehouse)
    row = {"cohort_n": len(cohort), "osteoporosis_n": int(cohort.has_osteoporosis.sum())}
    if len(cohort) < 20:
        return row
    data = study1.StudyData.build(cohort, design)
    table = study1.regression_table(
        data, "op", {"model_3": study1.TABLE2_MODELS["model_3"]}, "binomial", "unweighted"
    )
    for metal in ("cadmium", "selenium"):
        q4 = table[(table.metal == metal) & (table.term == "Q4")]
        if len(q4):
            q4 = q4.iloc[0]
            row |= {
                f"{metal}_q4_or": q4.odds_ratio,
                f"{metal}_q4_ci_low": q4.or_ci_low,
                f"{metal}_q4_ci_high": q4.or_ci_high,
            }
    return row


def sensitivity(warehouse: Path, variants: list[tuple[str, object]] = VARIANTS) -> pd.DataFrame:
    rows = [{"choice": "defaults", "value": "", **_headline(warehouse)}]
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in variants:
            copy = Path(tmp) / "variant.duckdb"
            shutil.copyfile(warehouse, copy)
            dbt_build(copy, {name: value}, ("run", "--quiet"))
            rows.append({"choice": name, "value": str(value), **_headline(copy)})
            copy.unlink()
    table = pd.DataFrame(rows)
    for col in ("cadmium_q4_or", "selenium_q4_or"):
        if col not in table:
            table[col] = np.nan
    return table
