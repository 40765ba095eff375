"""Read-only SQL on the warehouse, including the example queries in dbt_project/analyses.

The analyses use dbt's ``ref()``/``source()``; rendering them here (a model's schema is
the folder it lives in, sources are the ``raw`` schema) avoids starting dbt, which would
open the warehouse for writing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from nhanes_bone.core.errors import InputError
from nhanes_bone.core.settings import DBT_PROJECT_DIR
from nhanes_bone.core.warehouse import connect_read_only, damaged, is_damage

LAYERS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


def model_schema(name: str, project: Path = DBT_PROJECT_DIR) -> str:
    if (project / "seeds" / f"{name}.csv").exists():
        return "reference"
    for path in (project / "models").rglob(f"{name}.sql"):
        layer = path.relative_to(project / "models").parts[0]
        return LAYERS.get(layer, layer)
    raise InputError(f"no dbt model or seed named {name!r} in {project}")


def render(sql: str, project: Path = DBT_PROJECT_DIR) -> str:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(sql).render(
        ref=lambda name: f"{model_schema(name, project)}.{name}",
        source=lambda _source, table: f'raw."{table}"',
    )


def analysis_sql(name: str, project: Path = DBT_PROJECT_DIR) -> str:
    path = project / "analyses" / f"{name.removesuffix('.sql')}.sql"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in (project / "analyses").glob("*.sql")))
        raise InputError(f"no analysis {name!r}; the examples are: {known}")
    return render(path.read_text(), project)


@contextlib.contextmanager
def _read_only(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection whose SQL errors are one line: the query's fault, or a damaged
    file (DuckDB finds a bad block only when a query reads it)."""
    con = connect_read_only(warehouse)
    try:
        yield con
    except duckdb.Error as exc:
        if is_damage(exc):
            raise damaged(warehouse, exc) from exc
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"the query failed on {warehouse}: {first}") from exc
    finally:
        con.close()


def run_query(warehouse: Path, sql: str) -> pd.DataFrame:
    with _read_only(warehouse) as con:
        return con.execute(sql).df()


def render_result(warehouse: Path, sql: str, fmt: str, width: int) -> str:
    """The result as text: DuckDB's own box rendering (``table``, fitted to ``width``), or CSV,
    JSON (records) or a Markdown table."""
    import io

    with _read_only(warehouse) as con:
        relation = con.sql(sql)
        if relation is None:
            raise InputError("the SQL returned no result set (only queries are allowed read-only)")
        if fmt == "table":
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                relation.show(max_width=width, max_rows=200)
            return buffer.getvalue().rstrip("\n")
        frame = relation.df()
    if fmt == "csv":
        return frame.to_csv(index=False).rstrip("\n")
    if fmt == "json":
        return frame.to_json(orient="records", date_format="iso", indent=1)
    return markdown(frame)


def markdown(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        return "" if pd.isna(value) else str(value).replace("|", "\\|")

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *rows])
