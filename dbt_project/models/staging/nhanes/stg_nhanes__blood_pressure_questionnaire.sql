-- BPQ020: ever told by a doctor you had high blood pressure (7/9 -> null).
select
    cast(SEQN as integer) as participant_id,
    cycle,
    {{ yes_no('BPQ020') }} as told_high_blood_pressure,
    {{ refused_or_dont_know('BPQ020') }} as told_high_blood_pressure_unknown
from (
    select SEQN, BPQ020, '2013-2014' as cycle from {{ source('nhanes', 'bpq_h') }}
    union all
    select SEQN, BPQ020, '2017-2020' as cycle from {{ source('nhanes', 'p_bpq') }}
)
