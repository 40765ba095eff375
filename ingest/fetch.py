"""Download missing catalogued files from CDC: cached, retried, checked, atomic.

A file already in the data folder is the cache: it is never downloaded again. A
download goes to ``<name>.part`` and is renamed only when complete and, where the
catalog knows them, its size and sha256 match — so an interrupted or corrupted
download never looks like a finished file to ``ingest``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.discover import find_files
from nhanes_bone.core.catalog import CatalogEntry, load_catalog
from nhanes_bone.core.errors import FetchError

USER_AGENT = "nhanes-bone (https://pypi.org/project/nhanes-bone)"


class OfflineError(FetchError):
    """CDC cannot be reached at all."""


@dataclass
class FetchResult:
    table: str
    status: str  # cached | downloaded | failed
    path: Path | None = None
    detail: str = ""


def wanted_entries(which: str) -> list[CatalogEntry]:
    """``study`` (both studies' tables), ``all`` (every catalogued one) or a list of names."""
    catalog = load_catalog()
    if which == "study":
        return [e for e in catalog.values() if e.is_study_table]
    if which == "all":
        return list(catalog.values())
    names = [n.strip().upper() for n in which.split(",") if n.strip()]
    unknown = [n for n in names if n not in catalog]
    if unknown:
        raise FetchError(f"not in the catalog: {', '.join(unknown)} (see ingest/catalog.csv)")
    return [catalog[n] for n in names]


def _download_once(url: str, part: Path, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, part.open("wb") as out:
        expected = response.headers.get("Content-Length")
        written = 0
        while block := response.read(1 << 16):
            out.write(block)
            written += len(block)
    if expected is not None and written != int(expected):
        raise FetchError(f"{url}: truncated body ({written} of {expected} bytes)")


def _check(entry: CatalogEntry, part: Path) -> None:
    size = part.stat().st_size
    if entry.expected_size is not None and size != entry.expected_size:
        raise FetchError(f"{entry.table}: downloaded {size} bytes, the catalog expects {entry.expected_size}")
    if entry.sha256 is not None:
        digest = hashlib.sha256(part.read_bytes()).hexdigest()
        if digest != entry.sha256:
            raise FetchError(
                f"{entry.table}: sha256 {digest[:12]}… does not match the catalog's "
                f"{entry.sha256[:12]}… (CDC may have revised the file; the download was discarded)"
            )


def fetch_one(
    entry: CatalogEntry,
    dest_dir: Path,
    *,
    base_url: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
) -> Path:
    """Download one file into ``dest_dir`` atomically; raise FetchError/OfflineError."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / f"{entry.table}.xpt"
    part = final.with_name(final.name + ".part")
    url = entry.url_at(base_url)
    last: Exception | None = None
    for attempt in range(retries):
        try:
            _download_once(url, part, timeout)
            _check(entry, part)
            os.replace(part, final)
            return final
        except urllib.error.HTTPError as exc:
            part.unlink(missing_ok=True)
            if 400 <= exc.code < 500:  # a missing file will not appear on retry
                raise FetchError(f"{entry.table}: {url} answered HTTP {exc.code} {exc.reason}") from exc
            last = exc
        except urllib.error.URLError as exc:
            part.unlink(missing_ok=True)
            if isinstance(exc.reason, OSError) and not isinstance(exc.reason, TimeoutError):
                raise OfflineError(f"cannot reach {url}: {exc.reason}") from exc
            last = exc
        except (FetchError, OSError, http.client.HTTPException) as exc:
            part.unlink(missing_ok=True)
            last = exc
        if attempt + 1 < retries:
            time.sleep(backoff * 2**attempt)
    raise FetchError(f"{entry.table}: gave up after {retries} attempts: {last}")


def fetch(
    entries: Iterable[CatalogEntry],
    dest_dir: Path,
    *,
    base_url: str | None = None,
    retries: int = 3,
    timeout: float = 60.0,
    backoff: float = 1.0,
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch every entry not already present anywhere under ``dest_dir``."""
    present = find_files(dest_dir)[0] if dest_dir.is_dir() else {}
    results = []
    for entry in entries:
        if entry.table in present:
            result = FetchResult(entry.table, "cached", present[entry.table].path)
        else:
            try:
                path = fetch_one(
                    entry, dest_dir, base_url=base_url, retries=retries, timeout=timeout, backoff=backoff
                )
                result = FetchResult(entry.table, "downloaded", path)
            except OfflineError:
                raise
            except FetchError as exc:
                result = FetchResult(entry.table, "failed", detail=str(exc))
        results.append(result)
        if on_result:
            on_result(result)
    return results


def offline_message(missing: list[str], dest_dir: Path, reason: str) -> str:
    return (
        f"Cannot download from CDC ({reason}).\n"
        f"Missing {len(missing)} file(s): {', '.join(missing)}.\n"
        "Two ways on:\n"
        f"  1. put the NHANES .xpt files into {dest_dir} (any subfolder; file names as CDC "
        "publishes them, any case) and run `nhanes-bone ingest`;\n"
        "  2. use the synthetic twin: `make demo` (or `nhanes-bone synth --out data/synthetic`)."
    )
