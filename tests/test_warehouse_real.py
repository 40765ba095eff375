"""The warehouse built from the genuine NHANES files beside the project.

Counts checked against the NHANES codebooks (wwwn.cdc.gov/Nchs/Nhanes/<cycle>/<FILE>.htm):
- DEMO_H: 10,175 participants; RIAGENDR 1 = 5,003, 2 = 5,172; RIDSTATR 1 = 362, 2 = 9,813.
- P_DEMO: 15,560 participants; RIAGENDR 1 = 7,721, 2 = 7,839; RIDSTATR 1 = 1,260, 2 = 14,300.
- BMX_H 9,813 and P_BMX 14,300 rows (one per examined participant).
- SMQ_H 7,168, P_SMQ 11,137; OSQ_H 3,815, P_OSQ 4,987; PBCD_H 5,932, P_PBCD 13,772 rows.
- P_DXXFEM DXAFMRST 1/2/4/5 = 3,545 / 339 / 3 / 706; P_DXXSPN DXASPNST 2,121 / 1,792 / 3 / 677;
  DXXSPN_H DXASPNST 1-5 = 2,135 / 1,209 / 3 / 1 / 360 (DXXFEM_H: ../shared/nhanes/README.md
  says 3,127 valid here against 3,126 in one codebook revision).
The inclusion flow is checked step by step and per cycle against a second implementation
(pandas on the XPT files, ingest/synth/truth.py, the one that makes the twin's TRUTH.json).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
from helpers import query

from nhanes_bone.core.settings import PROJECT_ROOT


def count(warehouse, sql: str) -> int:
    return int(query(warehouse, sql).iloc[0, 0])


def test_staged_row_counts_equal_the_codebooks(real_warehouse):
    expected = {
        "stg_nhanes__demographics": 10175 + 15560,
        "stg_nhanes__body_measures": 9813 + 14300,
        "stg_nhanes__smoking": 7168 + 11137,
        "stg_nhanes__osteoporosis_questionnaire": 3815 + 4987,
        "stg_nhanes__blood_metals": 5932 + 13772,
        "stg_nhanes__blood_pressure_questionnaire": 6464 + 10195,
        "stg_nhanes__dxa_femur": 3708 + 4593,
        "stg_nhanes__dxa_spine": 3708 + 4593,
        "stg_nhanes__complete_blood_count": 9422 + 13772,
        "stg_nhanes__cotinine": 8913 + 13027,
        "stg_nhanes__biochemistry": 6979 + 10409,
        "stg_nhanes__prescriptions": 20194 + 32962,  # one row per medicine: SEQN repeats
    }
    for model, n in expected.items():
        assert count(real_warehouse, f"select count(*) from staging.{model}") == n, model


def test_demographic_frequencies_equal_the_codebooks(real_warehouse):
    by = query(
        real_warehouse,
        "select cycle, sex, examined_in_mec, count(*) as n from staging.stg_nhanes__demographics group by all",
    )
    sexes = by.groupby(["cycle", "sex"]).n.sum().to_dict()
    assert sexes == {
        ("2013-2014", "male"): 5003,
        ("2013-2014", "female"): 5172,
        ("2017-2020", "male"): 7721,
        ("2017-2020", "female"): 7839,
    }
    exam = by.groupby(["cycle", "examined_in_mec"]).n.sum().to_dict()
    assert exam == {
        ("2013-2014", False): 362,
        ("2013-2014", True): 9813,
        ("2017-2020", False): 1260,
        ("2017-2020", True): 14300,
    }


def test_marital_status_harmonisation_keeps_every_answer(real_warehouse):
    raw = (
        query(real_warehouse, "select DMDMARTL as code, count(*) as n from raw.demo_h group by 1")
        .set_index("code")
        .n
    )
    staged = (
        query(
            real_warehouse,
            "select marital_code, count(*) as n from staging.stg_nhanes__demographics "
            "where cycle = '2013-2014' group by 1",
        )
        .set_index("marital_code")
        .n
    )
    assert staged[1] == raw[1] + raw[6]
    assert staged[2] == raw[2] + raw[3] + raw[4]
    assert staged[3] == raw[5]
    raw_p = (
        query(real_warehouse, "select DMDMARTZ as code, count(*) as n from raw.p_demo group by 1")
        .set_index("code")
        .n
    )
    staged_p = (
        query(
            real_warehouse,
            "select marital_code, count(*) as n from staging.stg_nhanes__demographics "
            "where cycle = '2017-2020' group by 1",
        )
        .set_index("marital_code")
        .n
    )
    assert [staged_p[k] for k in (1, 2, 3)] == [raw_p[k] for k in (1, 2, 3)]


def test_dont_know_answers_are_null_not_numbers(real_warehouse):
    raw_dk = count(real_warehouse, "select count(*) from raw.osq_h where OSQ150 in (7, 9)")
    assert raw_dk > 0
    staged = query(
        real_warehouse,
        "select count(*) filter (where parent_told_osteoporosis is null and parent_told_osteoporosis_unknown) as n "
        "from staging.stg_nhanes__osteoporosis_questionnaire where cycle = '2013-2014'",
    )
    assert staged.n[0] == raw_dk


def test_dxa_scan_status_frequencies_equal_the_codebooks(real_warehouse):
    def freq(model: str, column: str, cycle: str) -> dict:
        rows = query(
            real_warehouse,
            f"select {column} as code, count(*) as n from staging.{model} where cycle = ? group by 1",
            [cycle],
        )
        return dict(zip(rows.code.astype(int), rows.n, strict=True))

    assert freq("stg_nhanes__dxa_femur", "femur_scan_status", "2017-2020") == {1: 3545, 2: 339, 4: 3, 5: 706}
    assert freq("stg_nhanes__dxa_spine", "spine_scan_status", "2017-2020") == {1: 2121, 2: 1792, 4: 3, 5: 677}
    assert freq("stg_nhanes__dxa_spine", "spine_scan_status", "2013-2014") == {
        1: 2135,
        2: 1209,
        3: 3,
        4: 1,
        5: 360,
    }
    assert freq("stg_nhanes__dxa_femur", "femur_scan_status", "2013-2014")[1] == 3127


def test_a_genuine_extreme_value_is_kept_and_listed_not_refused(real_warehouse):
    """P_DXXFEM has a femoral-neck BMD of 0.144 g/cm² (the codebook's minimum): it stays in the
    staged table and is the one row outside the plausibility limits."""
    outside = query(real_warehouse, "select * from intermediate.int_values_outside_plausibility_limits")
    assert list(outside.nhanes_variable) == ["DXXNKBMD"]
    assert outside.value[0] == 0.144 and outside.cycle[0] == "2017-2020"
    kept = count(
        real_warehouse,
        "select count(*) from staging.stg_nhanes__dxa_femur where femoral_neck_bmd_g_cm2 = 0.144",
    )
    assert kept == 1


def project_defaults() -> dict:
    import yaml

    from nhanes_bone.core.settings import DBT_PROJECT_DIR

    return yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def _independent_flow(shared_nhanes):
    """The study-1 flow computed with pandas from the genuine XPT files (defaults of dbt_project.yml)."""
    import pyreadstat

    from ingest.synth import truth

    definition = project_defaults()

    tables = {}
    for path in shared_nhanes.rglob("*.XPT"):
        table = path.stem.upper()
        if table.endswith(("_H",)) or table.startswith("P_"):
            tables[table] = pyreadstat.read_xport(str(path))[0]
    df = truth.wide(tables)
    is_op = truth.lowest_tscore(df, definition) <= -2.5
    return df, truth.flow_masks(df, definition), is_op


def test_inclusion_flow_per_cycle_equals_an_independent_pandas_flow(real_warehouse, shared_nhanes):
    df, masks, is_op = _independent_flow(shared_nhanes)
    flow = query(
        real_warehouse,
        "select step, n_remaining, n_osteoporosis from marts.metals_op_inclusion_flow order by step_order",
    )
    assert list(flow.step) == [step for step, _ in masks]
    for (step, mask), row in zip(masks, flow.itertuples(), strict=True):
        assert row.n_remaining == int(mask.sum()), step
        assert row.n_osteoporosis == int((mask & is_op).sum()), step
    cohort = query(
        real_warehouse,
        "select cycle, count(*) as n, sum(has_osteoporosis::int) as op from marts.metals_op_cohort group by 1",
    ).set_index("cycle")
    final = masks[-1][1]
    for cycle in ("2013-2014", "2017-2020"):
        in_cycle = final & (df.cycle == cycle)
        assert cohort.loc[cycle, "n"] == int(in_cycle.sum()), cycle
        assert cohort.loc[cycle, "op"] == int((in_cycle & is_op).sum()), cycle
    # the cohort's first steps are codebook facts: women aged 50+ of both cycles
    assert flow.n_remaining[0] == 25735
    assert flow.n_remaining[2] == 1451 + 2522
    assert count(real_warehouse, "select count(*) from raw._files where is_synthetic") == 0


def test_the_literal_reading_of_the_paper_gives_its_own_flow(shared_nhanes, literal_warehouse):
    """The same independent flow under the other value of each switched var."""
    import pyreadstat

    from ingest.synth import truth

    warehouse = literal_warehouse
    tables = {
        p.stem.upper(): pyreadstat.read_xport(str(p))[0]
        for p in shared_nhanes.rglob("*.XPT")
        if p.stem.upper().endswith("_H") or p.stem.upper().startswith("P_")
    }
    df = truth.wide(tables)
    masks, is_op = truth.flow_masks(df), truth.lowest_tscore(df) <= -2.5
    flow = query(
        warehouse,
        "select n_remaining, n_osteoporosis from marts.metals_op_inclusion_flow order by step_order",
    )
    assert list(flow.n_remaining) == [int(m.sum()) for _, m in masks]
    assert list(flow.n_osteoporosis) == [int((m & is_op).sum()) for _, m in masks]


def test_tscores_exactly_at_the_cut_off_count_as_osteoporosis(literal_warehouse):
    """With exact T-scores and the 1.047/0.110 spine, BMDs at mean - 2.5 SD exactly (femoral neck
    0.558, total femur 0.637, spine 0.772) are osteoporosis; some occur in the genuine files."""
    at_cut = query(
        literal_warehouse,
        "select has_osteoporosis from intermediate.int_bmd_scored "
        "where femoral_neck_bmd_g_cm2 = 0.558 or total_femur_bmd_g_cm2 = 0.637 or lumbar_spine_bmd_g_cm2 = 0.772",
    )
    assert len(at_cut) > 0
    assert at_cut.has_osteoporosis.all()


def _read(shared_nhanes, name: str) -> pd.DataFrame:
    path = next(p for p in shared_nhanes.rglob("*.XPT") if p.stem.upper() == name)
    return pyreadstat.read_xport(str(path))[0]


def test_osteoporosis_treatment_equals_a_pandas_reading_of_rxq_rx_and_osq(real_warehouse, shared_nhanes):
    """The cohort's treatment flag (dbt: prescriptions matched to the seed) against pandas on the
    genuine RXQ_RX and OSQ files: a seed ingredient as a word of the drug name or a seed code,
    or OSQ072 = 1. Several rows per participant: counted once."""
    seed = pd.read_csv(PROJECT_ROOT / "dbt_project" / "seeds" / "osteoporosis_medicines.csv", dtype=str)
    rx = pd.concat([_read(shared_nhanes, "RXQ_RX_H"), _read(shared_nhanes, "P_RXQ_RX")])
    pattern = r"\b(?:" + "|".join(seed.ingredient) + r")\b"
    hit = rx.RXDDRUG.str.contains(pattern, regex=True) | rx.RXDDRGID.isin(seed.multum_code.dropna())
    osq = pd.concat([_read(shared_nhanes, "OSQ_H"), _read(shared_nhanes, "P_OSQ")])
    treated = set(rx.loc[hit, "SEQN"].astype(int)) | set(osq.loc[osq.OSQ072 == 1, "SEQN"].astype(int))
    cohort = query(
        real_warehouse,
        "select participant_id, osteoporosis_treatment, on_bone_medicine from marts.metals_op_cohort",
    )
    assert set(cohort.participant_id[cohort.osteoporosis_treatment]) == treated & set(cohort.participant_id)
    on_medicine = set(rx.loc[hit, "SEQN"].astype(int)) & set(cohort.participant_id)
    assert set(cohort.participant_id[cohort.on_bone_medicine.fillna(False).astype(bool)]) == on_medicine
    assert len(on_medicine) > 20  # alendronate alone is 125 rows of the two files


def test_egfr_is_ckd_epi_2021_of_the_genuine_creatinine(real_warehouse, shared_nhanes):
    """eGFR in the cohort against the CKD-EPI 2021 equation (Inker et al. 2021) evaluated here
    on LBXSCR read from BIOPRO_H / P_BIOPRO; and the equation at a point by hand: a woman of
    60 with creatinine 0.7 mg/dL has 142 × 0.9938^60 × 1.012 = 98.9."""

    def ckd_epi(scr, age):  # women: κ 0.7, α -0.241
        ratio = scr / 0.7
        return 142 * np.minimum(ratio, 1) ** -0.241 * np.maximum(ratio, 1) ** -1.2 * 0.9938**age * 1.012

    assert abs(ckd_epi(0.7, 60) - 98.9) < 0.05
    creatinine = pd.concat([_read(shared_nhanes, "BIOPRO_H"), _read(shared_nhanes, "P_BIOPRO")])
    creatinine = creatinine.set_index(creatinine.SEQN.astype(int)).LBXSCR
    cohort = query(
        real_warehouse,
        "select participant_id, age_years, egfr_ml_min_1_73m2, creatinine_method, cycle from marts.metals_op_cohort",
    )
    scr = creatinine.reindex(cohort.participant_id).to_numpy()
    np.testing.assert_allclose(cohort.egfr_ml_min_1_73m2, ckd_epi(scr, cohort.age_years), rtol=1e-12)
    assert cohort.egfr_ml_min_1_73m2.notna().sum() == np.isfinite(scr).sum() > 850
    methods = cohort.groupby("cycle").creatinine_method.unique()
    assert list(methods["2013-2014"]) == ["jaffe"] and list(methods["2017-2020"]) == ["enzymatic"]


def test_cotinine_below_lod_is_the_published_fill_value(real_warehouse):
    """COT codebooks: LOD 0.015 ng/mL, values below it published as 0.011 with LBDCOTLC = 1."""
    cot = query(
        real_warehouse,
        "select serum_cotinine_ng_ml as v, cotinine_below_lod as below from staging.stg_nhanes__cotinine where v is not null",
    )
    assert (cot.v[cot.below] == 0.011).all() and (cot.v[~cot.below] >= 0.015).all()
    assert 0.25 < cot.below.mean() < 0.40
