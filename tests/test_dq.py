"""Data quality: GX suites over read-only snapshots, profile chosen by the data."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import great_expectations.expectations as gxe
import pytest
from helpers import query
from typer.testing import CliRunner

from expectations.profile import ProfileError, choose_profile, real_profile
from expectations.suites import mart_targets
from nhanes_bone.cli import app


@pytest.fixture()
def warehouse_copy(synthetic_warehouse, tmp_path) -> Path:
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(synthetic_warehouse.read_bytes())
    return copy


def dq(warehouse: Path, *extra: str):
    return CliRunner().invoke(app, ["dq", "--warehouse", str(warehouse), *extra])


def test_a_corrupted_mart_row_fails_the_right_expectation(warehouse_copy):
    con = duckdb.connect(str(warehouse_copy))
    con.execute(
        "update marts.metals_op_cohort set blood_cadmium_ug_l = -0.5 "
        "where participant_id = (select min(participant_id) from marts.metals_op_cohort)"
    )
    con.close()
    result = dq(warehouse_copy)
    assert result.exit_code == 1
    failed = query(warehouse_copy, 'select suite, expectation, "column" from dq.results where not success')
    assert list(map(tuple, failed.values)) == [
        ("marts.metals_op_cohort.critical", "expect_column_values_to_be_between", "blood_cadmium_ug_l")
    ]


def test_a_warehouse_mixing_real_and_synthetic_is_refused(warehouse_copy):
    con = duckdb.connect(str(warehouse_copy))
    con.execute("update raw._files set is_synthetic = false where table_name = 'demo_h'")
    con.close()
    with pytest.raises(ProfileError, match="mixes real and synthetic"):
        choose_profile(duckdb.connect(str(warehouse_copy), read_only=True))
    result = dq(warehouse_copy, "--no-record")
    assert result.exit_code == 1 and "mixes real and synthetic" in result.output


def test_expected_counts_come_from_the_profile_not_the_tables():
    """The real profile is the paper's published numbers, read from the profile file."""
    profile = real_profile()
    assert (profile.cohort_n, profile.cohort_osteoporosis_n) == (905, 161)
    assert profile.metal_quartiles["cadmium"] == [0.25, 0.38, 0.61]
    cohort, quartiles, flow = mart_targets(profile)
    counts = [e for e in cohort.critical if isinstance(e, gxe.ExpectTableRowCountToEqual)]
    assert [e.value for e in counts] == [905]
    sums = [e for e in cohort.critical if isinstance(e, gxe.ExpectColumnSumToBeBetween)]
    assert [(e.min_value, e.max_value) for e in sums] == [(161, 161)]
    cd_q1 = [
        e
        for e in quartiles.critical
        if getattr(e, "column", "") == "cadmium_q1_upper" and hasattr(e, "min_value")
    ]
    assert cd_q1[0].min_value == pytest.approx(0.24) and cd_q1[0].max_value == pytest.approx(0.26)


def _hold(warehouse: Path, read_only: bool) -> subprocess.Popen:
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(warehouse)!r}, read_only={read_only})\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_every_suite_passes_beside_a_reader_is_recorded_and_a_writer_is_refused(warehouse_copy):
    """One checkpoint run (they take half a minute) while another process reads the warehouse:
    every suite passes on the twin and the results are recorded; then a writer holding the
    file makes dq fail with a clear line."""
    reader = _hold(warehouse_copy, read_only=True)
    try:
        result = dq(warehouse_copy)
    finally:
        reader.kill()
        reader.wait()
    assert result.exit_code == 0, result.output
    assert "0 critical failure(s), 0 warning(s)" in result.output
    assert "SYNTHETIC twin" in result.output
    results = query(warehouse_copy, "select * from dq.results")
    assert results.success.all() and results.suite.nunique() > 60
    assert {"marts.metals_op_cohort.critical", "raw.demo_h.critical"} <= set(results.suite)
    time.sleep(0.2)
    writer = _hold(warehouse_copy, read_only=False)
    try:
        result = dq(warehouse_copy)
    finally:
        writer.kill()
        writer.wait()
    assert result.exit_code == 1
    assert "locked by another process" in result.output
    assert "Traceback" not in result.output


def test_on_real_nhanes_exactly_the_papers_expectations_fail_and_say_by_how_much(real_warehouse, tmp_path):
    """Real data → the paper's profile. What the default definition does not reproduce (the paper's
    905, a cut-point more than 0.01 away) fails, with its distance; every other critical passes."""
    from expectations.runner import run

    copy = tmp_path / "real.duckdb"
    copy.write_bytes(real_warehouse.read_bytes())
    report = run(copy, write_results=False)
    assert report.profile.name.startswith("real NHANES")
    failed = report.failures("critical")
    cohort = query(copy, "select count(*) as n, sum(has_osteoporosis::int) as op from marts.metals_op_cohort")
    cuts = query(copy, "select * from marts.metal_quartiles")
    # what should fail, computed here from the marts and the paper's published numbers
    expected = set()
    if cohort.n[0] != 905:
        expected |= {("marts.metals_op_cohort", "expect_table_row_count_to_equal", None)}
        expected |= {("marts.metals_op_inclusion_flow", "expect_column_values_to_be_between", "n_remaining")}
    if cohort.op[0] != 161:
        expected |= {("marts.metals_op_cohort", "expect_column_sum_to_be_between", "osteoporosis")}
        expected |= {
            ("marts.metals_op_inclusion_flow", "expect_column_values_to_be_between", "n_osteoporosis")
        }
    paper = real_profile().metal_quartiles
    for c in cuts.itertuples():
        for k in (1, 2, 3):
            if abs(getattr(c, f"q{k}_upper") - paper[c.metal][k - 1]) > 0.01 + 1e-9:
                expected.add(
                    ("marts.metal_quartiles", "expect_column_values_to_be_between", f"{c.metal}_q{k}_upper")
                )
    assert {(o.target, o.expectation, o.column) for o in failed} == expected
    assert expected  # the paper is not reproduced exactly (918 women): the test would say so otherwise
    row_count = next(o for o in failed if o.expectation == "expect_table_row_count_to_equal")
    assert row_count.off_by == cohort.n[0] - 905 and row_count.expected == "= 905"
    # the one genuine extreme value is a warning, not a failure
    femur = [o for o in report.failures("warning") if o.target == "staging.stg_nhanes__dxa_femur"]
    assert [o.column for o in femur] == ["femoral_neck_bmd_g_cm2"]
