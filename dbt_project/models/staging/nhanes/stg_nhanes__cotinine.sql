-- Serum cotinine (COT_H, P_COT; examined participants aged 3+). Values below the detection
-- limit (0.015 ng/mL) are filled with LOD/sqrt(2) = 0.011 by NCHS and flagged LBDCOTLC = 1.
-- Hydroxycotinine is not staged: its name differs between the cycles (LBXHCT / LBXHCOT).
select
    cast(SEQN as integer) as participant_id,
    cycle,
    LBXCOT as serum_cotinine_ng_ml,
    LBDCOTLC = 1 as cotinine_below_lod
from (
    select SEQN, LBXCOT, LBDCOTLC, '2013-2014' as cycle from {{ source('nhanes', 'cot_h') }}
    union all
    select SEQN, LBXCOT, LBDCOTLC, '2017-2020' as cycle from {{ source('nhanes', 'p_cot') }}
)
