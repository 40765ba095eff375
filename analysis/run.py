"""`nhanes-bone analyze`: read the cohorts read-only, fit study 1's Tables 1-4 and study 2's
models, and write every table three ways (CSV, HTML fragment, the warehouse's analysis schema)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import study1
from analysis.outputs import label, write_csv, write_html, write_warehouse
from nhanes_bone.duck import connect_read_only

WEIGHTINGS = ("unweighted", "design")


@dataclass
class AnalysisRun:
    tables: dict[str, pd.DataFrame]
    synthetic: bool
    folder: Path
    seconds: float


def load(warehouse: Path) -> tuple[pd.DataFrame, pd.DataFrame, bool]:
    con = connect_read_only(warehouse)
    try:
        cohort = con.execute("select * from marts.metals_op_cohort order by participant_id").df()
        design = con.execute(
            "select participant_id, design_stratum, design_psu from staging.stg_nhanes__demographics"
        ).df()
        synthetic = bool(
            con.execute("select coalesce(bool_or(is_synthetic), false) from raw._files").fetchone()[0]
        )
    finally:
        con.close()
    return cohort, design, synthetic


WQS_COVARIATES = [
    "hypertension",
    "diabetes",
    "parental_osteoporosis",
    "previous_fracture",
    "marital_status",
    "race_ethnicity",
    "education",
    "age_years",
    "ever_smoked",
    "bmi_group",
]


def study1_wqs(cohort: pd.DataFrame, b: int = 100, seed: int = 2025) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figure 2: WQS of osteoporosis on the five ln-metals, all covariates, both directions.

    gWQS's defaults (q = 4, 60% validation, b = 100, t² averaging, unconstrained); a direction
    in which no bootstrap fit has the chosen sign is refitted with the sign constrained, and
    the table says so.
    """
    from analysis.wqs import WqsError, fit_wqs

    frame = cohort.assign(**{f"ln_{m}": np.log(cohort[col]) for m, (col, _) in study1.METALS.items()})
    mixture = [f"ln_{m}" for m in study1.METALS]
    weights, models = [], []
    for direction in ("positive", "negative"):
        constrained = False
        try:
            fit = fit_wqs(frame, "op", mixture, WQS_COVARIATES, direction=direction, b=b, seed=seed)
        except WqsError:
            constrained = True
            fit = fit_wqs(
                frame, "op", mixture, WQS_COVARIATES, direction=direction, b=b, seed=seed, b_constrained=True
            )
        sign_count = int(
            ((fit.bootstrap.b1 > 0) if direction == "positive" else (fit.bootstrap.b1 < 0)).sum()
        )
        for metal, weight in fit.weights.items():
            weights.append(
                {
                    "direction": direction,
                    "metal": metal.removeprefix("ln_"),
                    "weight": weight,
                    "b_constrained": constrained,
                }
            )
        row = fit.mixture_effect
        models.append(
            {
                "direction": direction,
                "b_constrained": constrained,
                "bootstraps": len(fit.bootstrap),
                "bootstraps_with_sign": sign_count,
                "estimate": row.estimate,
                "std_error": row.std_error,
                "p_value": row.p_value,
                "odds_ratio": row.odds_ratio,
                "or_ci_low": row.or_ci_low,
                "or_ci_high": row.or_ci_high,
                "n_validation": int(fit.validation.sum()),
            }
        )
    return pd.DataFrame(weights), pd.DataFrame(models)


def load_study2(warehouse: Path) -> pd.DataFrame:
    con = connect_read_only(warehouse)
    try:
        return con.execute("select * from marts.hb_bmd_cohort order by participant_id").df()
    finally:
        con.close()


def analyze(
    warehouse: Path,
    reports: Path,
    run_name: str | None = None,
    write_tables: bool = True,
    with_sensitivity: bool = False,
    bkmr_iterations: int = 10000,
    bkmr_chains: int = 2,
) -> AnalysisRun:
    """Every table of both studies; ``bkmr_iterations`` = 0 leaves BKMR out (it is the slow part:
    about 3-5 minutes for 2 chains of 10,000 at n ≈ 1,000 on 2 cores)."""
    start = time.perf_counter()
    cohort, design, synthetic = load(warehouse)
    if len(cohort) < 20:
        raise ValueError(
            f"{warehouse}: marts.metals_op_cohort has {len(cohort)} rows, too few to fit Tables 1-4 "
            "(on the offline genuine files the DXA scans are missing; see marts.metals_op_inclusion_flow)"
        )
    data = study1.StudyData.build(cohort, design)
    tables = {"table1": study1.table1(data.cohort)}
    for name, fn in (("table2", study1.table2), ("table3", study1.table3), ("table4", study1.table4)):
        tables[name] = pd.concat([fn(data, w) for w in WEIGHTINGS], ignore_index=True)
    weights, models = study1_wqs(data.cohort)
    tables["wqs_weights"], tables["wqs_model"] = weights, models
    if bkmr_iterations:
        from analysis.study1_bkmr import study1_bkmr

        tables.update(
            study1_bkmr(data.cohort, WQS_COVARIATES, iterations=bkmr_iterations, chains=bkmr_chains)
        )
    hb_cohort = load_study2(warehouse)
    if len(hb_cohort) >= 20:
        from analysis import study2

        tables["study2_regression"] = study2.regressions(hb_cohort, design)
        tables["study2_hemoglobin_by_status"] = study2.hemoglobin_by_status(hb_cohort)
        tables["study2_comparison"] = study2.comparison(tables["study2_regression"])
        narrative = study2.narrative(tables["study2_comparison"])
    else:
        narrative = None
    from analysis.reproduce import reproduction_tables

    tables.update(reproduction_tables(warehouse))
    if with_sensitivity:
        from analysis.sensitivity import sensitivity

        tables["sensitivity"] = sensitivity(warehouse)
    tables = {name: label(frame, synthetic) for name, frame in tables.items()}
    folder = reports / (run_name or warehouse.stem) / "tables"
    write_csv(tables, folder)
    write_html(tables, folder, synthetic)
    if narrative is not None:
        prefix = "SYNTHETIC DATA, not findings.\n" if synthetic else ""
        (folder / "study2_comparison.txt").write_text(prefix + narrative + "\n")
    if write_tables:
        write_warehouse(tables, warehouse)
    return AnalysisRun(tables, synthetic, folder, time.perf_counter() - start)
