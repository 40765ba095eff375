-- Study 2 inclusion flow: one row per step, from every participant of both cycles to the
-- hemoglobin-BMD cohort, with counts by sex and osteoporosis (T < -2.5 at any site).
{%- set steps = [
    ('all_participants', 'All participants of NHANES 2013-2014 and 2017-March 2020 (DEMO_H, P_DEMO)', 'true'),
    ('aged_50_plus', 'Men and women aged 50 years or more (RIDAGEYR >= 50)', 'passes_step_2'),
    ('hemoglobin_measured', 'Hemoglobin measured (LBXHGB, CBC)', 'passes_step_3'),
    ('bmd_all_sites', 'BMD at total femur, femoral neck and lumbar spine (DXXFEM, DXXSPN)', 'passes_step_4'),
    ('complete_covariates', 'BMI, smoking and diabetes known', 'passes_step_5'),
] %}
with eligibility as (select * from {{ ref('int_hb_bmd_eligibility') }}),

counts as (
    {%- for name, rule, flag in steps %}
    select
        {{ loop.index }} as step_order,
        '{{ name }}' as step,
        '{{ rule }}' as rule,
        count(*) filter (where {{ flag }}) as n_remaining,
        count(*) filter (where {{ flag }} and sex = 'male') as n_men,
        count(*) filter (where {{ flag }} and sex = 'female') as n_women,
        count(*) filter (where {{ flag }} and has_osteoporosis_strict) as n_osteoporosis
    from eligibility
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    step_order, step, rule, n_remaining,
    coalesce(lag(n_remaining) over (order by step_order) - n_remaining, 0) as n_excluded,
    n_men, n_women, n_osteoporosis
from counts
order by step_order
