-- Every staged value outside its plausibility limits (seeds/plausibility_limits.csv), one row
-- per participant and column: kept in the warehouse, listed here so that a person can look.
{%- set checked = [
    ('stg_nhanes__dxa_femur', ['total_femur_bmd_g_cm2', 'femoral_neck_bmd_g_cm2']),
    ('stg_nhanes__dxa_spine', ['lumbar_spine_bmd_g_cm2']),
    ('stg_nhanes__body_measures', ['bmi_kg_m2']),
    ('stg_nhanes__complete_blood_count', ['hemoglobin_g_dl']),
    ('stg_nhanes__blood_metals', ['blood_lead_ug_dl', 'blood_cadmium_ug_l', 'blood_mercury_ug_l',
                                  'blood_selenium_ug_l', 'blood_manganese_ug_l']),
] %}
with limits as (select * from {{ ref('plausibility_limits') }}),

staged_values as (
    {%- for model, columns in checked %}
    {%- set outer = loop %}
    {%- for column in columns %}
    select '{{ model }}' as staged_model, '{{ column }}' as staged_column, participant_id, cycle,
           cast({{ column }} as double) as value
    from {{ ref(model) }}
    where {{ column }} is not null
    {%- if not (outer.last and loop.last) %}
    union all
    {%- endif %}
    {%- endfor %}
    {%- endfor %}
)

select
    v.staged_model,
    v.staged_column,
    l.nhanes_variable,
    v.cycle,
    v.participant_id,
    v.value,
    l.unit,
    l.min_value,
    l.max_value,
    l.source
from staged_values as v
inner join limits as l using (staged_model, staged_column, cycle)
where v.value < l.min_value or v.value > l.max_value
order by v.staged_model, v.staged_column, v.participant_id
