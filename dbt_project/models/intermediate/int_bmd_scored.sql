-- T-scores per site against the young-adult female reference (seeds/tscore_reference.csv),
-- the lowest over the required sites, and the WHO bone status.
{%- set sites = var('required_bmd_sites') %}
{%- set spine_source = var('spine_bmd_source') %}
{%- set rounding = var('tscore_rounding') %}
{{ require_open_choice('spine_bmd_source') }}
{{ require_open_choice('tscore_rounding') }}
{%- for site in sites %}
{{ require_one_of('required_bmd_sites', site, ['total_femur', 'femoral_neck', 'lumbar_spine']) }}
{%- endfor %}
{%- if execute and model.resource_type != 'unit_test' %}
  {%- set spine_ids = run_query("select reference_id from " ~ ref('tscore_reference') ~ " where site = 'lumbar_spine'").columns[0].values() %}
  {{ require_one_of('spine_reference', var('spine_reference'), spine_ids | list) }}
{%- endif %}
{%- set digits = 1 if rounding == 'one_decimal' else 9 %}
with participants as (select * from {{ ref('int_participants_joined') }}),
reference as (select * from {{ ref('tscore_reference') }}),

ref as (
    select
        {{ femur_reference_columns() }},
        max(case when reference_id = '{{ var("spine_reference") }}' then mean_g_cm2 end) as lumbar_spine_mean,
        max(case when reference_id = '{{ var("spine_reference") }}' then sd_g_cm2 end) as lumbar_spine_sd
    from reference
),

measured as (
    select
        participant_id,
        cycle,
        total_femur_bmd_g_cm2,
        femoral_neck_bmd_g_cm2,
        {{ spine_bmd(spine_source) }} as lumbar_spine_bmd_g_cm2
    from participants
),

scored as (
    select
        measured.*,
        {{ tscore('total_femur_bmd_g_cm2', 'total_femur_mean', 'total_femur_sd', digits) }} as total_femur_tscore,
        {{ tscore('femoral_neck_bmd_g_cm2', 'femoral_neck_mean', 'femoral_neck_sd', digits) }} as femoral_neck_tscore,
        {{ tscore('lumbar_spine_bmd_g_cm2', 'lumbar_spine_mean', 'lumbar_spine_sd', digits) }} as lumbar_spine_tscore
    from measured
    cross join ref
),

lowest as (
    select
        *,
        -- least() skips nulls: the lowest T-score among the sites measured
        least({% for site in sites %}{{ site }}_tscore{% if not loop.last %}, {% endif %}{% endfor %}) as lowest_tscore,
        {% for site in sites %}{{ site }}_bmd_g_cm2 is not null{% if not loop.last %} and {% endif %}{% endfor %}
            as has_required_bmd
    from scored
)

select
    *,
    {{ bone_status('lowest_tscore') }} as bone_status,
    lowest_tscore <= -2.5 as has_osteoporosis
from lowest
