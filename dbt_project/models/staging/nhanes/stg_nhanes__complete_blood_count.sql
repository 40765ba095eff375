select
    cast(SEQN as integer) as participant_id,
    cycle,
    LBXHGB as hemoglobin_g_dl,
    LBXHCT as hematocrit_pct,
    LBXRBCSI as red_cell_count_million_ul
from (
    select SEQN, LBXHGB, LBXHCT, LBXRBCSI, '2013-2014' as cycle from {{ source('nhanes', 'cbc_h') }}
    union all
    select SEQN, LBXHGB, LBXHCT, LBXRBCSI, '2017-2020' as cycle from {{ source('nhanes', 'p_cbc') }}
)
