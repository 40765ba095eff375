-- DXA proximal femur: scanned ages 40+ in 2013-2014, 50+ in 2017-2020.
select
    cast(SEQN as integer) as participant_id,
    cycle,
    cast(DXAFMRST as integer) as femur_scan_status,
    cast(DXXFMBCC as integer) as femur_invalidity_code,
    DXXOFBMD as total_femur_bmd_g_cm2,
    DXXNKBMD as femoral_neck_bmd_g_cm2
from (
    select *, '2013-2014' as cycle from {{ source('nhanes', 'dxxfem_h') }}
    union all by name
    select *, '2017-2020' as cycle from {{ source('nhanes', 'p_dxxfem') }}
)
