"""`nhanes-bone reproduce`: which cohort definition comes closest to Peng et al.'s?

The paper leaves a dozen choices open (STUDY.md); each is a dbt var. Rebuilding the
warehouse once per combination would take hours, so the search reads one wide table,
``marts.metals_op_candidates`` (every woman aged 50+ with each choice's candidate values
side by side, computed by the same dbt macros as the cohort), once, and scores the whole
declared grid in memory. A definition is scored against the paper's independent facts:

- ``n`` and ``n_osteoporosis`` against 905 / 161;
- Table 1's 58 categorical counts (29 levels × non-OP/OP): ``table1_distance`` is the sum of
  the absolute differences, the ranking's key (it contains the cohort size and OP count:
  every variable's levels add up to them);
- Table 2's 15 quartile cut-points: how many lie within ±0.01 of the paper's, and the largest
  relative difference.

Every row of the grid is a set of dbt vars: ``nhanes-bone build --var …`` with a row's
values builds exactly that cohort (a test holds the two to each other).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nhanes_bone.core import vocabulary
from nhanes_bone.core.errors import InputError
from nhanes_bone.core.settings import PAPERS_DIR
from nhanes_bone.core.warehouse import connect_read_only

PAPER = json.loads((PAPERS_DIR / "peng2025.json").read_text())

ALL_SITES = ("total_femur", "femoral_neck", "lumbar_spine")
FEMUR_SITES = ("total_femur", "femoral_neck")
METAL_COLUMNS = vocabulary.METAL_COLUMNS
CUTPOINT_TOLERANCE = 0.01

# The declared grid: each dbt var and the values searched. "no_periods_or_menopause" is left
# out: RHD043 is asked only when RHQ031 = 2, so it selects the same women as no_periods_12m.
# The spine choices only matter when the spine is a required site.
GRID: dict[str, list] = {
    "postmenopausal_rule": [
        "age_50_plus",
        "no_periods_12m",
        "menopause_reported",
        "menopause_or_hysterectomy",
    ],
    "require_income_poverty_ratio": [False, True],
    "required_bmd_sites": [list(ALL_SITES), list(FEMUR_SITES)],
    "spine_bmd_source": ["total", "mean_l1_l4"],
    "hypertension_definition": ["told", "told_twice", "treated", "measured", "told_or_measured"],
    "borderline_diabetes_as": ["no", "yes", "missing"],
    "dont_know_as": ["missing", "no"],
    "fracture_definition": ["hip_wrist_spine", "any_fracture"],
    # the classification choices: they move OP and Table 1, not who is included
    "spine_reference": ["spine_1047_0110", "spine_1064_0106", "spine_1065_0122", "spine_1068_0118"],
    "tscore_rounding": ["exact", "one_decimal"],
    "marital_mapping": ["harmonised", "dmdmartl_codes"],
    "age_group_breaks": [[60, 70], [61, 71]],
}
INCLUSION_VARS = [
    "postmenopausal_rule",
    "require_income_poverty_ratio",
    "required_bmd_sites",
    "spine_bmd_source",
    "hypertension_definition",
    "borderline_diabetes_as",
    "dont_know_as",
    "fracture_definition",
]
CLASSIFICATION_VARS = ["spine_reference", "tscore_rounding", "marital_mapping", "age_group_breaks"]
# the paper's Table 1 variables, and the candidates-mart column each is read from
TABLE1_COLUMNS = {
    "Age group (years)": "age_group",
    "BMI group (kg/m²)": "bmi_group",
    "Race": "race_ethnicity",
    "Education": "education",
    "Marital status": "marital_status",
    "History of smoking": "ever_smoked",
    "History of hypertension": "hypertension",
    "History of diabetes": "diabetes",
    "History of osteoporosis in parents": "parental_osteoporosis",
    "History of previous fractures": "previous_fracture",
}


class ReproduceError(InputError):
    """The warehouse cannot be searched (no candidates mart, or an empty one)."""


def load_candidates(warehouse: Path) -> pd.DataFrame:
    con = connect_read_only(warehouse)
    try:
        return con.execute("select * from marts.metals_op_candidates order by participant_id").df()
    except Exception as exc:  # duckdb.CatalogException: an older warehouse
        raise ReproduceError(
            f"{warehouse}: no marts.metals_op_candidates ({str(exc).splitlines()[0]}); rebuild it with "
            "`nhanes-bone build`"
        ) from exc
    finally:
        con.close()


def grid_size(grid: dict[str, list] = GRID) -> int:
    return len(list(definitions(grid)))


def definitions(grid: dict[str, list] = GRID):
    """Every definition of the grid once (spine choices collapse when the spine is not required)."""
    inclusion = [v for v in INCLUSION_VARS if v in grid]
    for values in itertools.product(*(grid[v] for v in inclusion)):
        outer = dict(zip(inclusion, values, strict=True))
        uses_spine = "lumbar_spine" in outer["required_bmd_sites"]
        if not uses_spine and outer["spine_bmd_source"] != grid["spine_bmd_source"][0]:
            continue
        refs = grid["spine_reference"] if uses_spine else grid["spine_reference"][:1]
        for inner in itertools.product(
            refs, grid["tscore_rounding"], grid["marital_mapping"], grid["age_group_breaks"]
        ):
            yield outer | dict(zip(CLASSIFICATION_VARS, inner, strict=True))


@dataclass
class _Paper:
    cells: list[tuple[str, str, str, int]]  # (variable, level, group, count)
    cuts: dict[str, list[float]]


def _paper() -> _Paper:
    cells = []
    for variable, levels in PAPER["table1"]["categorical"].items():
        for level, (non_op, op, _p) in levels.items():
            cells += [(variable, level, "non_op", int(non_op)), (variable, level, "op", int(op))]
    return _Paper(cells, PAPER["table2_cutpoints"]["values"])


def _as_levels(series: pd.Series) -> pd.Series:
    """Booleans as the paper's No/Yes, everything else as text."""
    if series.dtype == bool or str(series.dtype) == "boolean":
        return series.map({True: "Yes", False: "No"})
    return series.astype("string")


