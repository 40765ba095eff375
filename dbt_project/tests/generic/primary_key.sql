{#- The column identifies a row: never null and never repeated. dbt's unique and not_null in one
    query and one node (each node costs dbt ~20 ms of fixed work in every build). Failing rows:
    each repeated or null key with its number of rows. A model with a column_checks test gives its
    key there instead (`primary_key:`), in the same node. -#}
{% test primary_key(model, column_name) %}
select {{ column_name }}, count(*) as n_rows
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1
{% endtest %}
