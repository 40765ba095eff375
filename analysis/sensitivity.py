"""How the cohort and the headline odds ratios move with each OPEN choice of STUDY.md.

One row per choice changed from the value the warehouse was built with (marts.build_settings):
the warehouse is copied, its models re-run with that one var changed (`dbt run --vars`), and
the cohort size, the osteoporosis count and Model 3's cadmium and selenium Q4 odds ratios
(unweighted) are read from the copy. The first row is the warehouse as built.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import study1
from analysis.reproduce import GRID
from analysis.run import load
from ingest.build import dbt_build
from nhanes_bone.duck import connect_read_only


def variants(in_force: dict) -> list[tuple[str, object]]:
    """One row per OPEN choice: its first searched value other than the one in force
    (analysis.reproduce.GRID declares the values; the search scores all their combinations)."""
    out = []
    for var, values in GRID.items():
        other = next((v for v in values if v != in_force.get(var)), None)
        if other is not None:
            out.append((var, other))
    return out


def _in_force(warehouse: Path) -> dict:
    con = connect_read_only(warehouse)
    try:
        rows = con.execute("select var_name, var_value from marts.build_settings").fetchall()
    finally:
        con.close()
    return {name: json.loads(value) for name, value in rows}


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


def sensitivity(warehouse: Path, changes: list[tuple[str, object]] | None = None) -> pd.DataFrame:
    rows = [{"choice": "as built", "value": "", **_headline(warehouse)}]
    with tempfile.TemporaryDirectory() as tmp:
        for name, value in changes if changes is not None else variants(_in_force(warehouse)):
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
