"""The expected-counts profile: which independent facts the cohort is checked against.

Chosen by the data, never by the pipeline's output: ``raw._files.is_synthetic`` says
whether the warehouse holds real NHANES (→ the paper's published counts and Table 2
cut-points) or the synthetic twin (→ the generator's own ``TRUTH.json``, found beside
the synthetic files it describes). A warehouse mixing both is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from nhanes_bone.core.catalog import load_catalog
from nhanes_bone.core.errors import NhanesBoneError

HERE = Path(__file__).resolve().parent
REAL_PROFILE = HERE / "profiles" / "peng2025_real.json"


class ProfileError(NhanesBoneError):
    """The warehouse's data cannot be matched to one profile."""


@dataclass
class Profile:
    name: str
    source: str
    synthetic: bool
    cohort_n: int
    cohort_osteoporosis_n: int
    metal_quartiles: dict[str, list[float]]
    quartile_tolerance: float
    raw_rows: dict[str, int] = field(default_factory=dict)  # raw table -> expected rows
    flow: list[dict] = field(default_factory=list)  # every step (synthetic only)


def _files(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    try:
        return con.execute(
            "select table_name, is_synthetic, source from raw._files order by table_name"
        ).fetchall()
    except duckdb.CatalogException as exc:
        raise ProfileError("the warehouse has no raw._files table: run `nhanes-bone ingest` first") from exc


def choose_profile(con: duckdb.DuckDBPyConnection) -> Profile:
    files = _files(con)
    if not files:
        raise ProfileError("raw._files is empty: no NHANES file was ingested")
    synthetic = {t for t, s, _ in files if s}
    real = {t for t, s, _ in files if not s}
    if synthetic and real:
        raise ProfileError(
            "the warehouse mixes real and synthetic tables, so no expected counts apply: "
            f"synthetic {sorted(synthetic)[:5]}…, real {sorted(real)[:5]}…; rebuild it from one source"
        )
    if synthetic:
        folders = {Path(source).parent for _, _, source in files}
        truths = [f / "TRUTH.json" for f in folders if (f / "TRUTH.json").exists()]
        if len(truths) != 1:
            raise ProfileError(
                f"synthetic warehouse: expected one TRUTH.json beside its files, found {len(truths)} "
                f"in {sorted(map(str, folders))}"
            )
        return synthetic_profile(json.loads(truths[0].read_text()), truths[0])
    return real_profile()


def real_profile() -> Profile:
    paper = json.loads(REAL_PROFILE.read_text())
    rows = {e.raw_table: e.expected_rows for e in load_catalog().values() if e.expected_rows is not None}
    return Profile(
        name=paper["name"],
        source=paper["source"],
        synthetic=False,
        cohort_n=paper["cohort_n"],
        cohort_osteoporosis_n=paper["cohort_osteoporosis_n"],
        metal_quartiles=paper["metal_quartiles"],
        quartile_tolerance=paper["quartile_tolerance"],
        raw_rows=rows,
    )


def synthetic_profile(truth: dict, path: Path) -> Profile:
    expected = truth["study1_expected"]
    return Profile(
        name=f"SYNTHETIC twin (seed {truth['seed']}, scale {truth['scale']})",
        source=str(path),
        synthetic=True,
        cohort_n=expected["cohort_n"],
        cohort_osteoporosis_n=expected["cohort_osteoporosis_n"],
        metal_quartiles={
            m: [q["q1_upper"], q["q2_upper"], q["q3_upper"]] for m, q in expected["metal_quartiles"].items()
        },
        quartile_tolerance=1e-9,
        raw_rows={name.removesuffix(".XPT").lower(): n for name, n in truth["table_rows"].items()},
        flow=expected["inclusion_flow"],
    )
