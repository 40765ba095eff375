"""Opening the warehouse: many readers or one writer, and builds that swap in atomically.

DuckDB allows one writing process or many reading ones per file. Readers always open
read-only. A writer never edits the live file: it copies it, builds into the copy and
renames the copy over the original only when everything succeeded, so a failed or killed
build leaves the previous warehouse byte-identical.

What a reader sees during a swap: a reader holds the file it opened (on POSIX an open file
survives being renamed over), so a query, `dq` or `analyze` that started before a swap
finishes on the old warehouse, and the next process that opens the path gets the new one.
(Within one process DuckDB caches a database by path while a connection to it is open, so a
long-lived process sees the new file only after closing every connection to the old.)

What survives a killed build: the lock is an advisory lock (``flock``) on ``<warehouse>.lock``
that the operating system releases when its process dies, however it dies; the next build
takes it, removes the ``.building-*`` copies (and their write-ahead logs) that dead builds left
behind and says so. The named points below are where the fault-injection suite
(tests/test_faults.py) kills builds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from nhanes_bone.core.errors import NhanesBoneError, WarehouseError

log = logging.getLogger(__name__)

KILL_AT_ENV = "NHANES_BONE_KILL_AT"
"""Fault injection: a build whose environment names one of its points here SIGKILLs itself
there (the suite's only way to hit windows of microseconds, such as the one after the swap)."""

FULL_DISK_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
FULL_DISK_TEXTS = ("no space left on device", "file too large", "disk quota exceeded")


def fault_point(name: str) -> None:
    """Die here, as a killed build would, when the fault-injection suite asks for ``name``."""
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


DAMAGE_TEXTS = (
    "corrupt database file",
    "could not read enough bytes",
    "not a valid duckdb database",
    "computed checksum",
)


def is_damage(exc: BaseException) -> bool:
    """DuckDB's words for a file that is not whole (truncated, overwritten, not DuckDB's)."""
    return any(text in str(exc).lower() for text in DAMAGE_TEXTS)


def damaged(path: Path, exc: BaseException) -> WarehouseError:
    return WarehouseError(
        f"{path}: not a readable DuckDB warehouse — damaged or truncated? ({_first_line(exc)}). The "
        "raw XPT files are the source of everything in it: rebuild it from them with `nhanes-bone "
        "build --fresh --data-dir <folder of .xpt files>`, which replaces this file only when the "
        "new build has succeeded"
    )


def _explain(path: Path, exc: duckdb.Error) -> WarehouseError:
    text = _first_line(exc)
    low = text.lower()
    if "could not set lock" in low or "conflicting lock" in low:
        return WarehouseError(
            f"{path}: the warehouse is locked by another process that has it open for "
            f"writing; wait for it to finish and try again. ({text})"
        )
    if is_damage(exc):
        return damaged(path, exc)
    return WarehouseError(f"{path}: cannot open the DuckDB warehouse: {text}")


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


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def building_path(path: Path) -> Path:
    """The private copy a build writes. One name per warehouse, not per process: only the lock's
    holder builds, and dbt's partial parsing (≈ 2 s of its fixed cost) is kept only while the
    profile — the file's path in it — stays the same from one build to the next."""
    return path.with_name(path.name + ".building-copy")


def _holder(lock: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f"process {int(lock.read_text().strip())}"
    return "another process"


def _take(lock: Path) -> int | None:
    """The locked descriptor of ``lock``, or None while another live process holds it.

    A finishing holder removes the lock file after we opened it, so a lock won on a file no
    longer at that path is no lock: try again on the new file.
    """
    while True:
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextlib.contextmanager
def writer_lock(path: Path, wait: bool = False) -> Iterator[None]:
    """One writer at a time, for the length of a build (DuckDB's own lock does not cover a
    build, which writes into a copy and renames it).

    ``wait``: wait for the other build to finish instead of stopping with a clear message.
    """
    lock = lock_path(path)
    fd = _take(lock)
    while fd is None:
        if not wait:
            raise WarehouseError(
                f"{path}: another build ({_holder(lock)}) is writing to this warehouse; wait for it "
                "to finish, or run again with --wait to wait for it"
            )
        time.sleep(0.2)
        fd = _take(lock)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        fault_point("locked")
        yield
    finally:
        lock.unlink(missing_ok=True)  # while still holding it: see _take
        os.close(fd)


def remove_orphans(path: Path) -> list[Path]:
    """Delete the private copies (and write-ahead logs) that builds which died left beside
    ``path``. Call it holding the writer lock, before making this build's copy: the lock
    proves that no live build owns any of them."""
    import glob

    orphans = sorted(path.parent.glob(glob.escape(path.name) + ".building-*"))
    size = 0
    for p in orphans:
        with contextlib.suppress(FileNotFoundError):
            size += p.stat().st_size
            p.unlink()
    if orphans:
        log.warning(
            "removed %d file(s) that unfinished builds left beside %s: %s (%.1f MB)",
            len(orphans),
            path.name,
            ", ".join(p.name for p in orphans),
            size / 1e6,
        )
    return orphans


@contextlib.contextmanager
def atomic_rebuild(path: Path, *, fresh: bool = False, wait: bool = False) -> Iterator[Path]:
    """Yield a private copy of ``path`` to build into; swap it in only on success.

    ``fresh``: start from an empty file instead of a copy (to rebuild a damaged warehouse
    from the raw files).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with writer_lock(path, wait=wait):
        remove_orphans(path)
        with _building_copy(path, fresh) as work:
            yield work


@contextlib.contextmanager
def _building_copy(path: Path, fresh: bool) -> Iterator[Path]:
    work = building_path(path)
    wal = work.with_name(work.name + ".wal")
    try:
        if path.exists() and not fresh:
            live_wal = path.with_name(path.name + ".wal")
            if live_wal.exists():
                raise WarehouseError(
                    f"{path}: a write-ahead log ({live_wal.name}) is beside the warehouse, so another "
                    "process is writing to it or one crashed; open it once with duckdb to replay it"
                )
            _check_whole(path)
            shutil.copy2(path, work)
        fault_point("copied")
        yield work
        fault_point("built")
        _checkpoint(work)
        _sync(work)
        fault_point("checkpointed")
        os.replace(work, path)
        _sync(path.parent)
        fault_point("replaced")
    except BaseException as exc:
        work.unlink(missing_ok=True)
        wal.unlink(missing_ok=True)
        if isinstance(exc, Exception) and is_damage(exc) and not isinstance(exc, WarehouseError):
            raise damaged(path, exc) from exc
        if isinstance(exc, Exception) and _disk_full(exc):
            raise WarehouseError(
                f"{path}: the disk filled up during the build ({_first_line(exc)}); the previous "
                "warehouse is kept as it was and the partial copy removed. A build needs free space "
                "of about twice the warehouse's size beside it; free some and build again"
            ) from exc
        raise


def _check_whole(path: Path) -> None:
    """Refuse to build on a damaged warehouse (its catalog must read) before copying it."""
    con = connect_read_only(path)
    try:
        con.execute("select count(*) from duckdb_tables()").fetchone()
    except duckdb.Error as exc:
        raise damaged(path, exc) from exc
    finally:
        con.close()


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in FULL_DISK_ERRNOS:
        return True
    if isinstance(exc, duckdb.Error | NhanesBoneError | OSError):
        return any(text in str(exc).lower() for text in FULL_DISK_TEXTS)
    return False


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def _sync(path: Path) -> None:
    """Flush a file (or a folder's entry of a renamed file) to disk, so that a power cut
    after the swap finds either warehouse whole."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _checkpoint(path: Path) -> None:
    """Fold a leftover write-ahead log into the file, so that the file alone is complete."""
    if path.with_name(path.name + ".wal").exists():
        con = duckdb.connect(str(path))
        con.execute("checkpoint")
        con.close()
