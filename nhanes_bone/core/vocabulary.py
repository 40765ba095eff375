"""The studies' shared words, read from where they are defined once.

The five metals (their staged columns, labels and units), the two cycles (the dbt seed
``seeds/cycles.csv``) and the OPEN choices with their defaults (``dbt_project.yml``'s vars).
Python reads them from here; SQL reads the same files through dbt.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from nhanes_bone.core.settings import DBT_PROJECT_DIR


@dataclass(frozen=True)
class Metal:
    name: str  # lead, cadmium, ...
    column: str  # the staged and mart column, e.g. blood_cadmium_ug_l
    label: str  # as Peng et al.'s Table 1 prints it
    unit: str
    nhanes_variable: str  # LBXBCD


METALS: dict[str, Metal] = {
    m.name: m
    for m in (
        Metal("lead", "blood_lead_ug_dl", "Blood lead (µg/dL)", "µg/dL", "LBXBPB"),
        Metal("cadmium", "blood_cadmium_ug_l", "Blood cadmium (µg/L)", "µg/L", "LBXBCD"),
        Metal("mercury", "blood_mercury_ug_l", "Blood mercury (µg/L)", "µg/L", "LBXTHG"),
        Metal("selenium", "blood_selenium_ug_l", "Blood selenium (µg/L)", "µg/L", "LBXBSE"),
        Metal("manganese", "blood_manganese_ug_l", "Blood manganese (µg/L)", "µg/L", "LBXBMN"),
    )
}
METAL_COLUMNS: dict[str, str] = {name: m.column for name, m in METALS.items()}


@cache
def cycles() -> list[str]:
    """The study cycles, as the dbt seed lists them."""
    with (DBT_PROJECT_DIR / "seeds" / "cycles.csv").open(newline="") as fh:
        return [row["cycle"] for row in csv.DictReader(fh)]


@cache
def open_choice_defaults() -> dict:
    """Every OPEN-choice var and its default, from dbt_project.yml."""
    import yaml  # type: ignore[import-untyped]

    return dict(yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"])
