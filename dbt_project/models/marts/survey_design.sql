-- The survey design of every participant of both cycles: what a design-based (domain) analysis
-- of any cohort needs, so that analysis code reads marts only. Strata and PSUs are unique per
-- cycle (staging makes them so).
select
    participant_id,
    cycle,
    design_stratum,
    design_psu,
    masked_stratum,
    masked_psu,
    mec_weight,
    interview_weight
from {{ ref('stg_nhanes__demographics') }}
order by participant_id
