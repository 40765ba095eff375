"""Tables 1-4 on the synthetic twin: the pipeline recovers the planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import query

from analysis import study1
from analysis.run import analyze, load  # noqa: F401
from analysis.survey import Design, design_matrices, glm


def test_planted_cadmium_and_selenium_ors_lie_in_the_confidence_intervals(analysed, truth):
    run, _ = analysed
    t2 = run.tables["table2"]
    planted = truth["planted"]["study1_logistic_model"]["quartile_log_or"]
    for weighting in ("unweighted", "design"):
        for metal in ("cadmium", "selenium"):
            row = t2[
                (t2.weighting == weighting)
                & (t2.model == "model_3")
                & (t2.metal == metal)
                & (t2.term == "Q4")
            ].iloc[0]
            planted_or = np.exp(planted[metal]["4"])
            assert row.or_ci_low < planted_or < row.or_ci_high, (weighting, metal, row.odds_ratio)
    cd = t2[
        (t2.weighting == "unweighted")
        & (t2.model == "model_3")
        & (t2.metal == "cadmium")
        & (t2.term == "trend")
    ]
    assert cd.p_value.iloc[0] < 0.05


def test_table1_counts_match_the_cohort(analysed, truth):
    run, _ = analysed
    t1 = run.tables["table1"].set_index("variable")
    expected = truth["study1_expected"]
    assert t1.loc["Participants", "op_value"] == expected["cohort_osteoporosis_n"]
    assert t1.loc["Participants", "non_op_value"] == expected["cohort_n"] - expected["cohort_osteoporosis_n"]
    age_groups = run.tables["table1"].query("variable == 'Age group (years)'")
    assert age_groups.op_value.sum() == expected["cohort_osteoporosis_n"]


def test_every_table_is_written_three_ways_and_labelled_synthetic(analysed):
    run, warehouse = analysed
    for name in ("table1", "table2", "table3", "table4", "bkmr_pips", "bkmr_overall_risk", "bkmr_chains"):
        csv = pd.read_csv(run.folder / f"{name}.csv")
        assert (csv.data_source == "SYNTHETIC").all()
        assert "SYNTHETIC DATA" in (run.folder / f"{name}.html").read_text()
        stored = query(
            warehouse, f"select count(*) as n, bool_and(data_source = 'SYNTHETIC') as s from analysis.{name}"
        )
        assert stored.n[0] == len(csv) and stored.s[0]
    # Figure 3: five metals, 11 quantiles, 5 × 50 grid points, 3 × 5 contrasts, two recorded starts
    assert run.tables["bkmr_pips"].metal.tolist() == ["lead", "cadmium", "mercury", "selenium", "manganese"]
    assert len(run.tables["bkmr_overall_risk"]) == 11 and len(run.tables["bkmr_univariate"]) == 250
    assert len(run.tables["bkmr_singvar"]) == 15 and len(run.tables["bkmr_chains"]) == 2
    assert query(warehouse, "select count(*) as n from analysis.bkmr_draws").n[0] == 2 * 120
    t4 = run.tables["table4"]
    inter = t4[t4.term == "interaction"]
    assert len(inter) == 2 * 2 * 5 and inter.p_value.between(0, 1).all()


def test_reduced_design_equals_the_full_design(synthetic_warehouse):
    """Domain estimation on every participant equals the cohort + one placeholder per empty PSU."""
    cohort, design, _ = load(synthetic_warehouse)
    data = study1.StudyData.build(cohort, design)
    formula = "op ~ C(cadmium_quartile) + age_years + diabetes"
    reduced = study1._fit(data, formula, "binomial", "design")
    full = design.merge(
        data.cohort.drop(columns=["design_stratum", "design_psu"]), on="participant_id", how="left"
    )
    inside = full["cycle"].notna().to_numpy()
    for col in ("op", "cadmium_quartile", "age_years", "diabetes"):
        full[col] = full[col].fillna(data.cohort[col].iloc[0]).astype(int if col != "age_years" else float)
    full["combined_metals_weight"] = full["combined_metals_weight"].fillna(0.0)
    y, x, names = design_matrices(formula, full)
    reference = glm(
        y,
        x,
        names,
        "binomial",
        Design.from_frame(full, "combined_metals_weight", "design_stratum", "design_psu"),
        inside,
    )
    np.testing.assert_allclose(reduced.coef, reference.coef, rtol=1e-10)
    np.testing.assert_allclose(reduced.cov, reference.cov, rtol=1e-8)
    assert reduced.df_residual == reference.df_residual


def test_analysis_refuses_an_empty_cohort(real_warehouse, tmp_path):
    with pytest.raises(ValueError, match="too few"):
        analyze(real_warehouse, tmp_path, write_tables=False)


@pytest.mark.slow
def test_sensitivity_rows_move_with_the_choices(synthetic_warehouse, tmp_path):
    from analysis.sensitivity import sensitivity

    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(synthetic_warehouse.read_bytes())
    table = sensitivity(
        warehouse,
        [("spine_reference", "spine_1068_0118"), ("required_bmd_sites", ["total_femur", "femoral_neck"])],
    ).set_index("choice")
    defaults = table.loc["defaults"]
    assert table.loc["spine_reference", "cohort_n"] == defaults.cohort_n
    assert table.loc["spine_reference", "osteoporosis_n"] > defaults.osteoporosis_n
    assert table.loc["required_bmd_sites", "cohort_n"] > defaults.cohort_n
    assert np.isfinite(table.cadmium_q4_or).all()
    assert warehouse.read_bytes() == synthetic_warehouse.read_bytes()  # variants ran on copies


def test_wqs_weights_put_cadmium_first_and_selenium_in_the_negative_index(analysed):
    run, _ = analysed
    weights = run.tables["wqs_weights"]
    positive = weights[weights.direction == "positive"].set_index("metal").weight
    negative = weights[weights.direction == "negative"].set_index("metal").weight
    assert positive.idxmax() == "cadmium"  # the planted harmful metal
    assert negative.idxmax() == "selenium"  # the planted protective one
    assert abs(positive.sum() - 1) < 1e-9 and (positive >= 0).all()
    models = run.tables["wqs_model"].set_index("direction")
    assert models.loc["positive", "odds_ratio"] > 1 and models.loc["negative", "odds_ratio"] < 1
