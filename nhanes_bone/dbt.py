"""Run dbt in-process against a warehouse file (one invocation per build: dbt's fixed
cost is seconds on these machines)."""

from __future__ import annotations

import os
from pathlib import Path

from nhanes_bone.settings import DBT_PROJECT_DIR, quiet_third_parties


class DbtError(Exception):
    """dbt did not succeed; its own output says which model or test."""


def run_dbt(args: list[str], warehouse: Path, dbt_vars: dict | None = None) -> None:
    """Invoke ``dbt <args>`` on ``warehouse``; raise DbtError unless it succeeds."""
    quiet_third_parties()
    from dbt.cli.main import dbtRunner  # imported late: dbt's import alone takes a second

    previous = os.environ.get("WAREHOUSE")
    os.environ["WAREHOUSE"] = str(Path(warehouse).resolve())
    full = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
    ]
    if dbt_vars:
        import json

        full += ["--vars", json.dumps(dbt_vars)]
    try:
        result = dbtRunner().invoke(full)
    finally:
        if previous is None:
            os.environ.pop("WAREHOUSE", None)
        else:
            os.environ["WAREHOUSE"] = previous
    if not result.success:
        detail = f": {result.exception}" if result.exception else " (see the failing models/tests above)"
        raise DbtError(f"dbt {' '.join(args)} failed on {warehouse}{detail}")
