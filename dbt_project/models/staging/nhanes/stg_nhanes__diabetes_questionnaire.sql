-- DIQ010: doctor told you have diabetes: 1 yes, 2 no, 3 borderline (7/9 -> null).
select
    cast(SEQN as integer) as participant_id,
    cycle,
    case cast(DIQ010 as integer) when 1 then 'yes' when 2 then 'no' when 3 then 'borderline' end
        as told_diabetes
from (
    select SEQN, DIQ010, '2013-2014' as cycle from {{ source('nhanes', 'diq_h') }}
    union all
    select SEQN, DIQ010, '2017-2020' as cycle from {{ source('nhanes', 'p_diq') }}
)
