"""Small helpers for tests: tiny XPT files written here, read-only queries."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat


def write_xpt(path: Path, frame: pd.DataFrame, table_name: str) -> Path:
    """A real XPT v5 file written by pyreadstat (as small as a test needs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_xport(frame, str(path), table_name=table_name, file_format_version=5)
    return path


def demo_frame(n: int = 5, first_seqn: int = 73557) -> pd.DataFrame:
    """A DEMO_H-shaped frame with the catalog's required columns."""
    return pd.DataFrame(
        {
            "SEQN": [float(first_seqn + i) for i in range(n)],
            "RIAGENDR": [1.0 + i % 2 for i in range(n)],
            "RIDAGEYR": [50.0 + i for i in range(n)],
            "RIDRETH1": [3.0] * n,
            "DMDEDUC2": [4.0] * n,
            "DMDMARTL": [1.0] * n,
            "WTMEC2YR": [1000.0 + i for i in range(n)],
            "SDMVPSU": [1.0] * n,
            "SDMVSTRA": [104.0] * n,
        }
    )


def query(warehouse: Path, sql: str, params=None) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()
