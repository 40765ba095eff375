"""Opening the warehouse: many readers or one writer, and builds that swap in atomically.

DuckDB allows one writing process or many reading ones per file. Readers always open
read-only. A writer never edits the live file: it copies it, builds into the copy and
renames the copy over the original only when everything succeeded, so a failed build
leaves the previous warehouse byte-identical (and readers holding the old file keep it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb

from nhanes_bone.core.errors import WarehouseError


def _explain(path: Path, exc: duckdb.Error) -> WarehouseError:
    text = str(exc)
    if "lock" in text.lower():
        return WarehouseError(
            f"{path}: the warehouse is locked by another process that has it open for "
            f"writing; wait for it to finish and try again. ({text.splitlines()[0]})"
        )
    return WarehouseError(f"{path}: cannot open the DuckDB warehouse: {text.splitlines()[0]}")


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection: the only way analysis, checks and users should open it."""
    if not path.exists():
        raise WarehouseError(f"{path}: no warehouse here yet; build it with `make warehouse` or `make demo`")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _explain(path, exc) from exc


def connect_writer(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path))
    except duckdb.Error as exc:
        raise _explain(path, exc) from exc


def building_path(path: Path) -> Path:
    return path.with_name(path.name + f".building-{os.getpid()}")


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """One writer at a time: a lock file beside the warehouse for the length of a build.

    DuckDB's own lock does not cover a build, which writes into a copy and renames it.
    """
    lock = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise WarehouseError(
            f"{path}: another build is writing to this warehouse ({lock.name} exists); wait for it, or "
            "delete the lock file if no build is running"
        ) from None
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_rebuild(path: Path) -> Iterator[Path]:
    """Yield a private copy of ``path`` to build into; swap it in only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(path), _building_copy(path) as work:
        yield work


@contextlib.contextmanager
def _building_copy(path: Path) -> Iterator[Path]:
    work = building_path(path)
    for leftover in (work, work.with_name(work.name + ".wal")):
        leftover.unlink(missing_ok=True)
    if path.exists():
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            raise WarehouseError(
                f"{path}: a write-ahead log ({wal.name}) is beside the warehouse, so another "
                "process is writing to it or one crashed; open it once with duckdb to replay it"
            )
        shutil.copy2(path, work)
    try:
        yield work
    except BaseException:
        work.unlink(missing_ok=True)
        work.with_name(work.name + ".wal").unlink(missing_ok=True)
        raise
    _checkpoint(work)
    os.replace(work, path)


def _checkpoint(path: Path) -> None:
    """Fold a leftover write-ahead log into the file, so that the file alone is complete."""
    if path.with_name(path.name + ".wal").exists():
        con = duckdb.connect(str(path))
        con.execute("checkpoint")
        con.close()
