{#- A model's (or seed's) row-level column checks in one query and one node: dbt's not_null and
    accepted_values and dbt-utils' accepted_range, on any number of columns. Every dbt node
    costs fixed work in every build (README: ~10 ms of dbt's own), and a model had up to seven
    of these tests.
      not_null:        [column, ...]
      ranges:          {column: {min_value: x, max_value: y, inclusive: true}}  (either bound
                       optional; inclusive: false makes both bounds strict)
      accepted_values: {column: [value, ...]}
    As dbt's own tests, a null passes the range and value checks (not_null says otherwise).
    Failing rows: the offending rows, with failed_checks naming every check each row fails,
    e.g. "age_years outside [50, 80]; sex not in [male, female]". -#}
{% test column_checks(model, not_null=[], ranges={}, accepted_values={}) %}
{%- set checks = [] -%}
{%- for column in not_null -%}
  {%- do checks.append([column ~ ' is null', column ~ ' is null']) -%}
{%- endfor -%}
{%- for column, bounds in ranges.items() -%}
  {%- set inclusive = bounds.get('inclusive', true) -%}
  {%- set low, high = bounds.get('min_value'), bounds.get('max_value') -%}
  {%- set outside = [] -%}
  {%- if low is not none -%}{%- do outside.append(column ~ (' < ' if inclusive else ' <= ') ~ low) -%}{%- endif -%}
  {%- if high is not none -%}{%- do outside.append(column ~ (' > ' if inclusive else ' >= ') ~ high) -%}{%- endif -%}
  {%- set label = column ~ ' outside ' ~ ('[' if inclusive and low is not none else '(')
      ~ (low if low is not none else '-inf') ~ ', ' ~ (high if high is not none else 'inf')
      ~ (']' if inclusive and high is not none else ')') -%}
  {%- do checks.append(['(' ~ outside | join(' or ') ~ ')', label]) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
  {%- set literals = [] -%}
  {%- for value in values -%}
    {%- do literals.append("'" ~ value | replace("'", "''") ~ "'" if value is string else value | string) -%}
  {%- endfor -%}
  {%- do checks.append([column ~ ' not in (' ~ literals | join(', ') ~ ')', column ~ ' not in [' ~ values | join(', ') ~ ']']) -%}
{%- endfor -%}
{%- if not checks -%}
  {{ exceptions.raise_compiler_error("column_checks on " ~ model ~ ": give not_null, ranges or accepted_values") }}
{%- endif %}
select
    *,
    concat_ws('; '{% for condition, label in checks %}, case when {{ condition }} then '{{ label | replace("'", "''") }}' end{% endfor %}) as failed_checks
from {{ model }}
where {% for condition, label in checks %}{{ condition }}{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
