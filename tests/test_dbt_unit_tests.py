"""The dbt unit tests guard the reference values: moving one by 0.001 must fail them."""

from __future__ import annotations

import shutil

import pytest

from nhanes_bone.core.dbt import DbtError, run_dbt
from nhanes_bone.core.settings import DBT_PROJECT_DIR


@pytest.fixture(scope="module")
def project(synthetic_warehouse, tmp_path_factory):
    """A copy of the dbt project whose unit tests pass as shipped (the control), and a copy of
    the twin's warehouse to run them on."""
    root = tmp_path_factory.mktemp("unit")
    copy = root / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, symlinks=True, ignore=shutil.ignore_patterns("target", "logs"))
    warehouse = root / "w.duckdb"
    warehouse.write_bytes(synthetic_warehouse.read_bytes())
    run_dbt(["test", "--select", "test_type:unit"], warehouse, project_dir=copy)  # as shipped: passes
    return copy, warehouse


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new"),
    [(",0.858,0.120,", ",0.859,0.120,"), (",1.047,0.110,", ",1.047,0.111,")],
    ids=["femoral-neck-mean", "spine-sd"],
)
def test_unit_tests_fail_when_a_reference_moves_by_one_unit(project, old, new):
    copy, warehouse = project
    seed = copy / "seeds" / "tscore_reference.csv"
    shipped = seed.read_text()
    assert old in shipped
    seed.write_text(shipped.replace(old, new))
    try:
        with pytest.raises(DbtError):
            run_dbt(["test", "--select", "test_type:unit"], warehouse, project_dir=copy)
    finally:
        seed.write_text(shipped)
