"""Tables 1-4 on the synthetic twin: the pipeline recovers the planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import query

from analysis.methods.survey import Design, design_matrices, glm
from analysis.pipeline import analyze, load  # noqa: F401
from analysis.studies.peng2025 import sensitivity
from analysis.studies.peng2025 import tables as study1


def test_planted_cadmium_and_selenium_ors_lie_in_the_confidence_intervals(analysed, truth):
    """Selenium's planted Q4 OR in Table 2's Model 3 CI; cadmium's in the cotinine-adjusted
    Model 3 (the twin plants cotinine as a confounder of cadmium, so Model 3 alone estimates a
    confounded OR)."""
    run, _ = analysed
    t2 = run.tables["table2"]
    sens = run.tables["sensitivity_analyses"]
    planted = truth["planted"]["study1_logistic_model"]["quartile_log_or"]
    for weighting in ("unweighted", "design"):
        row = t2[
            (t2.weighting == weighting)
            & (t2.model == "model_3")
            & (t2.metal == "selenium")
            & (t2.term == "Q4")
        ].iloc[0]
        assert row.or_ci_low < np.exp(planted["selenium"]["4"]) < row.or_ci_high, (weighting, row.odds_ratio)
        adjusted = sens[
            (sens.analysis == "cotinine") & (sens.weighting == weighting) & (sens.metal == "cadmium")
        ]
        adjusted = adjusted.iloc[0]
        assert adjusted.q4_or_ci_low < np.exp(planted["cadmium"]["4"]) < adjusted.q4_or_ci_high, weighting
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
    # — the pooled rows (chain "all"), followed by each chain's when the chains disagree
    pooled = {
        name: t[t.chain == "all"]
        for name, t in run.tables.items()
        if name.startswith("bkmr_") and "chain" in t
    }
    assert pooled["bkmr_pips"].metal.tolist() == ["lead", "cadmium", "mercury", "selenium", "manganese"]
    assert len(pooled["bkmr_overall_risk"]) == 11 and len(pooled["bkmr_univariate"]) == 250
    assert len(pooled["bkmr_singvar"]) == 15 and len(run.tables["bkmr_chains"]) == 2
    chains = set(run.tables["bkmr_pips"].chain)
    assert chains in ({"all"}, {"all", "0", "1"})
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


def test_analysis_refuses_an_empty_cohort(shared_nhanes, tmp_path):
    """The genuine demographics alone (every other study file an empty placeholder): no cohort."""
    from conftest import build_warehouse

    (tmp_path / "data").mkdir()
    for name in ("2013-2014/DEMO_H.XPT", "2017-2020/P_DEMO.XPT"):
        (tmp_path / "data" / name.split("/")[1]).symlink_to(shared_nhanes / name)
    warehouse = build_warehouse(tmp_path / "data", tmp_path / "empty.duckdb")
    with pytest.raises(ValueError, match="too few"):
        analyze(warehouse, tmp_path, write_tables=False)


def test_table4_adjusts_for_its_footnotes_covariates(analysed):
    """BMI, age, race, marital status, parental OP and previous fractures — not Model 3 (no
    hypertension, diabetes, education or smoking); the BMI group leaves the BMI strata."""
    assert study1.TABLE4_COVARIATES == [
        study1.BMI,
        "age_years",
        study1.RACE,
        study1.MARITAL,
        "parental_osteoporosis",
        "previous_fracture",
    ]
    run, _ = analysed
    t4 = run.tables["table4"]
    assert set(t4.model) == {"table4"}
    cohort, design, _ = load(analysed[1])
    data = study1.StudyData.build(cohort, design)
    level = sorted(data.cohort.age_group.dropna().unique())[0]
    domain = (data.full.age_group == level).to_numpy() & data.in_cohort
    fit = study1._fit(
        data,
        f"op ~ C(cadmium_quartile) + {' + '.join(study1.TABLE4_COVARIATES)}",
        "binomial",
        "unweighted",
        domain,
    )
    names = " ".join(fit.names)
    for absent in ("hypertension", "diabetes", "education", "ever_smoked"):
        assert absent not in names
    for present in ("age_years", "bmi_group", "race_ethnicity", "marital_status", "parental_osteoporosis"):
        assert present in names
    n_q4 = t4[
        (t4.weighting == "unweighted") & (t4.term == "Q4") & (t4.level == level) & (t4.metal == "cadmium")
    ]
    assert n_q4.n.iloc[0] == fit.n


def _cohort(analysed):
    return load(analysed[1])[0]


def test_the_design_wald_test_refers_f_to_k_and_the_residual_df():
    """R's regTermTest: F = βᵀV⁻¹β / k on (k, residual df). For k = 2 the F(2, d) tail has the
    closed form (1 + 2F/d)^(-d/2); unweighted, the Wald χ²(k)."""
    from scipy import stats

    from analysis.methods.survey import GlmResult, wald_test

    b, v, df = np.array([0.4, -0.3]), np.array([[0.04, 0.01], [0.01, 0.09]]), 15.0
    fit = GlmResult(["a", "b"], b, v, df, "binomial", True, 100)
    f = float(b @ np.linalg.solve(v, b)) / 2
    np.testing.assert_allclose(wald_test(fit, ["a", "b"]), (1 + 2 * f / df) ** (-df / 2), rtol=1e-12)
    # one term: the squared t test on the same df
    np.testing.assert_allclose(wald_test(fit, ["a"]), 2 * stats.t.sf(2.0, df), rtol=1e-12)
    plain = GlmResult(["a", "b"], b, v, df, "binomial", False, 100)
    np.testing.assert_allclose(wald_test(plain, ["a", "b"]), stats.chi2.sf(2 * f, 2), rtol=1e-12)


def test_table1_gives_the_metals_as_mean_sd_and_median_iqr(analysed):
    run, _ = analysed
    t1 = run.tables["table1"]
    cohort = _cohort(analysed)
    op = cohort.has_osteoporosis.astype(bool)
    for col, label in study1.METALS.values():
        rows = t1[t1.variable == label].set_index("statistic")
        assert set(rows.index) == {"mean (SD)", "median (IQR)"}, label
        np.testing.assert_allclose(rows.loc["mean (SD)", "op_value"], cohort.loc[op, col].mean())
        np.testing.assert_allclose(rows.loc["median (IQR)", "non_op_value"], cohort.loc[~op, col].median())


@pytest.mark.slow
def test_sensitivity_rows_move_with_the_choices(synthetic_warehouse, tmp_path):
    from analysis.pipeline import sensitivity

    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(synthetic_warehouse.read_bytes())
    table = sensitivity(
        warehouse,
        [("spine_reference", "spine_1068_0118"), ("required_bmd_sites", ["total_femur", "femoral_neck"])],
    ).set_index("choice")
    defaults = table.loc["as built"]
    assert table.loc["spine_reference", "cohort_n"] == defaults.cohort_n
    assert table.loc["spine_reference", "osteoporosis_n"] > defaults.osteoporosis_n
    assert table.loc["required_bmd_sites", "cohort_n"] > defaults.cohort_n
    assert np.isfinite(table.cadmium_q4_or).all()
    assert warehouse.read_bytes() == synthetic_warehouse.read_bytes()  # variants ran on copies


def test_sensitivity_changes_each_choice_once_away_from_what_is_in_force():
    from analysis.pipeline import variants
    from analysis.studies.peng2025.reproduce import GRID
    from ingest.synth import truth

    rows = variants(truth.DEFINITION)
    assert [name for name, _ in rows] == list(GRID)
    assert all(value != truth.DEFINITION[name] for name, value in rows)


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


def test_qgcomp_finds_the_planted_harm_and_protection_beside_wqs(analysed):
    """The twin plants cadmium harmful and selenium protective: qgcomp (which, unlike WQS, fits
    both directions at once) must give cadmium the largest positive weight and selenium the
    largest negative one, and both the conditional and the marginal fit must be there."""
    run, _ = analysed
    weights = run.tables["qgcomp_weights"]
    positive = weights[weights.direction == "positive"].set_index("metal")
    negative = weights[weights.direction == "negative"].set_index("metal")
    assert positive.weight.idxmax() == "cadmium" and negative.weight.idxmax() == "selenium"
    assert abs(positive.weight.sum() - 1) < 1e-9 and abs(negative.weight.sum() - 1) < 1e-9
    models = run.tables["qgcomp_model"].set_index("method")
    assert list(models.index) == ["noboot", "boot"] and models.loc["boot", "bootstraps"] == 200
    assert (models.odds_ratio > 0).all() and (models.or_ci_low < models.odds_ratio).all()


def test_dose_response_and_the_five_metals_together_follow_the_planted_truth(analysed):
    """The twin plants cadmium harmful and selenium protective (rising quartile ORs): per IQR of
    the metal, alone and with the other four, cadmium's OR is above 1 and selenium's below
    (unweighted); VIFs are at least 1 and the correlation matrix is a correlation matrix."""
    run, _ = analysed
    dose = run.tables["dose_response"]
    per_iqr = dose[(dose.per == "IQR") & (dose.weighting == "unweighted")].set_index("metal")
    assert per_iqr.loc["cadmium", "odds_ratio"] > 1 and per_iqr.loc["selenium", "odds_ratio"] < 1
    assert (
        dose[["p_trend_quartile_medians", "p_nonlinear_rcs3", "p_nonlinear_rcs4"]].stack().between(0, 1).all()
    )
    assert len(dose) == 5 * 2 * 2  # metals × weightings × (IQR, doubling)
    mutual = run.tables["multipollutant"].query("weighting == 'unweighted'").set_index("metal")
    assert mutual.loc["cadmium", "odds_ratio"] > 1 and mutual.loc["selenium", "odds_ratio"] < 1
    assert (mutual.vif >= 1).all()
    rho = run.tables["metal_correlations"].pivot(index="metal_a", columns="metal_b", values="rho")
    np.testing.assert_allclose(np.diag(rho.to_numpy()), 1)
    np.testing.assert_allclose(rho.to_numpy(), rho.to_numpy().T)
    curves = run.tables["spline_curves"]
    at_median = curves.loc[
        (curves.metal_value - curves.reference_value).abs().groupby([curves.metal, curves.weighting]).idxmin()
    ]
    assert len(curves) == 5 * 2 * 60 and (at_median.odds_ratio.between(0.8, 1.25)).all()


def test_adjusting_for_cotinine_removes_the_confounding_planted_in_cadmium(analysed):
    """The twin's cotinine raises blood cadmium and the odds of osteoporosis: on the same women,
    cadmium's Q4 log-OR falls when ln cotinine joins Model 3, and cotinine's own coefficient is
    the planted one."""
    _, warehouse = analysed
    cohort = query(warehouse, "select * from marts.metals_op_cohort where ln_serum_cotinine is not null")
    data = study1.StudyData.build(cohort, query(warehouse, "select * from marts.survey_design"))
    covs = " + ".join(study1.TABLE2_MODELS["model_3"])
    crude = study1._fit(data, f"op ~ C(cadmium_quartile) + {covs}", "binomial", "unweighted")
    adjusted = study1._fit(
        data, f"op ~ C(cadmium_quartile) + ln_serum_cotinine + {covs}", "binomial", "unweighted"
    )
    q4 = "C(cadmium_quartile)[T.4]"
    assert adjusted.coef[adjusted.names.index(q4)] < crude.coef[crude.names.index(q4)] - 0.05
    assert adjusted.coef[adjusted.names.index("ln_serum_cotinine")] > 0


def test_the_sensitivity_table_has_every_analysis_and_the_right_women(analysed, truth):
    run, warehouse = analysed
    sens = run.tables["sensitivity_analyses"]
    expected = truth["study1_expected"]
    assert list(dict.fromkeys(sens.analysis)) == list(sensitivity.ANALYSES)
    assert len(sens) == len(sensitivity.ANALYSES) * 2 * 5
    n = sens.drop_duplicates("analysis").set_index("analysis").n
    below = query(warehouse, "select count(*) as k from marts.metals_op_cohort where mercury_below_lod").k[0]
    frame_n = query(warehouse, "select count(*) as k from marts.metals_op_imputation_frame").k[0]
    assert n["main"] == n["mercury_lod_half"] == expected["cohort_n"]
    assert n["untreated"] == expected["cohort_n"] - expected["cohort_treated_n"]
    assert n["mercury_detected"] == expected["cohort_n"] - below > 0
    assert n["imputed"] == frame_n > expected["cohort_n"]
    # LOD/2 moves only mercury's continuous OR: its quartiles and the other metals stay
    main = sens[sens.analysis == "main"].set_index(["weighting", "metal"])
    half = sens[sens.analysis == "mercury_lod_half"].set_index(["weighting", "metal"])
    np.testing.assert_allclose(half.q4_or, main.q4_or)
    other = [m for m in main.index if m[1] != "mercury"]
    np.testing.assert_allclose(half.loc[other, "or_per_doubling"], main.loc[other, "or_per_doubling"])
    assert not np.allclose(
        half.xs("mercury", level=1).or_per_doubling, main.xs("mercury", level=1).or_per_doubling
    )
    pooled = sens[sens.analysis == "imputed"]
    assert pooled[["q4_or", "q4_or_ci_low", "q4_or_ci_high", "p_trend"]].notna().all().all()
    assert (pooled.q4_or_ci_low < pooled.q4_or).all() and (pooled.q4_or < pooled.q4_or_ci_high).all()


def test_the_planted_manganese_u_is_non_linear_and_the_null_metals_are_not(analysed):
    run, _ = analysed
    dose = run.tables["dose_response"]
    p = dose[(dose.per == "IQR") & (dose.weighting == "unweighted")].set_index("metal").p_nonlinear_rcs4
    assert p["manganese"] < 1e-4
    assert p["lead"] > 1e-3 and p["mercury"] > 1e-3


def test_weighted_table1_gives_weighted_percentages_and_design_tests(analysed, truth):
    run, _ = analysed
    t1 = run.tables["table1_weighted"]
    levels = t1[t1.statistic == "weighted % (SE)"]
    sums = levels.groupby("variable")[["non_op_value", "op_value"]].sum()
    np.testing.assert_allclose(sums.to_numpy(), 100)
    assert set(levels.test) == {"Rao-Scott F"} and levels.p_value.between(0, 1).all()
    means = t1[t1.statistic == "weighted mean (SE)"]
    assert set(means.test) == {"design-based t"} and means.p_value.between(0, 1).all()
    # the twin plants osteoporosis rising with age: older women weigh more among the cases
    age = t1[(t1.variable == "Age (years)")].iloc[0]
    assert age.op_value > age.non_op_value
    lod = run.tables["lod_shares"].set_index("metal")
    assert lod.loc["mercury", "n_below_lod"] > 0 and lod.loc["lead", "n_below_lod"] == 0


def test_wqs_repeated_holdout_summarises_its_repeats(analysed):
    run, _ = analysed
    model = run.tables["wqs_holdout_model"].set_index("direction")
    assert (model.repeats == 3).all() and (model.repeats_completed >= 1).all()
    assert (model.or_ci_low <= model.odds_ratio).all() and (model.odds_ratio <= model.or_ci_high).all()
    weights = run.tables["wqs_holdout_weights"]
    np.testing.assert_allclose(weights.groupby("direction").weight.sum(), 1, atol=1e-9)


def test_an_analysis_without_its_files_says_which_files_it_needs(analysed):
    """A data folder without COT (every cotinine null): the cotinine rows say so instead of
    failing the whole table; the other analyses are fitted."""
    _, warehouse = analysed
    cohort = query(warehouse, "select * from marts.metals_op_cohort").assign(ln_serum_cotinine=np.nan)
    data = study1.StudyData.build(cohort, query(warehouse, "select * from marts.survey_design"))
    table = sensitivity.sensitivity_analyses(data, query(warehouse, "select * from marts.survey_design"))
    cotinine = table[table.analysis == "cotinine"]
    assert len(cotinine) == 10 and cotinine.note.str.contains("COT_H, P_COT").all()
    assert table[table.analysis == "egfr"].q4_or.notna().all()
