{#- The OPEN choices of STUDY.md: the values each var may take, and one macro per derived
    covariate. int_participants_joined calls each macro with the var's value (the cohort);
    marts.metals_op_candidates calls it with every value (the reproduction search), so both
    read one definition. -#}

{% macro open_choice_values() -%}
    {{ return({
        'postmenopausal_rule': ['age_50_plus', 'no_periods_12m', 'menopause_reported',
                                'menopause_or_hysterectomy', 'no_periods_or_menopause'],
        'hypertension_definition': ['told', 'told_twice', 'treated', 'measured', 'told_or_measured'],
        'fracture_definition': ['hip_wrist_spine', 'any_fracture'],
        'marital_mapping': ['harmonised', 'dmdmartl_codes'],
        'borderline_diabetes_as': ['no', 'yes', 'missing'],
        'dont_know_as': ['missing', 'no'],
        'spine_bmd_source': ['total', 'mean_l1_l4'],
        'tscore_rounding': ['exact', 'one_decimal'],
    }) }}
{%- endmacro %}

{#- Stop the build with a clear message when a var has a value it does not know. -#}
{% macro require_open_choice(name, value=none) -%}
    {%- set value = var(name) if value is none else value -%}
    {{ require_one_of(name, value, open_choice_values()[name]) }}
{%- endmacro %}

{% macro postmenopausal(rule) -%}
    {%- if rule == 'age_50_plus' -%} true
    {%- elif rule == 'no_periods_12m' -%} coalesce(regular_periods_past_12m = false, false)
    {%- elif rule == 'menopause_reported' -%} coalesce(no_period_reason_code = 7, false)
    {%- elif rule == 'menopause_or_hysterectomy' -%} coalesce(no_period_reason_code in (3, 7), false)
    {%- else -%} coalesce(regular_periods_past_12m = false or no_period_reason_code = 7, false)
    {%- endif -%}
{%- endmacro %}

{% macro hypertension(definition) -%}
    {%- if definition == 'told_or_measured' -%}
    case
        when hypertension_told or hypertension_measured then true
        when hypertension_told = false and hypertension_measured = false then false
    end
    {%- else -%}
    hypertension_{{ definition }}
    {%- endif -%}
{%- endmacro %}

{% macro diabetes(borderline) -%}
    case told_diabetes
        when 'yes' then true
        when 'no' then false
        {%- if borderline == 'yes' %}
        when 'borderline' then true
        {%- elif borderline == 'no' %}
        when 'borderline' then false
        {%- endif %}
    end
{%- endmacro %}

{% macro parental_osteoporosis(dont_know_as) -%}
    {%- if dont_know_as == 'no' -%}
    case when parent_told_osteoporosis_unknown then false else parent_told_osteoporosis end
    {%- else -%}
    parent_told_osteoporosis
    {%- endif -%}
{%- endmacro %}

{#- Yes when any counted fracture is reported; no when every counted question is answered
    no (with dont_know_as = no, an unknown answer counts as no); otherwise unknown. -#}
{% macro previous_fracture(definition, dont_know_as) -%}
    {%- set items = ['broken_hip', 'broken_wrist', 'broken_spine'] + (['other_fracture'] if definition == 'any_fracture' else []) -%}
    case
        when {% for c in items %}{{ c }}{% if not loop.last %} or {% endif %}{% endfor %} then true
        {%- if dont_know_as == 'no' %}
        when {% for c in items %}coalesce({{ c }} = false or {{ c }}_unknown, false){% if not loop.last %} and {% endif %}{% endfor %} then false
        {%- else %}
        when {% for c in items %}{{ c }} = false{% if not loop.last %} and {% endif %}{% endfor %} then false
        {%- endif %}
    end
{%- endmacro %}

{% macro marital_code(mapping) -%}
    {%- if mapping == 'dmdmartl_codes' -%} marital_code_dmdmartl_codes
    {%- else -%} marital_code_harmonised
    {%- endif -%}
{%- endmacro %}

{% macro marital_status(code) -%}
    case {{ code }}
        when 1 then 'Married or living with partner'
        when 2 then 'Widowed, divorced or separated'
        when 3 then 'Never married'
    end
{%- endmacro %}

{% macro age_group(breaks) -%}
    case
        when age_years < 50 then null
        when age_years < {{ breaks[0] }} then '50-{{ breaks[0] }}'
        when age_years < {{ breaks[1] }} then '{{ breaks[0] }}-{{ breaks[1] }}'
        else '>={{ breaks[1] }}'
    end
{%- endmacro %}

{#- Lumbar-spine BMD: the scanner's total L1-L4 (DXXOSBMD), or the paper's "mean of L1-L4"
    where the file has the vertebrae (2017-2020 offline; the 2013-2014 copy keeps the total). -#}
{% macro spine_bmd(source, prefix='') -%}
    {%- if source == 'mean_l1_l4' -%}
    case when {{ prefix }}cycle = '2013-2014' then {{ prefix }}lumbar_spine_total_bmd_g_cm2
         else {{ prefix }}lumbar_spine_mean_l1_l4_bmd_g_cm2 end
    {%- else -%}
    {{ prefix }}lumbar_spine_total_bmd_g_cm2
    {%- endif -%}
{%- endmacro %}
