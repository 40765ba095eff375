-- SMQ020: smoked at least 100 cigarettes in life (asked from age 18; 7/9 -> null).
select
    cast(SEQN as integer) as participant_id,
    cycle,
    {{ yes_no('SMQ020') }} as smoked_100_cigarettes,
    case cast(SMQ040 as integer) when 1 then 'every day' when 2 then 'some days' when 3 then 'not at all' end
        as smokes_now
from (
    select SEQN, SMQ020, SMQ040, '2013-2014' as cycle from {{ source('nhanes', 'smq_h') }}
    union all
    select SEQN, SMQ020, SMQ040, '2017-2020' as cycle from {{ source('nhanes', 'p_smq') }}
)
