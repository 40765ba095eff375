"""Where results go: tidy CSV, the warehouse's ``analysis`` schema, and HTML for the report.

Every table carries ``data_source`` ('SYNTHETIC' or 'NHANES'), so a number can never lose
the fact that it was computed from synthetic data.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nhanes_bone.core.warehouse import atomic_rebuild, connect_writer

SYNTHETIC_BANNER = (
    '<p class="synthetic">SYNTHETIC DATA — computed from the synthetic NHANES twin; '
    "these numbers are not findings.</p>"
)


def label(frame: pd.DataFrame, synthetic: bool) -> pd.DataFrame:
    out = frame.copy()
    out.insert(0, "data_source", "SYNTHETIC" if synthetic else "NHANES")
    return out


def write_csv(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        paths.append(path)
    return paths


def write_html(tables: dict[str, pd.DataFrame], folder: Path, synthetic: bool) -> None:
    """One HTML fragment per table, for the report to embed."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        if len(frame) > 5000:  # draws: the CSV and the warehouse hold them, no page should
            continue
        body = frame.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.3f}", classes="result")
        (folder / f"{name}.html").write_text((SYNTHETIC_BANNER if synthetic else "") + body)


def write_warehouse(tables: dict[str, pd.DataFrame], warehouse: Path) -> None:
    """Replace the ``analysis`` tables in one copy-and-swap (readers are never blocked)."""
    with atomic_rebuild(warehouse) as work:
        con = connect_writer(work)
        try:
            db = con.execute("select current_database()").fetchone()[0]
            con.execute(f'create schema if not exists "{db}".analysis')
            for name, frame in tables.items():
                con.register("incoming", frame)
                con.execute(f'create or replace table "{db}".analysis."{name}" as select * from incoming')
                con.unregister("incoming")
            con.execute("checkpoint")
        finally:
            con.close()
