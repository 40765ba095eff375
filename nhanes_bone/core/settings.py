"""Where things live.

Every path can be set by an environment variable so that the same commands work from
make (which exports its variables), from a shell and from tests. Relative paths are
taken relative to the current directory, like every command-line tool.
"""

from __future__ import annotations

import os
from pathlib import Path

# The one place that finds the project: every other module takes its paths from here.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
PAPERS_DIR = PROJECT_ROOT / "analysis" / "studies" / "papers"
PLAUSIBILITY_LIMITS = DBT_PROJECT_DIR / "seeds" / "plausibility_limits.csv"
BENCH_RESULTS = PROJECT_ROOT / "bench" / "results.json"  # `make bench` writes, the report reads

DEFAULT_DATA_DIR = "data/raw"
DEFAULT_WAREHOUSE = "warehouse/nhanes.duckdb"


def data_dir(value: str | Path | None = None) -> Path:
    """The folder searched for NHANES XPT files (``NHANES_DATA_DIR``)."""
    return Path(value or os.environ.get("NHANES_DATA_DIR") or DEFAULT_DATA_DIR)


def warehouse_path(value: str | Path | None = None) -> Path:
    """The DuckDB warehouse file (``WAREHOUSE``)."""
    return Path(value or os.environ.get("WAREHOUSE") or DEFAULT_WAREHOUSE)


def quiet_third_parties() -> None:
    """dbt and GX both phone home by default; each attempt costs time offline."""
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
