-- Osteoporosis questionnaire (ages 40+ in 2013-2014, 50+ in 2017-2020).
-- Answers are booleans with 7/9 as null; the *_unknown flags keep "refused/don't know"
-- apart from "not asked" so that the dont_know_as var can treat them as "no".
select
    cast(SEQN as integer) as participant_id,
    cycle,
    {{ yes_no('OSQ150') }} as parent_told_osteoporosis,
    {{ refused_or_dont_know('OSQ150') }} as parent_told_osteoporosis_unknown,
    {{ yes_no('OSQ010A') }} as broken_hip,
    {{ refused_or_dont_know('OSQ010A') }} as broken_hip_unknown,
    {{ yes_no('OSQ010B') }} as broken_wrist,
    {{ refused_or_dont_know('OSQ010B') }} as broken_wrist_unknown,
    {{ yes_no('OSQ010C') }} as broken_spine,
    {{ refused_or_dont_know('OSQ010C') }} as broken_spine_unknown,
    {{ yes_no('OSQ080') }} as other_fracture,
    {{ refused_or_dont_know('OSQ080') }} as other_fracture_unknown,
    {{ yes_no('OSQ060') }} as told_osteoporosis,
    -- OSQ072, asked of those told they have osteoporosis: ever prescribed a medicine for it
    {{ yes_no('OSQ072') }} as prescribed_osteoporosis_medicine
from (
    select SEQN, OSQ150, OSQ010A, OSQ010B, OSQ010C, OSQ080, OSQ060, OSQ072, '2013-2014' as cycle
    from {{ source('nhanes', 'osq_h') }}
    union all
    select SEQN, OSQ150, OSQ010A, OSQ010B, OSQ010C, OSQ080, OSQ060, OSQ072, '2017-2020' as cycle
    from {{ source('nhanes', 'p_osq') }}
)
