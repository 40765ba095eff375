{#- NHANES answer codes: 7/9, 77/99, 777/999 (refused / don't know) are never numbers. -#}

{% macro yes_no(column) -%}
    case {{ column }} when 1 then true when 2 then false end
{%- endmacro %}

{% macro refused_or_dont_know(column) -%}
    coalesce({{ column }} in (7, 9), false)
{%- endmacro %}

{% macro known_code(column, codes) -%}
    case when {{ column }} in ({{ codes | join(', ') }}) then cast({{ column }} as integer) end
{%- endmacro %}

{% macro not_special(column, special=(7777, 9999)) -%}
    case when {{ column }} not in ({{ special | join(', ') }}) then {{ column }} end
{%- endmacro %}

{#- DMDMARTL (2013-2014) to the DMDMARTZ groups of 2017-2020. -#}
{% macro harmonise_marital(column) -%}
    case
        when {{ column }} in (1, 6) then 1
        when {{ column }} in (2, 3, 4) then 2
        when {{ column }} = 5 then 3
    end
{%- endmacro %}

{#- WHO bone status from a T-score (study 1: osteoporosis at T <= -2.5). -#}
{% macro bone_status(tscore) -%}
    case
        when {{ tscore }} is null then null
        when {{ tscore }} <= -2.5 then 'osteoporosis'
        when {{ tscore }} <= -1 then 'osteopenia'
        else 'normal'
    end
{%- endmacro %}

{#- Stop the build with a clear message when an OPEN-choice var has a value it does not know. -#}
{% macro require_one_of(name, value, allowed) -%}
    {%- if value not in allowed -%}
        {{ exceptions.raise_compiler_error("var " ~ name ~ " must be one of " ~ allowed ~ ", got " ~ value) }}
    {%- endif -%}
{%- endmacro %}

{#- A T-score, rounded to `digits` decimals: 9 makes a three-decimal BMD exactly at a cut-off
    count as at it (floating point puts (0.558 - 0.858) / 0.120 at -2.4999999999999996);
    1 is a DXA report's clinical rounding (half away from zero, as DuckDB's round). -#}
{% macro tscore(bmd, mean, sd, digits) -%}
    round(({{ bmd }} - {{ mean }}) / {{ sd }}, {{ digits }})
{%- endmacro %}

{#- The femur sites' reference mean and SD (one per site, the seed's is_default rows), as the
    columns of a one-row select over seeds/tscore_reference. -#}
{% macro femur_reference_columns() -%}
        max(case when site = 'total_femur' and is_default then mean_g_cm2 end) as total_femur_mean,
        max(case when site = 'total_femur' and is_default then sd_g_cm2 end) as total_femur_sd,
        max(case when site = 'femoral_neck' and is_default then mean_g_cm2 end) as femoral_neck_mean,
        max(case when site = 'femoral_neck' and is_default then sd_g_cm2 end) as femoral_neck_sd
{%- endmacro %}
