-- DXA lumbar spine: DXXOSBMD (total L1-L4) is missing whenever any vertebra is invalid.
select
    cast(SEQN as integer) as participant_id,
    cycle,
    cast(DXASPNST as integer) as spine_scan_status,
    cast(DXXOSBCC as integer) as spine_invalidity_code,
    DXXOSBMD as lumbar_spine_bmd_g_cm2
from (
    select *, '2013-2014' as cycle from {{ source('nhanes', 'dxxspn_h') }}
    union all by name
    select *, '2017-2020' as cycle from {{ source('nhanes', 'p_dxxspn') }}
)
