-- Study 1's wide eligibility table: every woman aged 50+, with each OPEN choice's candidate
-- values side by side, so that `nhanes-bone reproduce` scores a whole grid of cohort
-- definitions in one pass instead of one dbt rebuild per definition. Column names:
-- <covariate>__<var value> (e.g. hypertension__measured), postmenopausal__<rule>,
-- tscore__<site>__<rounding> and tscore__lumbar_spine__<source>__<reference_id>__<rounding>.
-- Each is the same macro the cohort uses with the var's value (macros/open_choices.sql).
{%- set choices = open_choice_values() %}
{%- set spine_ids = [] %}
{%- if execute %}
  {%- set spine_ids = run_query("select reference_id from " ~ ref('tscore_reference') ~ " where site = 'lumbar_spine' order by reference_id").columns[0].values() %}
{%- endif %}
{%- set age_breaks_grid = [[60, 70], [61, 71]] %}
with p as (select * from {{ ref('int_participants_joined') }}),
reference as (select * from {{ ref('tscore_reference') }}),

ref as (
    select
        {{ femur_reference_columns() }}
        {%- for id in spine_ids %},
        max(case when reference_id = '{{ id }}' then mean_g_cm2 end) as "{{ id }}_mean",
        max(case when reference_id = '{{ id }}' then sd_g_cm2 end) as "{{ id }}_sd"
        {%- endfor %}
    from reference
)

select
    p.participant_id,
    p.cycle,
    p.age_years,
    p.blood_lead_ug_dl is not null
        and p.blood_cadmium_ug_l is not null
        and p.blood_mercury_ug_l is not null
        and p.blood_selenium_ug_l is not null
        and p.blood_manganese_ug_l is not null as has_all_metals,
    p.blood_lead_ug_dl,
    p.blood_cadmium_ug_l,
    p.blood_mercury_ug_l,
    p.blood_selenium_ug_l,
    p.blood_manganese_ug_l,
    p.income_poverty_ratio,
    p.bmi_kg_m2,
    p.bmi_group,
    p.race_ethnicity,
    p.education,
    p.smoked_100_cigarettes as ever_smoked,
    p.total_femur_bmd_g_cm2,
    p.femoral_neck_bmd_g_cm2,
    p.lumbar_spine_total_bmd_g_cm2,
    {{ spine_bmd('mean_l1_l4', 'p.') }} as lumbar_spine_mean_l1_l4_bmd_g_cm2,
    {%- for rule in choices['postmenopausal_rule'] %}
    {{ postmenopausal(rule) }} as postmenopausal__{{ rule }},
    {%- endfor %}
    {%- for value in choices['hypertension_definition'] %}
    {{ hypertension(value) }} as hypertension__{{ value }},
    {%- endfor %}
    {%- for value in choices['borderline_diabetes_as'] %}
    {{ diabetes(value) }} as diabetes__{{ value }},
    {%- endfor %}
    {%- for value in choices['dont_know_as'] %}
    {{ parental_osteoporosis(value) }} as parental_osteoporosis__{{ value }},
    {%- for definition in choices['fracture_definition'] %}
    {{ previous_fracture(definition, value) }} as previous_fracture__{{ definition }}__{{ value }},
    {%- endfor %}
    {%- endfor %}
    {%- for mapping in choices['marital_mapping'] %}
    {{ marital_status(marital_code(mapping)) }} as marital_status__{{ mapping }},
    {%- endfor %}
    {%- for breaks in age_breaks_grid %}
    {{ age_group(breaks) }} as age_group__{{ breaks | join('_') }},
    {%- endfor %}
    {%- for rounding in choices['tscore_rounding'] %}
    {%- set digits = 1 if rounding == 'one_decimal' else 9 %}
    {{ tscore('p.total_femur_bmd_g_cm2', 'total_femur_mean', 'total_femur_sd', digits) }} as tscore__total_femur__{{ rounding }},
    {{ tscore('p.femoral_neck_bmd_g_cm2', 'femoral_neck_mean', 'femoral_neck_sd', digits) }} as tscore__femoral_neck__{{ rounding }},
    {%- for id in spine_ids %}
    {{ tscore('p.lumbar_spine_total_bmd_g_cm2', '"' ~ id ~ '_mean"', '"' ~ id ~ '_sd"', digits) }} as tscore__lumbar_spine__total__{{ id }}__{{ rounding }},
    {{ tscore(spine_bmd('mean_l1_l4', 'p.'), '"' ~ id ~ '_mean"', '"' ~ id ~ '_sd"', digits) }} as tscore__lumbar_spine__mean_l1_l4__{{ id }}__{{ rounding }},
    {%- endfor %}
    {%- endfor %}
    p.combined_metals_weight
from p
cross join ref
where p.sex = 'female' and p.age_years >= 50
order by p.participant_id
