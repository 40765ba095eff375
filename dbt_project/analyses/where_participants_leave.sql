-- The inclusion flow, with the share of the previous step kept at each step.
select
    step_order,
    step,
    n_remaining,
    n_excluded,
    round(100.0 * n_remaining / nullif(lag(n_remaining) over (order by step_order), 0), 1) as pct_kept,
    n_osteoporosis,
    rule
from {{ ref('metals_op_inclusion_flow') }}
order by step_order
