-- How many women of the analytic cohort per cycle and bone status, with mean lowest T-score.
select
    cycle,
    bone_status,
    count(*) as n,
    round(avg(lowest_tscore), 2) as mean_lowest_tscore
from {{ ref('metals_op_cohort') }}
group by cycle, bone_status
order by cycle, bone_status
