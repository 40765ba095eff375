-- The NHANES codebook inside the warehouse: every variable whose SAS label mentions a word.
select table_name, column_name, label
from {{ source('nhanes', '_columns') }}
where label ilike '%fracture%'
order by table_name, position
