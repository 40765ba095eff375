"""Find catalogued NHANES files under a data folder, and tell which are synthetic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nhanes_bone.core.catalog import CatalogEntry, entry_for_file
from nhanes_bone.core.errors import IngestError

# The synthetic twin writes this file beside its XPT files; ingest reads it so that
# synthetic data can never pass for real NHANES in the warehouse.
SYNTHETIC_MARKER = "SYNTHETIC.json"
SYNTHETIC_LABEL_PREFIX = "SYNTHETIC"


@dataclass(frozen=True)
class Found:
    entry: CatalogEntry
    path: Path


def find_files(data_dir: Path) -> tuple[dict[str, Found], list[Path]]:
    """Catalogued XPT files under ``data_dir`` (any depth, any case), and the other XPTs.

    Two files for the same table would make the load order decide which wins, so
    that is an error naming both.
    """
    if not data_dir.is_dir():
        raise IngestError(
            data_dir,
            "data folder not found. Put NHANES .xpt files there (any subfolder), run "
            "`nhanes-bone fetch` when online, or `nhanes-bone synth --out DIR` for the "
            "synthetic twin, and point NHANES_DATA_DIR at it",
        )
    found: dict[str, Found] = {}
    unknown: list[Path] = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and p.suffix.lower() == ".xpt"):
        entry = entry_for_file(path)
        if entry is None:
            unknown.append(path)
            continue
        if entry.table in found:
            raise IngestError(
                path,
                f"a second file for table {entry.table} (the first is {found[entry.table].path}); keep one",
            )
        found[entry.table] = Found(entry, path)
    return found, unknown


def synthetic_marker(path: Path) -> dict | None:
    """The synthetic-twin sidecar that covers ``path``, if there is one."""
    marker = path.parent / SYNTHETIC_MARKER
    if not marker.exists():
        return None
    try:
        content = json.loads(marker.read_text())
    except json.JSONDecodeError as exc:
        raise IngestError(marker, f"unreadable synthetic marker ({exc})") from exc
    names = {n.upper() for n in content.get("files", {})}
    return content if not names or path.name.upper() in names else None
