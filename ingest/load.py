"""Load catalogued XPT files into the warehouse's ``raw`` schema with their provenance.

One table per file (``raw.demo_h``), plus ``raw._files`` (where each table came from)
and ``raw._columns`` (the SAS labels: a codebook to query). A file whose sha256 is the
one already loaded is skipped. Study tables with no file yet get an empty placeholder
with the official columns, so that dbt can always build and the inclusion flow shows
where data is missing rather than failing.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from ingest.discover import SYNTHETIC_LABEL_PREFIX, Found, find_files, synthetic_marker
from ingest.xpt import XptFile, read_xpt, sha256_of
from nhanes_bone.core.catalog import CatalogEntry, load_catalog, load_columns
from nhanes_bone.core.errors import IngestError
from nhanes_bone.core.processes import die_with_parent, keep_freed_memory
from nhanes_bone.core.warehouse import (
    atomic_rebuild,
    connect_read_only,
    connect_writer,
    fault_point,
)

FILES_DDL = """
create table if not exists raw._files (
    table_name varchar primary key,
    file_name varchar,
    cycle varchar,
    component varchar,
    source varchar,
    sha256 varchar,
    size_bytes bigint,
    n_rows bigint,
    n_columns integer,
    sas_table_name varchar,
    sas_file_label varchar,
    sas_created_at timestamp,
    loaded_at timestamp with time zone,
    is_synthetic boolean,
    synthetic_generator varchar,
    catalog_sha256 varchar,
    sha256_matches_catalog boolean,
    catalog_rows bigint,
    rows_match_catalog boolean
)"""
COLUMNS_DDL = """
create table if not exists raw._columns (
    table_name varchar,
    position integer,
    column_name varchar,
    label varchar,
    type varchar,
    is_placeholder boolean
)"""


@dataclass
class FileResult:
    table: str
    status: str  # loaded | skipped | placeholder
    path: Path | None = None
    rows: int | None = None
    columns: int | None = None
    size: int | None = None
    is_synthetic: bool | None = None
    sha256_matches_catalog: bool | None = None
    note: str = ""


@dataclass
class IngestReport:
    warehouse: Path
    results: list[FileResult] = field(default_factory=list)
    unknown_files: list[Path] = field(default_factory=list)
    rebuilt: bool = False

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


def warehouse_state(warehouse: Path) -> tuple[dict[str, str], set[str]]:
    """``table → sha256`` of the files already loaded, and every table in ``raw``."""
    if not warehouse.exists():
        return {}, set()
    con = connect_read_only(warehouse)
    try:
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema='raw'"
            ).fetchall()
        }
        if "_files" not in tables:
            return {}, tables
        return dict(con.execute("select table_name, sha256 from raw._files").fetchall()), tables
    finally:
        con.close()


def _provenance_row(x: XptFile, loaded_at: datetime, synthetic: dict | None) -> dict:
    entry = x.entry
    is_synthetic = synthetic is not None or (x.sas_file_label or "").upper().startswith(
        SYNTHETIC_LABEL_PREFIX
    )
    return {
        "table_name": entry.raw_table,
        "file_name": x.path.name,
        "cycle": entry.cycle,
        "component": entry.component,
        "source": str(x.path.resolve()),
        "sha256": x.sha256,
        "size_bytes": x.size,
        "n_rows": len(x.frame),
        "n_columns": x.frame.shape[1],
        "sas_table_name": x.sas_table_name,
        "sas_file_label": x.sas_file_label,
        "sas_created_at": x.sas_created_at,
        "loaded_at": loaded_at,
        "is_synthetic": is_synthetic,
        "synthetic_generator": (synthetic or {}).get("generator"),
        "catalog_sha256": entry.sha256,
        "sha256_matches_catalog": None if entry.sha256 is None else x.sha256 == entry.sha256,
        "catalog_rows": entry.expected_rows,
        "rows_match_catalog": None if entry.expected_rows is None else len(x.frame) == entry.expected_rows,
    }


def _write_table(con: duckdb.DuckDBPyConnection, x: XptFile) -> None:
    table = x.entry.raw_table
    con.register("incoming", x.frame)
    con.execute(f'create or replace table raw."{table}" as select * from incoming')
    con.unregister("incoming")


def _column_rows(table: str, columns: list[tuple[str, str | None, str]], placeholder: bool) -> list[dict]:
    """A table's rows of raw._columns from its (name, SAS label, type) in order."""
    return [
        {
            "table_name": table,
            "position": i,
            "column_name": name,
            "label": label,
            "type": kind,
            "is_placeholder": placeholder,
        }
        for i, (name, label, kind) in enumerate(columns, 1)
    ]


