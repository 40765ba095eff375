{#- A model's (or seed's) key and row-level column checks in one query and one node: dbt's unique
    and not_null, accepted_values and dbt-utils' accepted_range, on any number of columns. Every
    dbt node costs fixed work in every build (~20 ms of dbt's own here), and a model had up to
    eight of these tests; a key column of a model without other checks keeps its `primary_key`.
      primary_key:     column, or [column, ...]: each never null and never repeated
      not_null:        [column, ...]
      ranges:          {column: {min_value: x, max_value: y, inclusive: true}}  (either bound
                       optional; inclusive: false makes both bounds strict)
      accepted_values: {column: [value, ...]}
    As dbt's own tests, a null passes the range and value checks (not_null says otherwise).
    Failing rows: the offending rows, with failed_checks naming every check each row fails,
    e.g. "age_years outside [50, 80]; sex not in [male, female]; participant_id repeated (2 rows)".
    A repeated key fails every row that carries it. -#}
{% test column_checks(model, primary_key=[], not_null=[], ranges={}, accepted_values={}) %}
{%- set keys = [primary_key] if primary_key is string else primary_key -%}
{#- each check: [the SQL condition a row fails, the SQL text that names it in failed_checks] -#}
{%- set checks = [] -%}
{%- for column in keys -%}
  {%- do checks.append([column ~ ' is null', dbt.string_literal(column ~ ' is null')]) -%}
  {%- do checks.append(['_repeated_' ~ loop.index ~ '._rows is not null',
      "'" ~ column ~ " repeated (' || _repeated_" ~ loop.index ~ "._rows || ' rows)'"]) -%}
{%- endfor -%}
{%- for column in not_null -%}
  {%- do checks.append([column ~ ' is null', dbt.string_literal(column ~ ' is null')]) -%}
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
  {%- do checks.append(['(' ~ outside | join(' or ') ~ ')', dbt.string_literal(dbt.escape_single_quotes(label))]) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
  {%- set literals = [] -%}
  {%- for value in values -%}
    {%- do literals.append(dbt.string_literal(dbt.escape_single_quotes(value)) if value is string else value | string) -%}
  {%- endfor -%}
  {%- set label = column ~ ' not in [' ~ values | join(', ') ~ ']' -%}
  {%- do checks.append([column ~ ' not in (' ~ literals | join(', ') ~ ')', dbt.string_literal(dbt.escape_single_quotes(label))]) -%}
{%- endfor -%}
{%- if not checks -%}
  {{ exceptions.raise_compiler_error("column_checks on " ~ model ~ ": give primary_key, not_null, ranges or accepted_values") }}
{%- endif %}
{%- for column in keys %}
{{ 'with' if loop.first else ',' }} _repeated_{{ loop.index }} as (
    select {{ column }} as _key, count(*) as _rows
    from {{ model }}
    group by {{ column }}
    having count(*) > 1
)
{%- endfor %}
select
    _checked.*,
    concat_ws('; '{% for condition, label in checks %}, case when {{ condition }} then {{ label }} end{% endfor %}) as failed_checks
from {{ model }} as _checked
{%- for column in keys %}
left join _repeated_{{ loop.index }} on _checked.{{ column }} = _repeated_{{ loop.index }}._key
{%- endfor %}
where {% for condition, label in checks %}{{ condition }}{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
