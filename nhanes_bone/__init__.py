"""nhanes-bone: a DuckDB + dbt warehouse for bone-health epidemiology on NHANES."""

__version__ = "0.1.0"
