-- Crude osteoporosis prevalence by blood-cadmium quartile (compare Peng et al. Table 2).
select
    q.cadmium_quartile,
    count(*) as n,
    count(*) filter (where has_osteoporosis) as n_osteoporosis,
    round(100.0 * avg(case when has_osteoporosis then 1 else 0 end), 1) as pct_osteoporosis,
    round(min(blood_cadmium_ug_l), 2) as min_cadmium_ug_l,
    round(max(blood_cadmium_ug_l), 2) as max_cadmium_ug_l
from {{ ref('metals_op_cohort') }} as q
group by q.cadmium_quartile
order by q.cadmium_quartile
