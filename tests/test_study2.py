"""Study 2 on the synthetic twin: the same staging feeds a second cohort, and the planted
hemoglobin effect (men's hip and femoral-neck BMD only) is recovered."""

from __future__ import annotations

import json

from helpers import query

from nhanes_bone.core.settings import DBT_PROJECT_DIR


def test_hb_bmd_flow_equals_truth(synthetic_warehouse, truth):
    flow = query(synthetic_warehouse, "select * from marts.hb_bmd_inclusion_flow order by step_order")
    expected = truth["study2_expected"]["inclusion_flow"]
    for column in ("step", "n_remaining", "n_excluded", "n_men", "n_women", "n_osteoporosis"):
        assert list(flow[column]) == [s[column] for s in expected], column
    n = query(synthetic_warehouse, "select count(*) as n from marts.hb_bmd_cohort").n[0]
    assert n == truth["study2_expected"]["cohort_n"]


def test_planted_hemoglobin_effect_in_men_only(analysed, truth):
    run, _ = analysed
    fits = run.tables["study2_regression"]
    slopes = truth["planted"]["study2_hemoglobin"]["hemoglobin_bmd_slope_g_cm2_per_g_dl"]
    unweighted = fits[(fits.weighting == "unweighted") & (fits.model == "model_1")].set_index(
        ["sex", "outcome"]
    )
    for sex, key in (("male", "men"), ("female", "women")):
        for site in ("total_femur", "femoral_neck"):
            row = unweighted.loc[(sex, site)]
            assert row.ci_low < slopes[key][site] < row.ci_high, (sex, site, row.estimate)
    assert unweighted.loc[("male", "total_femur")].p_value < 0.01
    assert unweighted.loc[("female", "total_femur")].p_value > 0.05
    assert unweighted.loc[("female", "femoral_neck")].p_value > 0.05


def test_comparison_with_the_paper_is_written(analysed):
    run, warehouse = analysed
    compare = run.tables["study2_comparison"]
    assert set(compare.site) == {"total_femur", "femoral_neck", "lumbar_spine"}
    male_hip = compare[
        (compare.sex == "male") & (compare.site == "total_femur") & (compare.weighting == "unweighted")
    ].iloc[0]
    assert male_hip.paper_beta == 0.0079 and male_hip.agrees_with_paper
    text = (run.folder / "study2_comparison.txt").read_text()
    assert text.startswith("SYNTHETIC") and "agrees with IMOS" in text
    stored = query(warehouse, "select count(*) as n from analysis.study2_regression").n[0]
    assert stored == len(run.tables["study2_regression"])


def test_both_cohorts_are_built_from_the_same_staging_models(synthetic_warehouse):
    """dbt's lineage: the shared staging models feed both studies' marts."""
    from nhanes_bone.core.dbt import run_dbt

    run_dbt(["compile", "--quiet", "--select", "+hb_bmd_cohort", "+metals_op_cohort"], synthetic_warehouse)
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    parents = manifest["parent_map"]

    def ancestors(node: str) -> set[str]:
        seen, todo = set(), [node]
        while todo:
            for parent in parents.get(todo.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    study1 = ancestors("model.nhanes_bone.metals_op_cohort")
    study2 = ancestors("model.nhanes_bone.hb_bmd_cohort")
    shared = {n for n in study1 & study2 if ".stg_nhanes__" in n}
    assert {
        "model.nhanes_bone.stg_nhanes__demographics",
        "model.nhanes_bone.stg_nhanes__dxa_femur",
        "model.nhanes_bone.stg_nhanes__dxa_spine",
        "model.nhanes_bone.int_participants_joined",
    } <= shared | (study1 & study2)
    assert len(shared) >= 8