def _write_bookkeeping(con: duckdb.DuckDBPyConnection, files: list[dict], columns: list[dict]) -> None:
    """raw._files and raw._columns for every file loaded, in two inserts. Written per file, their
    four small statements cost 15 ms a file: 0.6 s of a 2.5 s ingest of the 40 genuine files."""
    if not files:
        return
    tables = [row["table_name"] for row in files]
    con.execute("delete from raw._files where list_contains(?, table_name)", [tables])
    con.execute("delete from raw._columns where list_contains(?, table_name)", [tables])
    _insert_rows(con, "raw._files", files)
    _insert_rows(con, "raw._columns", columns)


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    """Rows (dicts keyed by column) into ``table`` in one statement."""
    if rows:
        con.register("incoming_rows", pd.DataFrame(rows))
        con.execute(f"insert into {table} by name select * from incoming_rows")
        con.unregister("incoming_rows")


def _write_placeholders(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[str]:
    """Empty tables, with the official columns, for study tables not loaded from a file."""
    made: list[CatalogEntry] = []
    rows: list[dict] = []
    specs = load_columns()
    for entry in load_catalog().values():
        if not entry.is_study_table or entry.table in present or entry.table not in specs:
            continue
        exists = con.execute(
            "select count(*) from raw._files where table_name = ?", [entry.raw_table]
        ).fetchone()[0]
        if exists:
            continue
        cols = ", ".join(
            f'"{c.name}" {"varchar" if c.type == "character" else "double"}' for c in specs[entry.table]
        )
        con.execute(f'create or replace table raw."{entry.raw_table}" ({cols})')
        rows += _column_rows(entry.raw_table, [(c.name, c.label, c.type) for c in specs[entry.table]], True)
        made.append(entry)
    if made:
        tables = [entry.raw_table for entry in made]
        con.execute("delete from raw._columns where list_contains(?, table_name)", [tables])
        _insert_rows(con, "raw._columns", rows)
    return [entry.table for entry in made]


Progress = Callable[[str, int, int], None]
# files read at once (each is in memory until written): at 100x NHANES the largest is 425 MB
MAX_READERS = 2


def ingest(
    data_dir: Path,
    warehouse: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    build_into: Path | None = None,
) -> IngestReport:
    """Load every new or changed catalogued file under ``data_dir``.

    ``build_into``: load into this (already private) file instead of making an atomic
    copy of ``warehouse`` — used when ingest is one step of a larger atomic build.
    """
    found, unknown = find_files(data_dir)
    report = IngestReport(warehouse=warehouse, unknown_files=unknown)
    known, tables = warehouse_state(build_into or warehouse)
    plan: list[tuple[Found, str]] = []
    ordered = sorted(found.items())
    # hashlib lets go of the GIL while it hashes: the files are hashed on all cores
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as hashing:
        digests = list(hashing.map(sha256_of, [f.path for _, f in ordered]))
    for (table, f), digest in zip(ordered, digests, strict=True):
        if not force and known.get(f.entry.raw_table) == digest:
            report.results.append(
                FileResult(table, "skipped", f.path, note="unchanged sha256, already loaded")
            )
        else:
            plan.append((f, digest))
    placeholders_needed = {
        e.table
        for e in load_catalog().values()
        if e.is_study_table
        and e.raw_table not in tables
        and e.table not in found
        and e.table in load_columns()
    }
    if not plan and not placeholders_needed and warehouse.exists() and build_into is None:
        return report

    def build(target: Path) -> None:
        # pyreadstat holds the GIL while it parses (two threads reading halves of a file took as
        # long as one), so files are read in worker processes, up to ``readers`` at a time, while
        # this one writes into DuckDB; at most ``readers`` + 1 files are in memory at once. The
        # workers are forked before the warehouse is opened (no DuckDB threads to inherit), and
        # die with the build (they hold its lock's descriptor).
        # ``progress`` is told of a file just before its read is handed to a worker.
        readers = max(1, min(os.cpu_count() or 1, MAX_READERS, len(plan)))
        with ProcessPoolExecutor(
            max_workers=readers, initializer=_start_reader, initargs=(os.getpid(),)
        ) as pool:

            def read(j: int) -> Future[XptFile]:
                f, digest = plan[j]
                if progress:
                    progress(f.entry.table, j, len(plan))
                return pool.submit(read_xpt, f.path, f.entry, digest)

            ahead = deque(read(j) for j in range(min(readers, len(plan))))
            con = connect_writer(target)
            # one DuckDB thread: the readers (and, in a build, dbt's parse) already hold the cores;
            # DuckDB's second thread only contended with them (the genuine build 0.2 s slower)
            con.execute("set threads=1")
            # a checkpoint at every commit: each table then goes into the file once, compressed,
            # instead of into the write-ahead log first and the file again at the checkpoint
            # (the genuine files' writes 0.51 s instead of 0.64 s); the copy is private, so the
            # log's durability between files bought nothing (a killed build throws it away)
            con.execute("set checkpoint_threshold = '0KB'")
            try:
                con.execute("create schema if not exists raw")
                con.execute(FILES_DDL)
                con.execute(COLUMNS_DDL)
                loaded_at = datetime.now(UTC)
                provenance: list[dict] = []
                columns: list[dict] = []
                for i, (f, _) in enumerate(plan):
                    x = _result(ahead.popleft(), f)  # a file's IngestError surfaces here, in plan order
                    if i + len(ahead) + 1 < len(plan):
                        ahead.append(read(i + len(ahead) + 1))
                    synthetic = synthetic_marker(f.path)
                    prov = _provenance_row(x, loaded_at, synthetic)
                    _write_table(con, x)
                    provenance.append(prov)
                    columns += _column_rows(
                        f.entry.raw_table, [(c, x.labels.get(c), x.types[c]) for c in x.frame.columns], False
                    )
                    report.results.append(
                        FileResult(
                            f.entry.table,
                            "loaded",
                            f.path,
                            rows=len(x.frame),
                            columns=x.frame.shape[1],
                            size=x.size,
                            is_synthetic=prov["is_synthetic"],
                            sha256_matches_catalog=prov["sha256_matches_catalog"],
                            note=_note(prov),
                        )
                    )
                    del x
                    fault_point(f"loaded-{i + 1}")
                if progress:
                    progress("", len(plan), len(plan))
                _write_bookkeeping(con, provenance, columns)
                for table in _write_placeholders(con, set(found)):
                    report.results.append(
                        FileResult(
                            table, "placeholder", note="no file: empty table with the official columns"
                        )
                    )
                con.execute("checkpoint")
            except BaseException:
                for future in ahead:  # the reads not started yet: a failed build stops here
                    future.cancel()
                raise
            finally:
                con.close()

    if build_into is not None:
        build(build_into)
    else:
        with atomic_rebuild(warehouse) as work:
            build(work)
    report.rebuilt = True
    return report


def _start_reader(parent: int) -> None:
    """A reader process's set-up: it dies with the build and keeps the memory it frees for the
    next file's columns."""
    die_with_parent(parent)
    keep_freed_memory()


def _result(read: Future[XptFile], f: Found) -> XptFile:
    try:
        return read.result()
    except BrokenProcessPool as exc:
        raise IngestError(
            f.path,
            "the process reading this file died (killed, or out of memory) before it was loaded; "
            "the warehouse is as it was. Build again, with more memory free if it was the OOM killer",
        ) from exc


def _note(prov: dict) -> str:
    if prov["is_synthetic"]:
        return "SYNTHETIC"  # a synthetic file is not expected to match CDC's bytes or rows
    notes = []
    if prov["sha256_matches_catalog"] is False:
        notes.append("sha256 differs from the catalog's")
    if prov["rows_match_catalog"] is False:
        notes.append(f"{prov['n_rows']} rows, catalog says {prov['catalog_rows']}")
    return "; ".join(notes)
