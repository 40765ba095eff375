-- DXA lumbar spine: DXXOSBMD (total L1-L4) is missing whenever any vertebra is invalid.
-- The per-vertebra BMDs (DXXL1BMD ... DXXL4BMD) are in the complete CDC files (P_DXXSPN
-- here); the 2013-2014 copy offline has the key variables only, so they are null there.
select
    cast(SEQN as integer) as participant_id,
    cycle,
    cast(DXASPNST as integer) as spine_scan_status,
    cast(DXXOSBCC as integer) as spine_invalidity_code,
    DXXOSBMD as lumbar_spine_bmd_g_cm2,
    DXXL1BMD as l1_bmd_g_cm2,
    DXXL2BMD as l2_bmd_g_cm2,
    DXXL3BMD as l3_bmd_g_cm2,
    DXXL4BMD as l4_bmd_g_cm2,
    (DXXL1BMD + DXXL2BMD + DXXL3BMD + DXXL4BMD) / 4 as lumbar_spine_mean_l1_l4_bmd_g_cm2
from (
    select *, '2013-2014' as cycle from {{ source('nhanes', 'dxxspn_h') }}
    union all by name
    select *, '2017-2020' as cycle from {{ source('nhanes', 'p_dxxspn') }}
)
