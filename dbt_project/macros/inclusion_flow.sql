{#- An inclusion flow from a table of cumulative step flags: one row per step with the
    number remaining, excluded since the previous step, and each extra count.
    steps: list of (name, rule in words, flag column or 'true');
    counts: list of (column name, condition). -#}
{% macro inclusion_flow(eligibility, steps, counts) %}
with counts as (
    {%- for name, rule, flag in steps %}
    select
        {{ loop.index }} as step_order,
        '{{ name }}' as step,
        '{{ rule | replace("'", "''") }}' as rule,
        count(*) filter (where {{ flag }}) as n_remaining
        {%- for column, condition in counts %},
        count(*) filter (where {{ flag }} and {{ condition }}) as {{ column }}
        {%- endfor %}
    from {{ eligibility }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    step_order,
    step,
    rule,
    n_remaining,
    coalesce(lag(n_remaining) over (order by step_order) - n_remaining, 0) as n_excluded
    {%- for column, condition in counts %},
    {{ column }}
    {%- endfor %}
from counts
order by step_order
{% endmacro %}
