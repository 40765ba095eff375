-- Blood pressure questionnaire (7/9 -> null). BPQ030 (told 2+ times) is asked only of those
-- told once (BPQ020 = 1); BPQ040A (told to take medicine) likewise, and BPQ050A (taking it
-- now) only of those told to take it.
select
    cast(SEQN as integer) as participant_id,
    cycle,
    {{ yes_no('BPQ020') }} as told_high_blood_pressure,
    {{ refused_or_dont_know('BPQ020') }} as told_high_blood_pressure_unknown,
    {{ yes_no('BPQ030') }} as told_high_blood_pressure_twice,
    {{ yes_no('BPQ040A') }} as told_to_take_bp_medicine,
    {{ yes_no('BPQ050A') }} as taking_bp_medicine
from (
    select SEQN, BPQ020, BPQ030, BPQ040A, BPQ050A, '2013-2014' as cycle from {{ source('nhanes', 'bpq_h') }}
    union all
    select SEQN, BPQ020, BPQ030, BPQ040A, BPQ050A, '2017-2020' as cycle from {{ source('nhanes', 'p_bpq') }}
)
