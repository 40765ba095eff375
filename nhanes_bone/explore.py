"""Read-only SQL on the warehouse, including the example queries in dbt_project/analyses.

The analyses use dbt's ``ref()``/``source()``; rendering them here (a model's schema is
the folder it lives in, sources are the ``raw`` schema) avoids starting dbt, which would
open the warehouse for writing.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
import pandas as pd

from nhanes_bone.duck import connect_read_only
from nhanes_bone.settings import DBT_PROJECT_DIR

LAYERS = {"staging": "staging", "intermediate": "intermediate", "marts": "marts"}


def model_schema(name: str, project: Path = DBT_PROJECT_DIR) -> str:
    if (project / "seeds" / f"{name}.csv").exists():
        return "reference"
    for path in (project / "models").rglob(f"{name}.sql"):
        layer = path.relative_to(project / "models").parts[0]
        return LAYERS.get(layer, layer)
    raise ValueError(f"no dbt model or seed named {name!r} in {project}")


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
        raise ValueError(f"no analysis {name!r}; the examples are: {known}")
    return render(path.read_text(), project)


def run_query(warehouse: Path, sql: str) -> pd.DataFrame:
    con = connect_read_only(warehouse)
    try:
        return con.execute(sql).df()
    finally:
        con.close()
