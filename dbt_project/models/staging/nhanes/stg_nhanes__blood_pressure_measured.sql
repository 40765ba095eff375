-- Measured blood pressure: the mean of each participant's valid readings.
-- 2013-2014 (BPX_H): up to four manual (mercury sphygmomanometer) readings, BPXSY1-4 / BPXDI1-4;
-- a diastolic of 0 mmHg (sounds heard down to zero) is not a usable reading and is left out.
-- 2017-2020 (P_BPXO): three oscillometric readings, BPXOSY1-3 / BPXODI1-3.
with readings as (
    select SEQN, '2013-2014' as cycle, unnest([BPXSY1, BPXSY2, BPXSY3, BPXSY4]) as systolic,
           unnest([BPXDI1, BPXDI2, BPXDI3, BPXDI4]) as diastolic
    from {{ source('nhanes', 'bpx_h') }}
    union all
    select SEQN, '2017-2020' as cycle, unnest([BPXOSY1, BPXOSY2, BPXOSY3]) as systolic,
           unnest([BPXODI1, BPXODI2, BPXODI3]) as diastolic
    from {{ source('nhanes', 'p_bpxo') }}
)

select
    cast(SEQN as integer) as participant_id,
    cycle,
    avg(systolic) as systolic_mean_mmhg,
    avg(case when diastolic > 0 then diastolic end) as diastolic_mean_mmhg,
    count(systolic) as n_systolic_readings,
    count(case when diastolic > 0 then diastolic end) as n_diastolic_readings
from readings
group by SEQN, cycle
