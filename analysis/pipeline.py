"""The analysis side's orchestration: `nhanes-bone analyze` (study 1's Tables 1-4, Figures 2
and 3, the reproduction search, study 2, the sensitivity table), each table written three ways
(CSV, HTML fragment, the warehouse's analysis schema). The only analysis-side caller of dbt
(the sensitivity table re-runs the models)."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.report.outputs import label, write_csv, write_html, write_warehouse
from analysis.studies.peng2025 import tables as study1
from analysis.studies.peng2025.data import load, load_imputation_frame, load_study2
from analysis.studies.peng2025.exposure_response import exposure_response_tables
from analysis.studies.peng2025.qgcomp import study1_qgcomp
from analysis.studies.peng2025.reproduce import GRID, reproduction_tables
from analysis.studies.peng2025.sensitivity import lod_shares, sensitivity_analyses, table1_weighted
from analysis.studies.peng2025.wqs import WQS_COVARIATES, study1_wqs, study1_wqs_repeated_holdout
from ingest.build import dbt_build
from nhanes_bone.core.errors import InputError
from nhanes_bone.core.warehouse import connect_read_only

WEIGHTINGS = ("unweighted", "design")


@dataclass
class AnalysisRun:
    tables: dict[str, pd.DataFrame]
    synthetic: bool
    folder: Path
    seconds: float


def analyze(
    warehouse: Path,
    reports: Path,
    run_name: str | None = None,
    write_tables: bool = True,
    with_sensitivity: bool = False,
    bkmr_iterations: int = 10000,
    bkmr_chains: int = 2,
    wqs_bootstraps: int = 100,
    imputations: int = 20,
    wqs_holdout_repeats: int = 10,
    wqs_holdout_bootstraps: int = 10,
) -> AnalysisRun:
    """Every table of both studies; ``bkmr_iterations`` = 0 leaves BKMR out (it is the slow part:
    about 3-5 minutes for 2 chains of 10,000 at n ≈ 1,000 on 2 cores). ``imputations`` is the m
    of the multiple-imputation sensitivity analysis; the repeated-holdout WQS runs
    ``wqs_holdout_repeats`` splits of ``wqs_holdout_bootstraps`` bootstraps (demo settings: gWQS
    users run rh = 100 of b = 100, ``nhanes-bone wqs --rh 100``, about 200 times the work)."""
    start = time.perf_counter()
    cohort, design, synthetic = load(warehouse)
    if len(cohort) < 20:
        raise InputError(
            f"{warehouse}: marts.metals_op_cohort has {len(cohort)} rows, too few to fit Tables 1-4 "
            "(marts.metals_op_inclusion_flow shows where participants leave, e.g. for want of a file)"
        )
    data = study1.StudyData.build(cohort, design)
    tables = {"table1": study1.table1(data.cohort)}
    for name, fn in (("table2", study1.table2), ("table3", study1.table3), ("table4", study1.table4)):
        tables[name] = pd.concat([fn(data, w) for w in WEIGHTINGS], ignore_index=True)
    weights, models = study1_wqs(data.cohort, b=wqs_bootstraps)
    tables["wqs_weights"], tables["wqs_model"] = weights, models
    tables.update(study1_qgcomp(data.cohort))
    tables.update(exposure_response_tables(data))
    tables["sensitivity_analyses"] = sensitivity_analyses(
        data, design, load_imputation_frame(warehouse), m=imputations
    )
    tables["table1_weighted"] = table1_weighted(data)
    tables["lod_shares"] = lod_shares(data.cohort)
    if wqs_holdout_repeats:
        tables["wqs_holdout_weights"], tables["wqs_holdout_model"] = study1_wqs_repeated_holdout(
            data.cohort, rh=wqs_holdout_repeats, b=wqs_holdout_bootstraps
        )
    if bkmr_iterations:
        from analysis.studies.peng2025.bkmr import study1_bkmr

        tables.update(
            study1_bkmr(data.cohort, WQS_COVARIATES, iterations=bkmr_iterations, chains=bkmr_chains)
        )
    hb_cohort = load_study2(warehouse)
    if len(hb_cohort) >= 20:
        from analysis.studies import imos2025 as study2

        tables["study2_regression"] = study2.regressions(hb_cohort, design)
        tables["study2_hemoglobin_by_status"] = study2.hemoglobin_by_status(hb_cohort)
        tables["study2_comparison"] = study2.comparison(tables["study2_regression"])
        narrative = study2.narrative(tables["study2_comparison"])
    else:
        narrative = None
    tables.update(reproduction_tables(warehouse))
    if with_sensitivity:
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


# The sensitivity table: how the cohort and the headline odds ratios move with each OPEN
# choice. One row per choice changed from the value the warehouse was built with
# (marts.build_settings): the warehouse is copied, its models re-run with that one var changed
# (`dbt run --vars`), and the cohort size, the OP count and Model 3's cadmium and selenium Q4
# odds ratios (unweighted) are read from the copy. The first row is the warehouse as built.


def variants(in_force: dict) -> list[tuple[str, object]]:
    """One row per OPEN choice: its first searched value other than the one in force
    (analysis.studies.peng2025.reproduce.GRID declares the values; the search scores all their combinations)."""
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
            copy.with_name(copy.name + ".wal").unlink(missing_ok=True)  # never replayed into the next copy
    table = pd.DataFrame(rows)
    for col in ("cadmium_q4_or", "selenium_q4_or"):
        if col not in table:
            table[col] = np.nan
    return table
