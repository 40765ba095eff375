"""The study's data, read from the marts only (read-only): the cohort, the survey design it is a
domain of, and whether it came from the synthetic twin."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nhanes_bone.core.errors import InputError
from nhanes_bone.core.warehouse import connect_read_only


def load(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    """The study-1 cohort, every participant's design (for domain estimation), and synthetic?"""
    con = connect_read_only(warehouse)
    try:
        cohort = con.execute("select * from marts.metals_op_cohort order by participant_id").df()
        design = con.execute(
            "select participant_id, design_stratum, design_psu from marts.survey_design"
        ).df()
        synthetic = bool(
            con.execute("select coalesce(bool_or(is_synthetic), false) from marts.data_sources").fetchone()[0]
        )
    finally:
        con.close()
    return cohort, design, synthetic


def load_study2(warehouse: Path) -> pd.DataFrame:
    """Study 2's cohort (hemoglobin and BMD, men and women 50+)."""
    con = connect_read_only(warehouse)
    try:
        return con.execute("select * from marts.hb_bmd_cohort order by participant_id").df()
    finally:
        con.close()


def load_imputation_frame(warehouse: Path) -> pd.DataFrame:
    """Study 1's rows before the complete-case step (marts.metals_op_imputation_frame)."""
    import duckdb

    con = connect_read_only(warehouse)
    try:
        return con.execute("select * from marts.metals_op_imputation_frame order by participant_id").df()
    except duckdb.CatalogException as exc:
        raise InputError(
            f"{warehouse}: marts.metals_op_imputation_frame is missing (a warehouse built before the "
            "sensitivity analyses existed): rebuild it with nhanes-bone build"
        ) from exc
    finally:
        con.close()
