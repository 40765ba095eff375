"""Shared fixtures: the genuine NHANES files beside the project, the synthetic twin, and
warehouses built from each with the real pipeline (ingest → dbt build)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from nhanes_bone.core.settings import PROJECT_ROOT, quiet_third_parties

quiet_third_parties()

SHARED_NHANES = Path(os.environ.get("NHANES_SHARED_DIR", PROJECT_ROOT.parent / "shared" / "nhanes"))
SYNTH_SEED = 7


@pytest.fixture(scope="session")
def shared_nhanes() -> Path:
    if not (SHARED_NHANES / "MANIFEST.json").exists():
        pytest.skip(f"genuine NHANES files not found at {SHARED_NHANES} (set NHANES_SHARED_DIR)")
    return SHARED_NHANES


@pytest.fixture(scope="session")
def manifest(shared_nhanes: Path) -> dict:
    return json.loads((shared_nhanes / "MANIFEST.json").read_text())


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    from ingest.synth import synthesize

    out = tmp_path_factory.mktemp("synthetic")
    synthesize(out, seed=SYNTH_SEED, scale=1.0)
    return out


@pytest.fixture(scope="session")
def truth(synthetic_dir: Path) -> dict:
    return json.loads((synthetic_dir / "TRUTH.json").read_text())


def build_warehouse(data_dir: Path, warehouse: Path, dbt_vars: dict | None = None) -> Path:
    """The pipeline of `make warehouse`, in-process: ingest then dbt build, swapped in atomically."""
    from ingest.build import build_warehouse as build

    build(data_dir, warehouse, dbt_vars, dbt_args=("build", "--quiet"))
    return warehouse


@pytest.fixture(scope="session")
def synthetic_warehouse(synthetic_dir: Path, tmp_path_factory) -> Path:
    return build_warehouse(synthetic_dir, tmp_path_factory.mktemp("wh_synth") / "synthetic.duckdb")


@pytest.fixture(scope="session")
def real_warehouse(shared_nhanes: Path, tmp_path_factory) -> Path:
    return build_warehouse(shared_nhanes, tmp_path_factory.mktemp("wh_real") / "real.duckdb")


@pytest.fixture(scope="session")
def literal_warehouse(shared_nhanes, tmp_path_factory) -> Path:
    """The genuine files under the paper's literal reading (the twin's definition: age 50+,
    BPQ020, spine 1.047/0.110, exact T-scores) instead of the project's defaults."""
    from ingest.synth import truth

    return build_warehouse(
        shared_nhanes, tmp_path_factory.mktemp("wh_literal") / "literal.duckdb", truth.DEFINITION
    )


@pytest.fixture(scope="session")
def analysed(synthetic_warehouse, tmp_path_factory):
    """`nhanes-bone analyze` on a copy of the synthetic warehouse: (AnalysisRun, warehouse)."""
    from analysis.pipeline import analyze

    warehouse = tmp_path_factory.mktemp("analysis") / "demo.duckdb"
    warehouse.write_bytes(synthetic_warehouse.read_bytes())
    # short BKMR and WQS runs: enough to exercise Figures 2 and 3 end to end, not to converge
    # (gWQS's b = 100 is the default of `nhanes-bone analyze`)
    run = analyze(
        warehouse,
        tmp_path_factory.mktemp("reports"),
        bkmr_iterations=120,
        wqs_bootstraps=30,
        imputations=5,
        wqs_holdout_repeats=3,
        wqs_holdout_bootstraps=5,
    )
    return run, warehouse
