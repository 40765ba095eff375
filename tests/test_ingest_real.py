"""Ingest of the genuine NHANES files beside the project (../shared/nhanes)."""

from __future__ import annotations

import pyreadstat
from helpers import query

from ingest.load import ingest


def test_every_file_loaded_with_manifest_provenance(real_warehouse, manifest):
    files = query(real_warehouse, "select * from raw._files").set_index("table_name")
    assert len(files) == len(manifest["files"]) == 40
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
    assert files.loc["diq_h"].sha256_matches_catalog == False  # noqa: E712
    assert files.loc["rhq_h"].sha256_matches_catalog == False  # noqa: E712
    assert files.loc["pbcd_h"].sas_created_at is not None
    # rows short of the official count are said so (MANIFEST: RHQ_H lacks 311 empty rows)
    assert files.loc["rhq_h"].rows_match_catalog == False  # noqa: E712
    assert files.loc["p_dxxfem"].rows_match_catalog


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
    assert {("pbcd_h", "LBXBCD"), ("p_pbcd", "LBXBCD")} <= set(map(tuple, cadmium.values))


def test_several_rows_per_participant_and_character_columns_load(real_warehouse, manifest):
    """RXQ_RX has one row per medicine: SEQN repeats, and the drug name and code are text
    (with the '99999' codes of the codebook kept as text, not numbers)."""
    official = manifest["official_row_counts"]
    for table, demo in (("rxq_rx_h", "demo_h"), ("p_rxq_rx", "p_demo")):
        got = query(
            real_warehouse,
            f"select count(*) as n, count(distinct SEQN) as people, typeof(any_value(RXDDRUG)) as drug_type, "
            f"count(*) filter (where RXDDRUG = '99999') as unknown_drug from raw.{table}",
        ).iloc[0]
        assert got.n == official[table.upper()]
        assert got.n > got.people  # several rows per participant
        # MANIFEST: every participant of DEMO has at least one row (RXDUSE answered or not)
        assert got.people == query(real_warehouse, f"select count(*) as n from raw.{demo}").n[0]
        assert got.drug_type == "VARCHAR"
        assert got.unknown_drug > 0
    types = query(
        real_warehouse,
        "select column_name, type from raw._columns where table_name = 'p_rxq_rx' and column_name in ('RXDDRUG', 'RXDDRGID', 'RXDRSC1')",
    )
    assert set(types.type) == {"character"}


def test_key_variable_only_files_load_as_they_are(real_warehouse):
    """DXXFEM_H / DXXSPN_H offline carry 4 and 3 of the CDC variables: they load as such."""
    cols = query(
        real_warehouse,
        "select table_name, count(*) as n from raw._columns where table_name in ('dxxfem_h', 'dxxspn_h') group by 1",
    ).set_index("table_name")
    assert cols.n.to_dict() == {"dxxfem_h": 4, "dxxspn_h": 3}


def test_second_ingest_skips_every_file_and_leaves_the_warehouse_untouched(real_warehouse, shared_nhanes):
    before = real_warehouse.read_bytes()
    report = ingest(shared_nhanes, real_warehouse)
    assert report.results and all(r.status == "skipped" for r in report.results)
    assert len(report.results) == 40
    assert not report.rebuilt
    assert real_warehouse.read_bytes() == before
