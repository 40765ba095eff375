"""Run dbt against a warehouse file, once per build (dbt's fixed cost is seconds here).

dbt runs as one subprocess, not in-process: dbt-duckdb keeps its DuckDB connection open
for the life of the process, so an in-process run would leave committed work in a
write-ahead log beside a file we are about to swap in. A finished subprocess has closed
and checkpointed the database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nhanes_bone.settings import DBT_PROJECT_DIR, quiet_third_parties


class DbtError(Exception):
    """dbt did not succeed; its own output (above the error) says which model or test."""


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def run_dbt(
    args: list[str], warehouse: Path, dbt_vars: dict | None = None, project_dir: Path = DBT_PROJECT_DIR
) -> None:
    """Invoke ``dbt <args>`` on ``warehouse``; raise DbtError unless it succeeds."""
    quiet_third_parties()
    command = [dbt_executable(), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    if dbt_vars:
        command += ["--vars", json.dumps(dbt_vars)]
    env = {**os.environ, "WAREHOUSE": str(Path(warehouse).resolve())}
    result = subprocess.run(command, env=env, cwd=project_dir, check=False)
    if result.returncode != 0:
        raise DbtError(
            f"dbt {' '.join(args)} failed on {warehouse} (exit {result.returncode}); "
            "the failing model or test is named in dbt's output above"
        )
