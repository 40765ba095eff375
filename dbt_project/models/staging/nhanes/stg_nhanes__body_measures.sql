select
    cast(SEQN as integer) as participant_id,
    cycle,
    BMXWT as weight_kg,
    BMXHT as height_cm,
    BMXBMI as bmi_kg_m2
from (
    select SEQN, BMXWT, BMXHT, BMXBMI, '2013-2014' as cycle from {{ source('nhanes', 'bmx_h') }}
    union all
    select SEQN, BMXWT, BMXHT, BMXBMI, '2017-2020' as cycle from {{ source('nhanes', 'p_bmx') }}
)
