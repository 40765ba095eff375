"""The file catalog is data; these tests hold it to MANIFEST.json and STUDY.md."""

from nhanes_bone.core.catalog import CDC_PUBLIC_BASE, load_catalog, load_columns

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
        if table not in catalog:
            continue
        if len(sha) == 64:
            assert catalog[table].sha256 == sha, table
        else:  # only a prefix is recorded: the catalog knows nothing else, or agrees with it
            prefix = sha.split()[0]
            assert catalog[table].sha256 is None or catalog[table].sha256.startswith(prefix), table


def test_every_study_table_has_its_column_list():
    columns = load_columns()
    for entry in load_catalog().values():
        if entry.is_study_table:
            names = [c.name for c in columns[entry.table]]
            assert names[0] == "SEQN", entry.table
            assert set(entry.required_columns) <= set(names), entry.table


def test_every_file_offline_is_catalogued_with_its_layout(manifest):
    """The covariate files too (measured BP, cotinine, creatinine, prescriptions), so that
    `fetch` knows them; RXQ_RX is the one file with several rows per participant."""
    catalog = load_catalog()
    for f in manifest["files"]:
        assert f["table"] in catalog, f["table"]
    many = {t for t, e in catalog.items() if not e.seqn_is_key}
    assert many == {"RXQ_RX_H", "P_RXQ_RX"}
    for table in ("BPX_H", "P_BPXO", "COT_H", "P_COT", "BIOPRO_H", "P_BIOPRO", "RXQ_RX_H", "P_RXQ_RX"):
        assert catalog[table].url.endswith(f"/DataFiles/{table}.xpt")
