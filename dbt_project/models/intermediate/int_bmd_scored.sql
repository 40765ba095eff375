-- T-scores per site against the young-adult female reference (seeds/tscore_reference.csv),
-- the lowest over the required sites, and the WHO bone status.
{%- set sites = var('required_bmd_sites') %}
with participants as (select * from {{ ref('int_participants_joined') }}),
reference as (select * from {{ ref('tscore_reference') }}),

ref as (
    select
        max(case when site = 'total_femur' and is_default then mean_g_cm2 end) as total_femur_mean,
        max(case when site = 'total_femur' and is_default then sd_g_cm2 end) as total_femur_sd,
        max(case when site = 'femoral_neck' and is_default then mean_g_cm2 end) as femoral_neck_mean,
        max(case when site = 'femoral_neck' and is_default then sd_g_cm2 end) as femoral_neck_sd,
        max(case when reference_id = '{{ var("spine_reference") }}' then mean_g_cm2 end) as lumbar_spine_mean,
        max(case when reference_id = '{{ var("spine_reference") }}' then sd_g_cm2 end) as lumbar_spine_sd
    from reference
),

scored as (
    select
        participant_id,
        cycle,
        total_femur_bmd_g_cm2,
        femoral_neck_bmd_g_cm2,
        lumbar_spine_bmd_g_cm2,
        (total_femur_bmd_g_cm2 - total_femur_mean) / total_femur_sd as total_femur_tscore,
        (femoral_neck_bmd_g_cm2 - femoral_neck_mean) / femoral_neck_sd as femoral_neck_tscore,
        (lumbar_spine_bmd_g_cm2 - lumbar_spine_mean) / lumbar_spine_sd as lumbar_spine_tscore
    from participants
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
