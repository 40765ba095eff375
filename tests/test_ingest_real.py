"""Ingest of the genuine NHANES files beside the project (../shared/nhanes)."""

from __future__ import annotations

import pyreadstat
from helpers import query

from ingest.catalog import load_catalog
from ingest.load import ingest


def test_every_file_loaded_with_manifest_provenance(real_warehouse, manifest):
    files = query(real_warehouse, "select * from raw._files").set_index("table_name")
    for f in manifest["files"]:
        row = files.loc[f["table"].lower()]
        assert row.n_rows == f["rows"], f["table"]
        assert row.n_columns == f["columns"], f["table"]
        assert row.sha256 == f["sha256"], f["table"]
        assert row.size_bytes == f["size"], f["table"]
        assert not row.is_synthetic
        if f["kind"] == "genuine":
            assert row.sha256_matches_catalog, f["table"]
        counted = query(real_warehouse, f'select count(*) as n from raw."{f["table"].lower()}"').n[0]
        assert counted == f["rows"]
    # the rebuilt files are not CDC's bytes: where CDC's checksum is known, it must not match
    assert files.loc["bpq_h"].sha256_matches_catalog == False  # noqa: E712
    assert files.loc["pbcd_h"].sas_created_at is not None


def test_columns_carry_the_sas_labels(real_warehouse, shared_nhanes):
    meta = pyreadstat.read_xport(str(shared_nhanes / "2013-2014" / "DEMO_H.XPT"), metadataonly=True)[1]
    cols = query(
        real_warehouse,
        "select column_name, label from raw._columns where table_name = 'demo_h' order by position",
    )
    assert list(cols.column_name) == meta.column_names
    assert list(cols.label) == meta.column_labels
    cadmium = query(
        real_warehouse,
        "select table_name, column_name from raw._columns where label ilike '%cadmium%' and not is_placeholder",
    )
    assert ("pbcd_h", "LBXBCD") in set(map(tuple, cadmium.values))


def test_missing_study_files_become_empty_placeholders(real_warehouse, manifest):
    catalog = load_catalog()
    missing = manifest["missing"]["2013-2014"] + manifest["missing"]["2017-2020"]
    for table in [t for t in missing if catalog[t].is_study_table]:
        n = query(real_warehouse, f'select count(*) as n from raw."{table.lower()}"').n[0]
        assert n == 0, table
    placeholders = query(real_warehouse, "select distinct table_name from raw._columns where is_placeholder")
    assert {"dxxfem_h", "p_dxxspn", "p_pbcd"} <= set(placeholders.table_name)


def test_second_ingest_skips_every_file_and_leaves_the_warehouse_untouched(real_warehouse, shared_nhanes):
    before = real_warehouse.read_bytes()
    report = ingest(shared_nhanes, real_warehouse)
    assert report.results and all(r.status == "skipped" for r in report.results)
    assert len(report.results) == 22
    assert not report.rebuilt
    assert real_warehouse.read_bytes() == before
