{#- The model has no rows (used with severity: warn on lists of things a person should see). -#}
{% test no_rows(model) %}
select * from {{ model }}
{% endtest %}
