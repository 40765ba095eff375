"""The dbt unit tests guard the reference values: moving one by 0.001 must fail them."""

from __future__ import annotations

import shutil

import pytest

from nhanes_bone.core.dbt import DbtError, run_dbt
from nhanes_bone.core.settings import DBT_PROJECT_DIR


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new"),
    [(",0.858,0.120,", ",0.859,0.120,"), (",1.047,0.110,", ",1.047,0.111,")],
    ids=["femoral-neck-mean", "spine-sd"],
)
def test_unit_tests_fail_when_a_reference_moves_by_one_unit(synthetic_warehouse, tmp_path, old, new):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, symlinks=True, ignore=shutil.ignore_patterns("target", "logs"))
    seed = project / "seeds" / "tscore_reference.csv"
    assert old in seed.read_text()
    warehouse = tmp_path / "w.duckdb"
    warehouse.write_bytes(synthetic_warehouse.read_bytes())
    run_dbt(["test", "--select", "test_type:unit"], warehouse, project_dir=project)  # as shipped: passes
    seed.write_text(seed.read_text().replace(old, new))
    with pytest.raises(DbtError):
        run_dbt(["test", "--select", "test_type:unit"], warehouse, project_dir=project)
