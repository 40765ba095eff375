"""The warehouse built from the synthetic twin reproduces the generator's own truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import statsmodels.formula.api as smf
from helpers import query


def test_inclusion_flow_equals_truth_at_every_step(synthetic_warehouse, truth):
    flow = query(synthetic_warehouse, "select * from marts.metals_op_inclusion_flow order by step_order")
    expected = truth["study1_expected"]["inclusion_flow"]
    assert list(flow.step) == [s["step"] for s in expected]
    assert list(flow.n_remaining) == [s["n_remaining"] for s in expected]
    assert list(flow.n_excluded) == [s["n_excluded"] for s in expected]
    assert list(flow.n_osteoporosis) == [s["n_osteoporosis"] for s in expected]


def test_cohort_has_the_expected_rows_and_cases(synthetic_warehouse, truth):
    expected = truth["study1_expected"]
    cohort = query(synthetic_warehouse, "select cycle, has_osteoporosis from marts.metals_op_cohort")
    assert len(cohort) == expected["cohort_n"]
    assert int(cohort.has_osteoporosis.sum()) == expected["cohort_osteoporosis_n"]
    assert cohort.cycle.value_counts().to_dict() == expected["cohort_by_cycle"]


def test_quartile_cut_points_and_counts_equal_truth(synthetic_warehouse, truth):
    quartiles = query(synthetic_warehouse, "select * from marts.metal_quartiles").set_index("metal")
    for metal, q in truth["study1_expected"]["metal_quartiles"].items():
        row = quartiles.loc[metal]
        # both sides are R type-7 quantiles of the same doubles; only rounding of the interpolation differs
        np.testing.assert_allclose(
            [row.q1_upper, row.q2_upper, row.q3_upper],
            [q["q1_upper"], q["q2_upper"], q["q3_upper"]],
            rtol=1e-12,
        )
        assert [row.n_q1, row.n_q2, row.n_q3, row.n_q4] == [q["counts"][k] for k in "1234"]


def test_every_raw_table_is_marked_synthetic(synthetic_warehouse):
    files = query(synthetic_warehouse, "select is_synthetic, synthetic_generator from raw._files")
    assert len(files) == 28 and files.is_synthetic.all()
    assert files.synthetic_generator.str.startswith("nhanes-bone synthetic twin").all()


def test_the_planted_model_is_recovered_term_by_term(synthetic_warehouse, truth):
    """The generator's logistic model refitted in its own coding — cadmium and selenium
    quartiles, ln cotinine (a missing value coded at the centre, as planted), manganese's U
    κ·((ln Mn − ln median)² − log-SD²), and treatment, which raises every T-score by ``gain``
    and so moves the threshold of the latent variable by gain / scale: a log-OR of
    −gain / scale. Every planted coefficient lies in its 95% CI."""
    cohort = query(synthetic_warehouse, "select * from marts.metals_op_cohort")
    planted = truth["planted"]
    sens = planted["sensitivity"]
    cohort["op"] = cohort.has_osteoporosis.astype(int)
    for col in (
        "parental_osteoporosis",
        "previous_fracture",
        "ever_smoked",
        "diabetes",
        "hypertension",
        "osteoporosis_treatment",
    ):
        cohort[col] = cohort[col].astype(int)
    cohort["ln_cotinine"] = cohort.ln_serum_cotinine.fillna(sens["ln_cotinine_centre"])
    manganese = planted["metal_distribution_women_50_plus"]["manganese"]
    cohort["manganese_u"] = (
        np.log(cohort.blood_manganese_ug_l) - np.log(manganese["median"])
    ) ** 2 - manganese["log_sd"] ** 2
    fit = smf.logit(
        "op ~ C(cadmium_quartile) + C(selenium_quartile) + C(lead_quartile) + C(mercury_quartile)"
        " + ln_cotinine + manganese_u + osteoporosis_treatment"
        " + age_years + C(bmi_group, Treatment('25-30'))"
        " + C(race_ethnicity_code, Treatment(3)) + parental_osteoporosis + previous_fracture"
        " + ever_smoked + diabetes + hypertension",
        cohort,
    ).fit(disp=0)
    ci = fit.conf_int()
    expected = {
        f"C({metal}_quartile)[T.{level}]": log_or
        for metal in ("cadmium", "selenium")
        for level, log_or in planted["study1_logistic_model"]["quartile_log_or"][metal].items()
    }
    expected |= {
        "ln_cotinine": sens["op_log_or_per_ln_cotinine"],
        "manganese_u": sens["manganese_u_kappa"],
        "osteoporosis_treatment": -sens["treated_tscore_gain"]
        / planted["study1_logistic_model"]["latent_to_tscore_scale"],
    }
    for name, value in expected.items():
        assert ci.loc[name, 0] < value < ci.loc[name, 1], (name, value, ci.loc[name].tolist())
    assert fit.params["C(cadmium_quartile)[T.4]"] > 0 > fit.params["C(selenium_quartile)[T.4]"]
    assert fit.pvalues[["ln_cotinine", "manganese_u", "osteoporosis_treatment"]].max() < 0.01


def test_treated_women_counted_from_the_prescriptions_as_planted(synthetic_warehouse, truth):
    """The warehouse's treatment flag (dbt: RXQ_RX matched to the seed by code or ingredient,
    or OSQ072) counts the women the generator treated (pandas on the XPT files)."""
    cohort = query(
        synthetic_warehouse, "select osteoporosis_treatment, bone_medicines from marts.metals_op_cohort"
    )
    assert int(cohort.osteoporosis_treatment.sum()) == truth["study1_expected"]["cohort_treated_n"] > 20
    # the combination product has no seed code: found by its ingredient's name
    assert cohort.bone_medicines.str.contains("ALENDRONATE; CHOLECALCIFEROL", regex=False).any()


def test_hemoglobin_raises_hip_bmd_in_men_only(synthetic_warehouse, truth):
    people = query(
        synthetic_warehouse,
        "select sex, age_years, bmi_kg_m2, hemoglobin_g_dl, total_femur_bmd_g_cm2 "
        "from intermediate.int_participants_joined where age_years >= 50",
    ).dropna()
    slopes = truth["planted"]["study2_hemoglobin"]["hemoglobin_bmd_slope_g_cm2_per_g_dl"]
    for sex, label in (("men", "male"), ("women", "female")):
        fit = smf.ols(
            "total_femur_bmd_g_cm2 ~ hemoglobin_g_dl + age_years + bmi_kg_m2", people[people.sex == label]
        ).fit()
        lo, hi = fit.conf_int().loc["hemoglobin_g_dl"]
        assert lo < slopes[sex]["total_femur"] < hi, (sex, lo, hi)
    # and the effect in men is distinguishable from zero
    men = people[people.sex == "male"]
    assert (
        smf.ols("total_femur_bmd_g_cm2 ~ hemoglobin_g_dl + age_years + bmi_kg_m2", men)
        .fit()
        .pvalues["hemoglobin_g_dl"]
        < 0.01
    )


def test_staged_tables_hold_every_row_of_their_files(synthetic_warehouse, truth):
    rows = truth["table_rows"]
    for model, component in (
        ("stg_nhanes__demographics", "DEMO"),
        ("stg_nhanes__blood_metals", "PBCD"),
        ("stg_nhanes__dxa_femur", "DXXFEM"),
        ("stg_nhanes__osteoporosis_questionnaire", "OSQ"),
        ("stg_nhanes__complete_blood_count", "CBC"),
        ("stg_nhanes__cotinine", "COT"),
        ("stg_nhanes__biochemistry", "BIOPRO"),
        ("stg_nhanes__prescriptions", "RXQ_RX"),
    ):
        n = query(synthetic_warehouse, f"select count(*) as n from staging.{model}").n[0]
        assert n == rows[f"{component}_H.XPT"] + rows[f"P_{component}.XPT"], model


@pytest.mark.slow
def test_switching_vars_changes_the_cohort(synthetic_warehouse, tmp_path):
    base = query(
        synthetic_warehouse,
        "select count(*) as n, count(*) filter (where has_osteoporosis) as op from marts.metals_op_cohort",
    )

    def rebuilt(name: str, dbt_vars: dict) -> Path:
        """The twin's warehouse with the cohort models (and what they depend on) rerun under
        ``dbt_vars`` — the models a var reaches, without a whole build's ingest and tests."""
        from ingest.build import dbt_build
        from nhanes_bone.core.warehouse import atomic_rebuild

        copy = tmp_path / name
        copy.write_bytes(synthetic_warehouse.read_bytes())
        with atomic_rebuild(copy) as work:
            dbt_build(
                work,
                dbt_vars,
                ("run", "--quiet", "--select", "+metals_op_cohort", "+metals_op_inclusion_flow"),
            )
        return copy

    spine = rebuilt("spine.duckdb", {"spine_reference": "spine_1068_0118"})
    femur = rebuilt("femur.duckdb", {"required_bmd_sites": ["total_femur", "femoral_neck"]})
    spine_counts = query(
        spine,
        "select count(*) as n, count(*) filter (where has_osteoporosis) as op from marts.metals_op_cohort",
    )
    femur_counts = query(femur, "select count(*) as n from marts.metals_op_cohort")
    # a spine reference with a higher mean lowers spine T-scores: same women, more osteoporosis
    assert spine_counts.n[0] == base.n[0]
    assert spine_counts.op[0] > base.op[0]
    # not requiring the spine keeps the women whose spine total is invalid
    assert femur_counts.n[0] > base.n[0]
    rule = query(spine, "select rule from marts.metals_op_inclusion_flow where step = 'bmd_all_sites'").rule[
        0
    ]
    assert "lumbar spine" in rule


