{#- Quartile (1-4) of a value against Q1/Q2/Q3 upper bounds, right-closed as in
    Peng et al. Table 2: Q1 ≤ cut1 < Q2 ≤ cut2 < Q3 ≤ cut3 < Q4. -#}
{% macro quartile(value, cuts) -%}
    case
        when {{ value }} is null then null
        when {{ value }} <= {{ cuts }}[1] then 1
        when {{ value }} <= {{ cuts }}[2] then 2
        when {{ value }} <= {{ cuts }}[3] then 3
        else 4
    end
{%- endmacro %}

{#- R type-7 quartile cut-points (DuckDB's quantile_cont interpolates the same way). -#}
{% macro quartile_cuts(value) -%}
    quantile_cont({{ value }}, [0.25, 0.5, 0.75])
{%- endmacro %}
