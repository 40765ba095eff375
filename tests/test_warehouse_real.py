"""The warehouse built from the genuine NHANES files beside the project.

Counts checked against the NHANES codebooks (wwwn.cdc.gov/Nchs/Nhanes/<cycle>/<FILE>.htm):
- DEMO_H: 10,175 participants; RIAGENDR 1 = 5,003, 2 = 5,172; RIDSTATR 1 = 362, 2 = 9,813.
- P_DEMO: 15,560 participants; RIAGENDR 1 = 7,721, 2 = 7,839; RIDSTATR 1 = 1,260, 2 = 14,300.
- BMX_H 9,813 and P_BMX 14,300 rows (one per examined participant).
- SMQ_H 7,168, P_SMQ 11,137; OSQ_H 3,815, P_OSQ 4,987; PBCD_H 5,932 rows.
The DXA files and every 2017-2020 lab are missing offline, so the cohort is empty here:
the flow shows where (no participant has BMD), which is what it is for.
"""

from __future__ import annotations

from helpers import query


def count(warehouse, sql: str) -> int:
    return int(query(warehouse, sql).iloc[0, 0])


def test_staged_row_counts_equal_the_codebooks(real_warehouse):
    expected = {
        "stg_nhanes__demographics": 10175 + 15560,
        "stg_nhanes__body_measures": 9813 + 14300,
        "stg_nhanes__smoking": 7168 + 11137,
        "stg_nhanes__osteoporosis_questionnaire": 3815 + 4987,
        "stg_nhanes__blood_metals": 5932,
        "stg_nhanes__blood_pressure_questionnaire": 6464,
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


def test_flow_shows_where_the_missing_files_stop_the_cohort(real_warehouse):
    flow = query(
        real_warehouse, "select step, n_remaining from marts.metals_op_inclusion_flow order by step_order"
    )
    n = dict(zip(flow.step, flow.n_remaining, strict=True))
    assert n["all_participants"] == 25735
    women_50 = count(
        real_warehouse,
        "select count(*) from staging.stg_nhanes__demographics where sex = 'female' and age_years >= 50",
    )
    assert n["aged_50_plus"] == women_50 == 1451 + 2522
    assert 0 < n["all_five_metals"] < n["aged_50_plus"]  # PBCD_H only: P_PBCD is missing offline
    assert n["bmd_all_sites"] == 0  # no DXA file offline
    assert count(real_warehouse, "select count(*) from raw._files where is_synthetic") == 0
