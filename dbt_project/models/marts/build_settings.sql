-- The OPEN-choice vars this warehouse was built with, and when: the report prints them
-- beside every number.
{%- set names = ['postmenopausal_rule', 'required_bmd_sites', 'spine_reference', 'spine_bmd_source',
                 'tscore_rounding', 'hypertension_definition', 'fracture_definition', 'marital_mapping',
                 'require_income_poverty_ratio', 'borderline_diabetes_as', 'dont_know_as',
                 'age_group_breaks', 'bmi_group_breaks'] %}
{%- for name in names %}
select
    '{{ name }}' as var_name,
    '{{ tojson(var(name)) | replace("'", "''") }}' as var_value,
    current_timestamp as built_at
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
