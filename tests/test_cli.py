"""The command line: help everywhere, and the atomic-build promise for `build`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from nhanes_bone.cli import app

COMMANDS = [
    "ingest",
    "fetch",
    "synth",
    "transform",
    "build",
    "docs",
    "query",
    "dq",
    "svyglm",
    "wqs",
    "bkmr",
    "analyze",
    "report",
]


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]])
def test_help_everywhere(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_failed_dbt_build_keeps_the_previous_warehouse(synthetic_dir, synthetic_warehouse, tmp_path):
    warehouse = tmp_path / "copy.duckdb"
    warehouse.write_bytes(synthetic_warehouse.read_bytes())
    before = warehouse.read_bytes()
    result = CliRunner().invoke(
        app,
        [
            "build",
            "--data-dir",
            str(synthetic_dir),
            "--warehouse",
            str(warehouse),
            "--var",
            "postmenopausal_rule=bogus",
        ],
    )
    assert result.exit_code == 1
    assert "dbt build failed" in result.output
    assert warehouse.read_bytes() == before
    assert not list(tmp_path.glob("*.building-*"))


def test_every_example_analysis_runs_read_only(synthetic_warehouse):
    from nhanes_bone.cli.query import analysis_sql, run_query
    from nhanes_bone.core.settings import DBT_PROJECT_DIR

    names = sorted(p.stem for p in (DBT_PROJECT_DIR / "analyses").glob("*.sql"))
    assert len(names) >= 3
    for name in names:
        assert len(run_query(synthetic_warehouse, analysis_sql(name))) > 0, name


def test_query_command_prints_a_table(synthetic_warehouse):
    result = CliRunner().invoke(
        app,
        [
            "query",
            "select count(*) as n from marts.metals_op_cohort",
            "--warehouse",
            str(synthetic_warehouse),
        ],
    )
    assert result.exit_code == 0 and "n" in result.output


def test_every_make_target_calls_options_that_exist():
    """The Makefile's `$(CLI) <command> --option` lines name real commands and options."""
    import re

    from nhanes_bone.core.settings import PROJECT_ROOT

    calls = re.findall(r"\$\(CLI\) (\w+)([^\n]*)", (PROJECT_ROOT / "Makefile").read_text())
    assert len(calls) >= 8
    for command, rest in calls:
        result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0, command
        for option in re.findall(r"(--[a-z][a-z-]*)", rest):
            assert option in result.output, f"make calls `{command} {option}`, which does not exist"
