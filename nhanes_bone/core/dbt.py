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

from nhanes_bone.core.errors import DbtError
from nhanes_bone.core.processes import die_with_parent
from nhanes_bone.core.settings import DBT_PROJECT_DIR, quiet_third_parties


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
    # dbt's file log (target's sibling logs/dbt.log) defaults to debug: 9 MB a build and 0.3 s;
    # info keeps every node's line and error there. DBT_LOG_LEVEL_FILE=debug brings it back.
    env = {"DBT_LOG_LEVEL_FILE": "info", **os.environ, "WAREHOUSE": str(Path(warehouse).resolve())}
    results = project_dir / "target" / "run_results.json"
    results.unlink(missing_ok=True)  # what is read after a failure must be this run's
    # dbt's output goes to the terminal as it comes, and is kept: an error found before any node
    # ran (a compilation error) is in no run_results.json, only in what dbt printed
    printed: list[str] = []
    with subprocess.Popen(
        command,
        env=env,
        cwd=project_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent,
    ) as process:
        assert process.stdout is not None  # stdout=PIPE
        for line in process.stdout:
            sys.stdout.write(line)
            printed.append(line.rstrip("\n"))
    if process.returncode != 0:
        details = "; ".join(failure_details(results, Path(warehouse))) or _printed_error(printed)
        raise DbtError(
            f"dbt {args[0]} failed on {warehouse} (`dbt {' '.join(args)}`, exit {process.returncode}): "
            + (details or "the failing model or test is named in dbt's output above")
        )


def _printed_error(lines: list[str]) -> str:
    """The error block dbt printed after "Encountered an error:", in one line."""
    for i, line in enumerate(lines):
        if "Encountered an error" in line:
            block = [_strip_ansi(x).strip() for x in lines[i + 1 : i + 8]]
            return " ".join(x for x in block if x and not x.startswith(">"))
    return ""


def _strip_ansi(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def failure_details(run_results: Path, warehouse: Path, rows: int = 5) -> list[str]:
    """What failed, one line each: the model or test and dbt's message and, for a failing test
    of a column, the column, the NHANES files it comes from and the first offending rows
    (participant, cycle, value), read back from the warehouse."""
    if not run_results.exists():
        return []
    manifest_path = run_results.with_name("manifest.json")
    nodes = json.loads(manifest_path.read_text())["nodes"] if manifest_path.exists() else {}
    failed = [r for r in json.loads(run_results.read_text())["results"] if r["status"] in ("fail", "error")]
    return [_describe(r, nodes, warehouse, rows) for r in failed]


def _describe(result: dict, nodes: dict, warehouse: Path, rows: int) -> str:
    import duckdb

    node = nodes.get(result["unique_id"], {})
    line = f"{node.get('name') or result['unique_id']}: {result.get('message') or result['status']}"
    column = node.get("column_name")
    model = nodes.get(node.get("attached_node") or "", {})
    if result["status"] != "fail" or not column or not result.get("compiled_code"):
        return line
    sources = [
        s.split(".")[-1] for s in model.get("depends_on", {}).get("nodes", []) if s.startswith("source.")
    ]
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            sample = con.execute(f"select * from ({result['compiled_code']}) limit {rows}").df()
            found = con.execute(
                "select string_agg(file_name, ', ' order by file_name) from raw._files where list_contains(?, table_name)",
                [sources],
            ).fetchone()
            files = found[0] if found else None
        finally:
            con.close()
    except duckdb.Error:
        return line  # the message still names the test
    where = f" (from {files})" if files else ""
    shown = sample[
        [c for c in ("participant_id", "cycle", column) if c in sample.columns] or list(sample.columns)
    ]
    return f"{line} — column {column} of {model.get('name')}{where}; first rows: {shown.to_dict('records')}"
