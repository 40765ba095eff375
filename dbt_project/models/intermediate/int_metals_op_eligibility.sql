-- Study 1 inclusion steps as cumulative flags, one row per participant. The flow mart
-- counts them; the cohort mart keeps the rows that pass every step.
{%- set rule = var('postmenopausal_rule') %}
{{ require_open_choice('postmenopausal_rule') }}
{%- set require_pir = var('require_income_poverty_ratio') %}
with p as (select * from {{ ref('int_participants_joined') }}),
bmd as (select * from {{ ref('int_bmd_scored') }}),

flags as (
    select
        p.participant_id,
        p.cycle,
        p.sex = 'female' as is_woman,
        p.age_years >= 50 as is_50_plus,
        {{ postmenopausal(rule) }} as is_postmenopausal,
        p.blood_lead_ug_dl is not null
            and p.blood_cadmium_ug_l is not null
            and p.blood_mercury_ug_l is not null
            and p.blood_selenium_ug_l is not null
            and p.blood_manganese_ug_l is not null as has_all_metals,
        bmd.has_required_bmd,
        p.bmi_kg_m2 is not null
            and p.education_code is not null
            and p.marital_code is not null
            and p.ever_smoked is not null
            and p.hypertension is not null
            and p.diabetes is not null
            and p.parental_osteoporosis is not null
            and p.previous_fracture is not null
            {%- if require_pir %}
            and p.income_poverty_ratio is not null
            {%- endif %} as has_complete_covariates,
        bmd.has_osteoporosis
    from p
    inner join bmd using (participant_id)
)

select
    *,
    is_woman as passes_step_2,
    is_woman and is_50_plus as passes_step_3,
    is_woman and is_50_plus and is_postmenopausal as passes_step_4,
    is_woman and is_50_plus and is_postmenopausal and has_all_metals as passes_step_5,
    is_woman and is_50_plus and is_postmenopausal and has_all_metals and has_required_bmd as passes_step_6,
    is_woman and is_50_plus and is_postmenopausal and has_all_metals and has_required_bmd
        and has_complete_covariates as passes_step_7
from flags
