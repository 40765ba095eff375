{#- The table materialization of a warehouse that is always built whole in a work copy and swapped
    in as one file (nhanes_bone.core.warehouse.atomic_rebuild): one `create or replace table ... as`
    per model, in its own transaction.

    dbt-duckdb's `table` materialization builds each model under a temporary name, renames the old
    table to a backup, renames the new one in and drops the backup (and handles indexes, foreign
    keys, grants), so that a reader never sees a half-replaced table. Here no reader can open the
    work copy, and a failed build throws the copy away, so that protection buys nothing, and its
    macro calls cost ~40 ms a model on these machines (≈ 1.2 s of the genuine build's 31 models).
    Hooks and persist_docs are honoured as dbt's own materialization honours them. -#}
{% materialization rebuilt_table, adapter="duckdb" %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {% call statement('main') -%}
    create or replace table {{ target_relation }} as (
      {{ compiled_code }}
    )
  {%- endcall %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
