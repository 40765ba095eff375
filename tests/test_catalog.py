"""The file catalog is data; these tests hold it to MANIFEST.json and STUDY.md."""

from ingest.catalog import CDC_PUBLIC_BASE, load_catalog, load_columns

STUDY_COMPONENTS = {"DEMO", "PBCD", "DXXFEM", "DXXSPN", "BMX", "BPQ", "DIQ", "SMQ", "OSQ", "RHQ", "CBC"}


def test_every_study_component_is_catalogued_for_both_cycles():
    catalog = load_catalog()
    for component in STUDY_COMPONENTS:
        assert f"{component}_H" in catalog
        assert f"P_{component}" in catalog
        assert catalog[f"P_{component}"].is_study_table


def test_urls_follow_the_cdc_pattern():
    for entry in load_catalog().values():
        year = 2013 if entry.suffix == "H" else 2017
        assert entry.url == f"{CDC_PUBLIC_BASE}/{year}/DataFiles/{entry.table}.xpt"


def test_genuine_files_have_manifest_rows_size_and_sha256(manifest):
    catalog = load_catalog()
    for f in manifest["files"]:
        entry = catalog[f["table"]]
        if f["kind"] == "genuine":
            assert entry.sha256 == f["sha256"], f["table"]
            assert entry.expected_rows == f["rows"], f["table"]
            assert entry.expected_size == f["size"], f["table"]
    for table, rows in manifest["official_row_counts"].items():
        assert catalog[table].expected_rows == rows, table
    for table, sha in manifest["cdc_sha256_recorded_elsewhere"].items():
        if table in catalog:
            assert catalog[table].sha256 == sha, table


def test_every_study_table_has_its_column_list():
    columns = load_columns()
    for entry in load_catalog().values():
        if entry.is_study_table:
            names = [c.name for c in columns[entry.table]]
            assert names[0] == "SEQN", entry.table
            assert set(entry.required_columns) <= set(names), entry.table
