"""The NHANES file catalog: which tables the studies need and what is known of them.

The catalog is data (``catalog.csv``, ``nhanes_columns.csv``); this module only reads it.
``catalog.csv`` has one row per NHANES file: cycle, component, the CDC URL and, where
known, the expected rows, size and sha256 (from ``../shared/nhanes/MANIFEST.json``).
``nhanes_columns.csv`` lists each table's variables and SAS labels: taken from the genuine
(or rebuilt) files where they exist offline, from the NHANES codebooks otherwise.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG_CSV = HERE / "catalog.csv"
COLUMNS_CSV = HERE / "nhanes_columns.csv"
CDC_PUBLIC_BASE = "https://wwwn.cdc.gov/Nchs/Data/Nhanes/Public"


@dataclass(frozen=True)
class CatalogEntry:
    table: str  # official NHANES name, e.g. DEMO_H, P_PBCD
    cycle: str  # 2013-2014, 2017-2020, 2017-2018
    suffix: str  # H, P, J
    component: str  # DEMO, PBCD, ...
    description: str
    needed_by: str  # study1;study2 | extra | optional
    begin_year: int
    url: str
    expected_rows: int | None
    expected_size: int | None
    sha256: str | None
    sha256_source: str
    # "one" row per participant (most files; SEQN is a key) or "many" (RXQ_RX: one row per medicine)
    rows_per_participant: str
    required_columns: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.table}.xpt"

    @property
    def raw_table(self) -> str:
        """Name of the table in the warehouse's ``raw`` schema."""
        return self.table.lower()

    @property
    def seqn_is_key(self) -> bool:
        return self.rows_per_participant == "one"

    @property
    def is_study_table(self) -> bool:
        return "study" in self.needed_by

    def url_at(self, base: str | None) -> str:
        """The download URL, optionally under another base (a mirror, or a test server)."""
        if not base:
            return self.url
        return f"{base.rstrip('/')}/{self.begin_year}/DataFiles/{self.table}.xpt"


def _int_or_none(value: str) -> int | None:
    return int(value) if value.strip() else None


@cache
def load_catalog() -> dict[str, CatalogEntry]:
    """All catalogued tables keyed by upper-case table name."""
    entries: dict[str, CatalogEntry] = {}
    with CATALOG_CSV.open(newline="") as fh:
        for row in csv.DictReader(fh):
            entry = CatalogEntry(
                table=row["table"],
                cycle=row["cycle"],
                suffix=row["suffix"],
                component=row["component"],
                description=row["description"],
                needed_by=row["needed_by"],
                begin_year=int(row["begin_year"]),
                url=row["url"],
                expected_rows=_int_or_none(row["expected_rows"]),
                expected_size=_int_or_none(row["expected_size"]),
                sha256=row["sha256"] or None,
                sha256_source=row["sha256_source"],
                rows_per_participant=row["rows_per_participant"],
                required_columns=tuple(row["required_columns"].split()),
            )
            entries[entry.table.upper()] = entry
    return entries


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    label: str
    type: str  # numeric | character
    width: int


@cache
def load_columns() -> dict[str, tuple[ColumnSpec, ...]]:
    """Variables of each table in their official order, keyed by table name."""
    by_table: dict[str, list[ColumnSpec]] = {}
    with COLUMNS_CSV.open(newline="") as fh:
        for row in csv.DictReader(fh):
            by_table.setdefault(row["table"], []).append(
                ColumnSpec(row["name"], row["label"], row["type"], int(row["width"]))
            )
    return {table: tuple(cols) for table, cols in by_table.items()}


def entry_for_file(path: Path) -> CatalogEntry | None:
    """The catalog entry a file name stands for (``demo_h.XPT`` → DEMO_H), if any."""
    if path.suffix.lower() != ".xpt":
        return None
    return load_catalog().get(path.stem.upper())