def _indicators(values: pd.Series, levels: list[str]) -> np.ndarray:
    """One column per level (in the paper's order), 1 where the row has it."""
    text = _as_levels(values)
    return np.column_stack([(text == level).fillna(False).to_numpy(dtype=float) for level in levels])


def _age_levels(breaks: list[int]) -> list[str]:
    return [f"50-{breaks[0]}", f"{breaks[0]}-{breaks[1]}", f">={breaks[1]}"]


def _lowest_tscore(frame: pd.DataFrame, sites, source: str, reference: str, rounding: str) -> np.ndarray:
    columns = []
    for site in sites:
        if site == "lumbar_spine":
            columns.append(f"tscore__lumbar_spine__{source}__{reference}__{rounding}")
        else:
            columns.append(f"tscore__{site}__{rounding}")
    # fmin skips NaN like least() in SQL (NaN only where no site was measured), without warnings
    return np.fmin.reduce(frame[columns].to_numpy(dtype=float), axis=1)


def search(
    candidates: pd.DataFrame,
    grid: dict[str, list] = GRID,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Score every definition of ``grid``; one row per definition, best (rank 1) first.

    Who is included depends only on the inclusion vars, so the cohort mask, its cut-points and
    its Table 1 indicators are computed once per inclusion definition; the classification vars
    (spine reference, rounding, marital mapping, age groups) only re-count.
    """
    if candidates.empty:
        raise ReproduceError("marts.metals_op_candidates is empty: no woman aged 50+ in the warehouse")
    paper = _paper()
    variables = list(dict.fromkeys(v for v, _l, _g, _n in paper.cells))
    levels = {v: list(dict.fromkeys(lv for var, lv, _g, _n in paper.cells if var == v)) for v in variables}
    counts = {(v, lv, g): n for v, lv, g, n in paper.cells}
    paper_non = np.array([counts[(v, lv, "non_op")] for v in variables for lv in levels[v]], dtype=float)
    paper_op = np.array([counts[(v, lv, "op")] for v in variables for lv in levels[v]], dtype=float)
    paper_cuts = np.array([paper.cuts[m] for m in METAL_COLUMNS])
    frame = Candidates(candidates)
    metals = candidates[list(METAL_COLUMNS.values())].to_numpy(dtype=float)
    blocks: dict[str, np.ndarray] = {}  # candidate column -> one indicator column per level

    def block(variable: str, column: str) -> np.ndarray:
        if column not in blocks:
            order = _age_levels(_breaks_of(column)) if variable == "Age group (years)" else levels[variable]
            blocks[column] = _indicators(candidates[column], order)
        return blocks[column]

    lowest: dict[tuple, np.ndarray] = {}

    def op_of(definition: dict) -> np.ndarray:
        key = (
            tuple(definition["required_bmd_sites"]),
            definition["spine_bmd_source"],
            definition["spine_reference"],
            definition["tscore_rounding"],
        )
        if key not in lowest:
            lowest[key] = osteoporosis(candidates, definition)
        return lowest[key]

    rows = []
    outers = [d for d in definitions(grid) if _is_first_inner(d, grid)]
    varying = {"Marital status": "marital_mapping", "Age group (years)": "age_group_breaks"}
    for i, outer in enumerate(outers):
        if progress:
            progress(i, len(outers))
        mask = frame.included(outer)
        n = int(mask.sum())
        cuts = np.quantile(metals[mask], [0.25, 0.5, 0.75], axis=0).T if n else np.full((5, 3), np.nan)
        within = int((np.abs(cuts - paper_cuts) <= CUTPOINT_TOLERANCE + 1e-9).sum())
        max_rel = float(np.nanmax(np.abs(cuts - paper_cuts) / paper_cuts)) if n else np.nan
        uses_spine = "lumbar_spine" in outer["required_bmd_sites"]
        shown = {k: _show(v) for k, v in outer.items()}
        # the OP flags under each (spine reference, rounding), as columns
        classes = list(
            itertools.product(
                grid["spine_reference"] if uses_spine else grid["spine_reference"][:1],
                grid["tscore_rounding"],
            )
        )
        ops = np.column_stack(
            [
                op_of(outer | {"spine_reference": ref, "tscore_rounding": rounding})[mask]
                for ref, rounding in classes
            ]
        ).astype(float)
        # per Table 1 variable: counts with OP (one row per class) and in all, for each value of
        # the var that changes it (one value for most)
        pieces: dict[str, dict] = {}
        for variable in variables:
            values = grid[varying[variable]] if variable in varying else [None]
            pieces[variable] = {}
            for value in values:
                definition = outer if value is None else outer | {varying[variable]: value}
                ind = block(variable, _table1_column(variable, definition))[mask]
                pieces[variable][_show(value)] = (ops.T @ ind, ind.sum(axis=0))
        for mapping, breaks in itertools.product(grid["marital_mapping"], grid["age_group_breaks"]):
            chosen = {"Marital status": _show(mapping), "Age group (years)": _show(breaks)}
            parts = [pieces[v][chosen.get(v)] for v in variables]
            with_op = np.hstack([p[0] for p in parts])  # classes × cells
            in_all = np.concatenate([p[1] for p in parts])
            diff = np.hstack([in_all - with_op - paper_non, with_op - paper_op])
            distance, equal = np.abs(diff).sum(axis=1), (diff == 0).sum(axis=1)
            for k, (ref, rounding) in enumerate(classes):
                n_op = int(ops[:, k].sum())
                rows.append(
                    {
                        **shown,
                        "spine_reference": ref if uses_spine else "",
                        "tscore_rounding": rounding,
                        "marital_mapping": mapping,
                        "age_group_breaks": _show(breaks),
                        "n": n,
                        "n_osteoporosis": n_op,
                        "delta_n": n - PAPER["cohort"]["n"],
                        "delta_osteoporosis": n_op - PAPER["cohort"]["osteoporosis"],
                        "table1_distance": float(distance[k]),
                        "table1_cells_equal": int(equal[k]),
                        "table1_cells": diff.shape[1],
                        "cutpoints_within_tolerance": within,
                        "cutpoint_max_relative_difference": max_rel,
                    }
                )
    if progress:
        progress(len(outers), len(outers))
    table = pd.DataFrame(rows)
    table["size_distance"] = table.delta_n.abs() + table.delta_osteoporosis.abs()
    table = table.sort_values(
        ["table1_distance", "size_distance", "cutpoint_max_relative_difference"], kind="stable"
    ).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def _breaks_of(column: str) -> list[int]:
    return [int(b) for b in column.removeprefix("age_group__").split("_")]


class Candidates:
    """The candidates mart with each column's "known" mask computed once (the search asks for
    the same few hundred times)."""

    def __init__(self, frame: pd.DataFrame):
        self.frame = frame
        self._known: dict[str, np.ndarray] = {}

    def known(self, column: str) -> np.ndarray:
        if column not in self._known:
            self._known[column] = self.frame[column].notna().to_numpy()
        return self._known[column]

    def flag(self, column: str) -> np.ndarray:
        if column not in self._known:
            self._known[column] = self.frame[column].fillna(False).to_numpy(dtype=bool)
        return self._known[column]

    def included(self, definition: dict) -> np.ndarray:
        mask = self.flag("has_all_metals") & self.flag(f"postmenopausal__{definition['postmenopausal_rule']}")
        for column in _required_columns(definition):
            mask = mask & self.known(column)
        return mask


def _required_columns(definition: dict) -> list[str]:
    """The columns that must be known: the required BMD sites and every covariate."""
    source = definition.get("spine_bmd_source", "total")
    site_columns = {
        "total_femur": "total_femur_bmd_g_cm2",
        "femoral_neck": "femoral_neck_bmd_g_cm2",
        "lumbar_spine": f"lumbar_spine_{source}_bmd_g_cm2",
    }
    covariates = ["bmi_kg_m2", "education", "ever_smoked", "race_ethnicity"] + [
        _table1_column(v, definition) for v in TABLE1_COLUMNS if v != "Age group (years)"
    ]
    if definition["require_income_poverty_ratio"]:
        covariates.append("income_poverty_ratio")
    return [site_columns[s] for s in definition["required_bmd_sites"]] + list(dict.fromkeys(covariates))


def _is_first_inner(definition: dict, grid: dict) -> bool:
    return all(definition[v] == grid[v][0] for v in CLASSIFICATION_VARS)


def _show(value) -> str | bool:
    return json.dumps(value) if isinstance(value, list) else value


def dbt_vars(row: pd.Series | dict) -> dict:
    """A row of the search as the dbt vars that build its cohort."""
    out = {}
    for var in GRID:
        value = row[var]
        if var == "spine_reference" and not value:
            continue
        out[var] = json.loads(value) if isinstance(value, str) and value.startswith("[") else value
    if isinstance(out.get("require_income_poverty_ratio"), np.bool_):
        out["require_income_poverty_ratio"] = bool(out["require_income_poverty_ratio"])
    return out


def table1_cells(candidates: pd.DataFrame, definition: dict) -> pd.DataFrame:
    """The paper's Table 1 counts beside ours under one definition, cell by cell, worst first:
    what the report shows for the best definition."""
    paper = _paper()
    mask, op = included(candidates, definition), osteoporosis(candidates, definition)
    sub = candidates[mask]
    rows = []
    for variable, level, group, expected in paper.cells:
        column = _table1_column(variable, definition)
        text = _as_levels(sub[column])
        if variable == "Age group (years)":
            order = _age_levels(definition["age_group_breaks"])
            level_ours = order[list(PAPER["table1"]["categorical"][variable]).index(level)]
        else:
            level_ours = level
        in_group = op[mask] if group == "op" else ~op[mask]
        ours = int(((text == level_ours).fillna(False).to_numpy() & in_group).sum())
        rows.append({"variable": variable, "level": level, "group": group, "paper": expected, "ours": ours})
    out = pd.DataFrame(rows)
    out["difference"] = out.ours - out.paper
    return out.sort_values("difference", key=lambda d: -d.abs(), kind="stable").reset_index(drop=True)


def _table1_column(variable: str, definition: dict) -> str:
    base = TABLE1_COLUMNS[variable]
    return {
        "age_group": f"age_group__{'_'.join(map(str, definition['age_group_breaks']))}",
        "marital_status": f"marital_status__{definition['marital_mapping']}",
        "hypertension": f"hypertension__{definition['hypertension_definition']}",
        "diabetes": f"diabetes__{definition['borderline_diabetes_as']}",
        "parental_osteoporosis": f"parental_osteoporosis__{definition['dont_know_as']}",
        "previous_fracture": f"previous_fracture__{definition['fracture_definition']}__{definition['dont_know_as']}",
    }.get(base, base)


def included(candidates: pd.DataFrame, definition: dict) -> np.ndarray:
    """Who is in the cohort under one definition: the cohort mart's steps (women 50+,
    postmenopausal, all five metals, the required BMD sites, complete covariates) read from
    the candidate columns the definition picks."""
    return Candidates(candidates).included(definition)


def osteoporosis(candidates: pd.DataFrame, definition: dict) -> np.ndarray:
    """Lowest T-score over the required sites ≤ −2.5 under one definition."""
    return (
        _lowest_tscore(
            candidates,
            tuple(definition["required_bmd_sites"]),
            definition.get("spine_bmd_source", "total"),
            definition.get("spine_reference", ""),
            definition["tscore_rounding"],
        )
        <= -2.5
    )


def reproduction_tables(
    warehouse: Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, pd.DataFrame]:
    """``reproduction`` (every definition, ranked) and ``reproduction_table1`` (the paper's Table 1
    beside the best definition's, cell by cell, worst first)."""
    candidates = load_candidates(warehouse)
    table = search(candidates, progress=progress)
    cells = table1_cells(candidates, dbt_vars(table.iloc[0]))
    return {"reproduction": table, "reproduction_table1": cells}
