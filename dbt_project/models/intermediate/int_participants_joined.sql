-- Every participant of both cycles with all components joined, and the study covariates
-- derived under the OPEN-choice vars (dbt_project.yml).
{%- set dk_as_no = var('dont_know_as') == 'no' %}
{%- set borderline = var('borderline_diabetes_as') %}
{%- set age_breaks = var('age_group_breaks') %}
{%- set bmi_breaks = var('bmi_group_breaks') %}

with demo as (select * from {{ ref('stg_nhanes__demographics') }}),
metals as (select * from {{ ref('stg_nhanes__blood_metals') }}),
femur as (select * from {{ ref('stg_nhanes__dxa_femur') }}),
spine as (select * from {{ ref('stg_nhanes__dxa_spine') }}),
body as (select * from {{ ref('stg_nhanes__body_measures') }}),
bp as (select * from {{ ref('stg_nhanes__blood_pressure_questionnaire') }}),
diabetes as (select * from {{ ref('stg_nhanes__diabetes_questionnaire') }}),
smoking as (select * from {{ ref('stg_nhanes__smoking') }}),
osq as (select * from {{ ref('stg_nhanes__osteoporosis_questionnaire') }}),
rhq as (select * from {{ ref('stg_nhanes__reproductive_health') }}),
cbc as (select * from {{ ref('stg_nhanes__complete_blood_count') }}),
cycles as (select * from {{ ref('cycles') }}),

joined as (
    select
        demo.*,
        metals.participant_id is not null as in_metals_file,
        metals.metals_subsample_weight,
        metals.blood_lead_ug_dl,
        metals.blood_cadmium_ug_l,
        metals.blood_mercury_ug_l,
        metals.blood_selenium_ug_l,
        metals.blood_manganese_ug_l,
        femur.femur_scan_status,
        femur.total_femur_bmd_g_cm2,
        femur.femoral_neck_bmd_g_cm2,
        spine.spine_scan_status,
        spine.lumbar_spine_bmd_g_cm2,
        body.bmi_kg_m2,
        bp.told_high_blood_pressure,
        diabetes.told_diabetes,
        smoking.smoked_100_cigarettes,
        osq.parent_told_osteoporosis,
        osq.parent_told_osteoporosis_unknown,
        osq.broken_hip, osq.broken_hip_unknown,
        osq.broken_wrist, osq.broken_wrist_unknown,
        osq.broken_spine, osq.broken_spine_unknown,
        osq.other_fracture,
        osq.told_osteoporosis,
        rhq.regular_periods_past_12m,
        rhq.no_period_reason_code,
        rhq.age_at_last_period,
        cbc.hemoglobin_g_dl,
        cycles.combined_weight_factor
    from demo
    left join metals using (participant_id)
    left join femur using (participant_id)
    left join spine using (participant_id)
    left join body using (participant_id)
    left join bp using (participant_id)
    left join diabetes using (participant_id)
    left join smoking using (participant_id)
    left join osq using (participant_id)
    left join rhq using (participant_id)
    left join cbc using (participant_id)
    left join cycles on cycles.cycle = demo.cycle
)

select
    *,
    -- combined 5.2-year weights (STUDY.md): metals subsample weight in 2013-2014, MEC weight in 2017-2020
    mec_weight * combined_weight_factor as combined_mec_weight,
    case cycle
        when '2013-2014' then metals_subsample_weight
        else mec_weight
    end * combined_weight_factor as combined_metals_weight,
    case
        when age_years < 50 then null
        when age_years < {{ age_breaks[0] }} then '50-{{ age_breaks[0] }}'
        when age_years < {{ age_breaks[1] }} then '{{ age_breaks[0] }}-{{ age_breaks[1] }}'
        else '>={{ age_breaks[1] }}'
    end as age_group,
    case
        when bmi_kg_m2 is null then null
        when bmi_kg_m2 < {{ bmi_breaks[0] }} then '<{{ bmi_breaks[0] }}'
        when bmi_kg_m2 < {{ bmi_breaks[1] }} then '{{ bmi_breaks[0] }}-{{ bmi_breaks[1] }}'
        else '>={{ bmi_breaks[1] }}'
    end as bmi_group,
    told_high_blood_pressure as hypertension,
    case told_diabetes
        when 'yes' then true
        when 'no' then false
        {%- if borderline == 'yes' %}
        when 'borderline' then true
        {%- elif borderline == 'no' %}
        when 'borderline' then false
        {%- endif %}
    end as diabetes,
    smoked_100_cigarettes as ever_smoked,
    {%- if dk_as_no %}
    case when parent_told_osteoporosis_unknown then false else parent_told_osteoporosis end
    {%- else %}
    parent_told_osteoporosis
    {%- endif %} as parental_osteoporosis,
    case
        when broken_hip or broken_wrist or broken_spine then true
        {%- if dk_as_no %}
        when coalesce(broken_hip = false or broken_hip_unknown, false)
         and coalesce(broken_wrist = false or broken_wrist_unknown, false)
         and coalesce(broken_spine = false or broken_spine_unknown, false) then false
        {%- else %}
        when broken_hip = false and broken_wrist = false and broken_spine = false then false
        {%- endif %}
    end as previous_fracture
from joined
