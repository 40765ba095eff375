-- Where every table of this warehouse came from (raw._files as a mart): file, cycle, sha256,
-- rows, SAS release date, load time and whether it is SYNTHETIC. The report prints it beside
-- every number; analysis code asks it whether the data are synthetic.
select
    table_name,
    file_name,
    cycle,
    component,
    source,
    sha256,
    size_bytes,
    n_rows,
    n_columns,
    sas_table_name,
    sas_file_label,
    sas_created_at,
    loaded_at,
    is_synthetic,
    synthetic_generator,
    catalog_sha256,
    sha256_matches_catalog,
    catalog_rows,
    rows_match_catalog
from {{ source('nhanes', '_files') }}
order by table_name
