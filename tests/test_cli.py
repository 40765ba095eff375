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


def test_the_installed_command_exits_cleanly_with_and_without_duckdb(tmp_path):
    """The console script skips the interpreter's last garbage collection only when DuckDB was
    not loaded: nanobind, DuckDB's bindings, reports objects left alive at teardown as leaks."""
    import subprocess
    import sys
    from pathlib import Path

    import duckdb
    import numpy as np
    import pandas as pd

    cli = str(Path(sys.executable).with_name("nhanes-bone"))
    warehouse = tmp_path / "empty.duckdb"
    duckdb.connect(str(warehouse)).close()
    query = subprocess.run(
        [cli, "query", "select 42 as answer", "--warehouse", str(warehouse), "--format", "csv"],
        capture_output=True,
        text=True,
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.split() == ["answer", "42"]
    assert "leak" not in query.stderr
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["a", "b", "c"]).assign(y=rng.integers(0, 2, 80))
    frame.to_csv(tmp_path / "wqs.csv", index=False)
    wqs = subprocess.run(
        [cli, "wqs", "--data", str(tmp_path / "wqs.csv"), "--outcome", "y", "--mixture", "a,b,c"]
        + ["--b", "3", "--seed", "1", "--jobs", "1", "--out", str(tmp_path / "wqs")],
        capture_output=True,
        text=True,
    )
    assert wqs.returncode == 0, wqs.stderr
    assert (tmp_path / "wqs" / "summary.json").exists() and wqs.stderr.strip() == ""