def test_an_unknown_open_choice_fails_the_build_and_keeps_the_warehouse(synthetic_warehouse, tmp_path):
    """A spine_reference that is no seed id used to turn every spine T-score null silently."""
    from ingest.build import dbt_build
    from nhanes_bone.core.dbt import DbtError
    from nhanes_bone.core.warehouse import atomic_rebuild

    copy = tmp_path / "w.duckdb"
    copy.write_bytes(synthetic_warehouse.read_bytes())
    for var, value, named in (
        ("spine_reference", "looker_1998", "spine_1047_0110"),
        ("hypertension_definition", "sometimes", "told_or_measured"),
    ):
        with (
            pytest.raises(DbtError, match=f"var {var} must be one of .*{named}.*got {value}"),
            atomic_rebuild(copy) as work,
        ):
            dbt_build(
                work,
                {var: value},
                ("run", "--quiet", "--select", "int_bmd_scored", "int_participants_joined"),
            )
        assert copy.read_bytes() == synthetic_warehouse.read_bytes()


def test_a_planted_null_and_a_repeated_key_fail_with_their_rows(synthetic_warehouse, tmp_path):
    """The merged test (column_checks, with the model's key) fails on what was planted and names
    it: the columns that are null, the value out of range, the value not accepted, the repeated
    participant and how often it appears, the missing key."""
    import duckdb

    from nhanes_bone.core.dbt import DbtError, run_dbt

    copy = tmp_path / "w.duckdb"
    copy.write_bytes(synthetic_warehouse.read_bytes())
    tests = ["test", "--select", "metals_op_cohort", "survey_design", "--exclude-resource-type", "unit_test"]
    run_dbt(tests, copy)  # the control: the twin as built passes them
    con = duckdb.connect(str(copy))
    nulled, repeated = (
        int(x)
        for x in con.execute(
            "select min(participant_id), max(participant_id) from marts.metals_op_cohort"
        ).fetchone()
    )
    con.execute(
        "update marts.metals_op_cohort set education = null, has_osteoporosis = null where participant_id = ?",
        [nulled],
    )
    con.execute(
        "update marts.metals_op_cohort set age_years = 49, creatinine_method = 'kinetic' where participant_id = ?",
        [repeated],
    )
    con.execute(
        "insert into marts.survey_design select * from marts.survey_design where participant_id = ?",
        [repeated],
    )
    con.execute(
        "insert into marts.survey_design select * replace (null as participant_id) "
        "from marts.survey_design where participant_id = ? limit 1",
        [nulled],
    )
    con.close()
    with pytest.raises(DbtError) as failed:
        run_dbt(tests, copy)
    message = str(failed.value)
    assert "column_checks_metals_op_cohort" in message
    assert f"'participant_id': {nulled}" in message
    assert "'failed_checks': 'education is null; has_osteoporosis is null'" in message
    assert "'age_years': 49" in message and "'creatinine_method': 'kinetic'" in message
    assert (
        "'failed_checks': 'age_years outside [50, 80]; creatinine_method not in [jaffe, enzymatic]'"
        in message
    )
    assert "column_checks_survey_design" in message  # the key is checked in the same node
    assert f"'participant_id': {repeated}" in message
    assert "'failed_checks': 'participant_id repeated (2 rows)'" in message
    assert "'participant_id': None, " in message and "'failed_checks': 'participant_id is null'" in message
