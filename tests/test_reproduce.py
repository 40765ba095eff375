"""The reproduction search: its grid, and its counts held to the dbt cohort built with the same vars."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import query

from analysis.studies.peng2025 import reproduce
from analysis.studies.peng2025 import tables as study1
from analysis.studies.peng2025.scorecard import paper_levels
from ingest.synth import truth


def test_the_grid_is_every_combination_once():
    definitions = list(reproduce.definitions())
    keys = {json.dumps(d, sort_keys=True) for d in definitions}
    assert len(keys) == len(definitions) == reproduce.grid_size()
    # spine choices collapse when the spine is not required: 8 × 4 × 2 × ... by hand
    inclusion = 4 * 2 * 5 * 3 * 2 * 2  # postmenopausal, PIR, hypertension, borderline, dont-know, fracture
    with_spine = inclusion * 2 * (4 * 2 * 2 * 2)  # spine source × (reference, rounding, marital, age groups)
    femur_only = inclusion * (1 * 2 * 2 * 2)
    assert len(definitions) == with_spine + femur_only == 34560


def test_every_definition_is_a_set_of_valid_dbt_vars():
    import yaml

    from nhanes_bone.core.settings import DBT_PROJECT_DIR

    defaults = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    for var, values in reproduce.GRID.items():
        assert var in defaults, var
        assert defaults[var] in values, f"the default of {var} is not searched"


@pytest.fixture(scope="module")
def real_search(real_warehouse):
    return reproduce.load_candidates(real_warehouse), reproduce.reproduction_tables(real_warehouse)


def _row(ranked: pd.DataFrame, definition: dict) -> pd.Series:
    match = np.ones(len(ranked), dtype=bool)
    for var, value in definition.items():
        if var not in reproduce.GRID:
            continue
        shown = json.dumps(value) if isinstance(value, list) else value
        match &= (ranked[var] == shown).to_numpy()
    assert match.sum() == 1, definition
    return ranked[match].iloc[0]


def test_search_counts_equal_the_dbt_cohort_under_the_same_vars(
    real_search, real_warehouse, literal_warehouse
):
    """Two rows of the grid against two real dbt builds: the project's defaults and the literal
    reading. n, OP and the cut-points must be the mart's."""
    _, tables = real_search
    ranked = tables["reproduction"]
    for warehouse in (real_warehouse, literal_warehouse):
        used = query(warehouse, "select var_name, var_value from marts.build_settings")
        definition = {r.var_name: json.loads(r.var_value) for r in used.itertuples()}
        row = _row(ranked, definition)
        cohort = query(
            warehouse, "select count(*) as n, sum(has_osteoporosis::int) as op from marts.metals_op_cohort"
        )
        assert row.n == cohort.n[0] and row.n_osteoporosis == cohort.op[0], warehouse.name
        cuts = query(warehouse, "select * from marts.metal_quartiles order by metal_order")
        paper = reproduce.PAPER["table2_cutpoints"]["values"]
        within = sum(
            abs(getattr(c, f"q{k}_upper") - paper[c.metal][k - 1]) <= 0.01 + 1e-9
            for c in cuts.itertuples()
            for k in (1, 2, 3)
        )
        assert row.cutpoints_within_tolerance == within


def test_table1_cells_equal_table1_fitted_from_the_mart(real_search, real_warehouse):
    """The search's Table 1 counts under the default definition equal study 1's Table 1, which is
    computed from marts.metals_op_cohort by other code."""
    _, tables = real_search
    cells = tables["reproduction_table1"]
    cohort = query(real_warehouse, "select * from marts.metals_op_cohort")
    t1 = study1.table1(cohort)
    t1 = t1.assign(paper_level=paper_levels(t1))
    for r in t1[t1.statistic == "n (%)"].itertuples():
        for group, value in (("non_op", r.non_op_value), ("op", r.op_value)):
            match = cells[
                (cells.variable == r.variable) & (cells.level == r.paper_level) & (cells.group == group)
            ]
            assert len(match) == 1, (r.variable, r.level)
            assert match.ours.iloc[0] == value, (r.variable, r.level, group)


def test_the_defaults_are_the_best_definition(real_search, real_warehouse):
    """The documented default for real data is the search's rank 1 (dbt_project.yml says so)."""
    _, tables = real_search
    best = reproduce.dbt_vars(tables["reproduction"].iloc[0])
    used = query(real_warehouse, "select var_name, var_value from marts.build_settings")
    in_force = {r.var_name: json.loads(r.var_value) for r in used.itertuples()}
    assert {k: in_force[k] for k in best} == best


def test_the_twin_declares_what_its_truth_assumes():
    """A definition truth.py cannot compute is refused, not silently approximated."""
    with pytest.raises(ValueError, match="does not implement"):
        truth.flow_masks(pd.DataFrame(), {**truth.DEFINITION, "hypertension_definition": "treated"})
