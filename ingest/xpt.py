"""Read one SAS transport (XPT v5) file and check it is what its name promises.

pyreadstat reads a truncated XPT without complaint (it returns the rows it found), so
the byte layout is checked here: XPT v5 is a sequence of 80-byte records and the
observations are fixed-width rows padded with blanks to the record boundary.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat

from nhanes_bone.core.catalog import CatalogEntry
from nhanes_bone.core.errors import IngestError

RECORD = 80
LIBRARY_HEADER = b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"
OBS_HEADER = b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"


@dataclass
class XptFile:
    path: Path
    entry: CatalogEntry
    frame: pd.DataFrame
    labels: dict[str, str]
    types: dict[str, str]  # numeric | character
    sas_table_name: str
    sas_file_label: str | None
    sas_created_at: datetime | None
    sha256: str
    size: int


# XPT v5's header records (library, member, one 140-byte namestr per variable) come first: the
# observation header lies within the first 1.5 MB of any file (≤ 9,999 variables)
HEADER_LIMIT = 4 << 20


@dataclass
class _Scan:
    """What one streamed pass over a file's bytes tells: its digest, size and header."""

    sha256: str
    size: int
    head: bytes  # the file's first bytes, up to the observation header or HEADER_LIMIT
    obs_at: int  # where the observation header record starts, -1 if not in ``head``


def _scan(path: Path, chunk: int = 1 << 20) -> _Scan:
    """Hash the file in chunks, keeping only its header (a 425 MB file read whole into one bytes
    object cost more in page faults than its hashing)."""
    digest, head, size, obs_at = hashlib.sha256(), bytearray(), 0, -1
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
            size += len(block)
            if obs_at < 0 and len(head) < HEADER_LIMIT:
                head += block
                obs_at = head.find(OBS_HEADER)
    return _Scan(digest.hexdigest(), size, bytes(head[: max(obs_at, 0) + RECORD]), obs_at)


def sha256_of(path: Path) -> str:
    return _scan(path).sha256


def _layout_problem(path: Path, scan: _Scan, row_length: int) -> str | None:
    """What is wrong with the file's byte layout (None: nothing), read from ``scan`` and the
    file's last incomplete row, if it has one."""
    if scan.size % RECORD:
        return (
            f"truncated XPT file: its size ({scan.size} bytes) is not a whole number of {RECORD}-byte records"
        )
    if scan.obs_at < 0:
        return "truncated XPT file: no observation header record"
    data_length = scan.size - (scan.obs_at + RECORD)
    if row_length and data_length % row_length:
        with path.open("rb") as fh:
            fh.seek(scan.size - data_length % row_length)
            tail = fh.read()
        if tail.strip(b" "):
            return (
                f"truncated XPT file: the last observation is incomplete ({len(tail)} of {row_length} bytes)"
            )
    return None


def _changed(was: str, now: str) -> str:
    return (
        f"the file changed while it was being ingested (sha256 {was[:12]}… when the build chose it, "
        f"{now[:12]}… now); nothing was loaded from it. Build again once the file is complete"
    )


# the SAS formats of plain numbers and text (F8.2, BEST12., 15.6, $20.): no date, time or datetime
_PLAIN_FORMAT = re.compile(r"(\$|F|BEST)?\d*\.?\d*", re.IGNORECASE)


# pyreadstat reads a path with one read() system call per observation (985,303 calls for a
# 984,039-row, 425 MB file). Given a buffered file object, it reads through Python's buffer
# instead: the same rows and metadata (checked on every genuine file), 3.8 s instead of 5.7-7.0 s
# for three such files, and 1.3-1.4 s instead of 1.6-1.75 s for the 40 genuine ones.
READ_BUFFER = 1 << 20


def _read_frame(path: Path) -> tuple[pd.DataFrame, Any]:
    """The file's rows and metadata, read through a buffer (``READ_BUFFER``). pyreadstat's date
    conversion halves its speed even where no column has a date format (4.5 vs 2.1 s for a 425 MB
    file), and NHANES files publish numbers and text only, so the file is read without it — and
    again with it, as before, should a column carry any other format (a SAS date, time or
    datetime is then converted as always)."""
    with path.open("rb", buffering=READ_BUFFER) as fh:
        frame, meta = pyreadstat.read_xport(fh, disable_datetime_conversion=True)
    formats = (meta.original_variable_types or {}).values()
    if all(_PLAIN_FORMAT.fullmatch(f or "") for f in formats):
        return frame, meta
    with path.open("rb", buffering=READ_BUFFER) as fh:
        return pyreadstat.read_xport(fh)


def read_xpt(path: Path, entry: CatalogEntry, sha256: str | None = None) -> XptFile:
    """Read and validate ``path`` as the catalogued table ``entry``.

    ``sha256``: the digest the caller found when it chose the file. The bytes read must still
    have it — a file replaced between discovery and load (a download finishing, a sync tool) is
    refused rather than loaded under the other file's provenance.
    """
    before = path.stat()
    scan = _scan(path)
    digest = scan.sha256
    if sha256 is not None and digest != sha256:
        raise IngestError(path, _changed(sha256, digest))
    if not scan.head.startswith(LIBRARY_HEADER):
        raise IngestError(path, "not a SAS transport (XPT v5) file: the library header record is missing")
    try:
        frame, meta = _read_frame(path)
    except Exception as exc:  # pyreadstat raises its own ReadstatError, and others on garbage
        raise IngestError(path, f"not a readable SAS transport (XPT) file ({exc})") from exc
    widths = getattr(meta, "variable_storage_width", {}) or {}
    layout = _layout_problem(path, scan, sum(int(widths.get(c, 8)) for c in meta.column_names))
    after = path.stat()  # (after every read of the file, the layout's last row included)
    if (after.st_ino, after.st_size, after.st_mtime_ns) != (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    ):
        raise IngestError(
            path,
            "the file changed while it was being read (its size, time or inode differ before and "
            "after); nothing was loaded from it. Build again once the file is complete",
        )
    if layout:
        raise IngestError(path, layout)

    if (meta.table_name or "").upper() != entry.table.upper():
        raise IngestError(
            path,
            f"the XPT table inside is named {meta.table_name!r}, but the file name says "
            f"{entry.table!r}; rename the file or check its origin",
        )
    missing = [c for c in entry.required_columns if c not in frame.columns]
    if missing:
        raise IngestError(
            path,
            f"required column(s) {', '.join(missing)} missing from {entry.table} "
            f"(expected at least: {', '.join(entry.required_columns)})",
        )
    if "SEQN" in frame.columns:
        dup = frame["SEQN"][frame["SEQN"].duplicated()] if entry.seqn_is_key else frame["SEQN"].iloc[:0]
        if len(dup):
            shown = ", ".join(str(int(v)) for v in dup.unique()[:5])
            raise IngestError(
                path,
                f"duplicate SEQN in {entry.table}: {len(dup)} repeated value(s), e.g. {shown}; "
                "NHANES files have one row per participant",
            )
        if frame["SEQN"].isna().any():
            raise IngestError(path, f"missing SEQN in {entry.table}: every row needs a participant id")

    types = {
        name: ("character" if meta.readstat_variable_types.get(name) == "string" else "numeric")
        for name in meta.column_names
    }
    return XptFile(
        path=path,
        entry=entry,
        frame=frame,
        labels=dict(zip(meta.column_names, meta.column_labels, strict=True)),
        types=types,
        sas_table_name=meta.table_name,
        sas_file_label=meta.file_label,
        sas_created_at=meta.creation_time,
        sha256=digest,
        size=scan.size,
    )
