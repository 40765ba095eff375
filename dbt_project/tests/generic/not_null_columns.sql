{#- None of the given columns is null: dbt's not_null on each of them, in one query and one node.
    Failing rows: the offending rows, with null_columns naming the columns that are null in each. -#}
{% test not_null_columns(model, columns) %}
select
    *,
    concat_ws(', '{% for c in columns %}, case when {{ c }} is null then '{{ c }}' end{% endfor %}) as null_columns
from {{ model }}
where {% for c in columns %}{{ c }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
