"""NHANES SAS transport files into the DuckDB ``raw`` schema, with provenance."""
