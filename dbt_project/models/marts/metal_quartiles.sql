-- Per metal: the Q1/Q2/Q3 upper cut-points in the analytic cohort (R type-7 quantiles)
-- and how many women fall in each quartile. Peng et al. Table 2 gives the real-data
-- cut-points: Pb 0.77/1.16/1.66, Cd 0.25/0.38/0.61, Hg 0.39/0.83/1.70,
-- Se 172.07/185.67/201.84, Mn 7.49/9.30/11.41.
{%- set metals = [
    ('lead', 'blood_lead_ug_dl', 'ug/dL'),
    ('cadmium', 'blood_cadmium_ug_l', 'ug/L'),
    ('mercury', 'blood_mercury_ug_l', 'ug/L'),
    ('selenium', 'blood_selenium_ug_l', 'ug/L'),
    ('manganese', 'blood_manganese_ug_l', 'ug/L'),
] %}
with cohort as (select * from {{ ref('metals_op_cohort') }})
{%- for metal, column, unit in metals %}
select
    {{ loop.index }} as metal_order,
    '{{ metal }}' as metal,
    '{{ unit }}' as unit,
    {{ quartile_cuts(column) }}[1] as q1_upper,
    {{ quartile_cuts(column) }}[2] as q2_upper,
    {{ quartile_cuts(column) }}[3] as q3_upper,
    count(*) filter (where {{ metal }}_quartile = 1) as n_q1,
    count(*) filter (where {{ metal }}_quartile = 2) as n_q2,
    count(*) filter (where {{ metal }}_quartile = 3) as n_q3,
    count(*) filter (where {{ metal }}_quartile = 4) as n_q4,
    min({{ column }}) as min_value,
    max({{ column }}) as max_value
from cohort
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
