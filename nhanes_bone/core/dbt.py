"""Run dbt against a warehouse file, once per build (dbt's fixed cost is seconds here).

dbt runs in a child process (``nhanes_bone.core.dbt_worker``, dbt's own programmatic API),
not in this one: dbt-duckdb keeps its DuckDB connection open for the life of the process, so
an in-process run would leave committed work in a write-ahead log beside a file we are about
to swap in. A finished child has closed and checkpointed the database.

A build starts that child before its ingest (``DbtSession(..., prepare=vars)``): dbt's import
and parse, ~1.8 s, then run on the second core while the files load, and only the nodes are
left when the ingest is done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType

from nhanes_bone.core.errors import DbtError
from nhanes_bone.core.processes import die_with_parent
from nhanes_bone.core.settings import DBT_PROJECT_DIR, quiet_third_parties


class DbtSession:
    """One dbt child process for one warehouse, to run one dbt command in.

    ``prepare``: the vars the command is expected to run with; the child parses the project with
    them at once, in parallel with whatever the caller does before ``run`` (None: it waits, and
    parses when told what to run). Vars given to ``run`` that differ only cost that head start.
    Leaving the ``with`` block without ``run`` ends the child without it touching the warehouse.
    """

    def __init__(
        self, warehouse: Path, *, prepare: dict | None = None, project_dir: Path = DBT_PROJECT_DIR
    ) -> None:
        quiet_third_parties()
        self.warehouse = Path(warehouse)
        self.project_dir = project_dir
        command = [sys.executable, "-m", "nhanes_bone.core.dbt_worker", str(project_dir)]
        if prepare is not None:
            command.append(json.dumps(prepare))
        # dbt's file log (target's sibling logs/dbt.log) defaults to debug: 9 MB a build and 0.3 s;
        # info keeps every node's line and error there. DBT_LOG_LEVEL_FILE=debug brings it back.
        env = {"DBT_LOG_LEVEL_FILE": "info", **os.environ, "WAREHOUSE": str(self.warehouse.resolve())}
        self._process = subprocess.Popen(
            command,
            env=env,
            cwd=project_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=die_with_parent,
        )

    def __enter__(self) -> DbtSession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """End the child: after ``run`` it has exited; before, end of input tells it to stop."""
        process = self._process
        if process.poll() is None:
            try:
                assert process.stdin is not None  # stdin=PIPE
                process.stdin.close()
                process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None and not stream.closed:
                stream.close()

    def run(self, args: list[str], dbt_vars: dict | None = None) -> None:
        """``dbt <args>`` on the warehouse, in the child; raise DbtError unless it succeeds."""
        process = self._process
        assert process.stdin is not None and process.stdout is not None  # both PIPE
        results = self.project_dir / "target" / "run_results.json"
        results.unlink(missing_ok=True)  # what is read after a failure must be this run's
        try:
            process.stdin.write(json.dumps({"args": args, "vars": dbt_vars or None}) + "\n")
            process.stdin.close()
        except BrokenPipeError:
            pass  # the child died before its turn; its output and exit code say why
        # dbt's output goes to the terminal as it comes, and is kept: an error found before any node
        # ran (a compilation error) is in no run_results.json, only in what dbt printed
        printed: list[str] = []
        for line in process.stdout:
            sys.stdout.write(line)
            printed.append(line.rstrip("\n"))
        code = process.wait()
        if code != 0:
            details = "; ".join(failure_details(results, self.warehouse)) or _printed_error(printed)
            raise DbtError(
                f"dbt {args[0]} failed on {self.warehouse} (`dbt {' '.join(args)}`, exit {code}): "
                + (details or "the failing model or test is named in dbt's output above")
            )


def run_dbt(
    args: list[str], warehouse: Path, dbt_vars: dict | None = None, project_dir: Path = DBT_PROJECT_DIR
) -> None:
    """Invoke ``dbt <args>`` on ``warehouse``; raise DbtError unless it succeeds."""
    with DbtSession(warehouse, project_dir=project_dir) as session:
        session.run(args, dbt_vars)


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
    if result["status"] != "fail" or not result.get("compiled_code"):
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
    # a model's column_checks test names what each row fails in failed_checks; a primary_key
    # test gives each repeated key's n_rows
    keep = dict.fromkeys(
        c
        for c in ("participant_id", "cycle", column, *_failing_columns(sample), "failed_checks", "n_rows")
        if c
    )
    shown = sample[[c for c in keep if c in sample.columns] or list(sample.columns)]
    what = f"column {column}" if column else _checked_columns(node)
    return f"{line} — {what} of {model.get('name')}{where}; first rows: {shown.to_dict('records')}"


def _checked_columns(node: dict) -> str:
    """'n columns' for a model-level test: those a column_checks test names in its arguments."""
    kwargs = node.get("test_metadata", {}).get("kwargs", {})
    keys = kwargs.get("primary_key") or []
    names = (
        set([keys] if isinstance(keys, str) else keys)
        | set(kwargs.get("not_null") or [])
        | set(kwargs.get("ranges") or {})
        | set(kwargs.get("accepted_values") or {})
    )
    return f"{len(names)} columns" if names else "the model"


def _failing_columns(sample) -> list[str]:
    """The columns named in the sampled rows' failed_checks ("age_years outside [50, 80]; …"),
    so the message shows their offending values beside the check."""
    if "failed_checks" not in sample.columns:
        return []
    named = (
        check.split(" ", 1)[0] for checks in sample["failed_checks"].dropna() for check in checks.split("; ")
    )
    return [c for c in dict.fromkeys(named) if c in sample.columns]
