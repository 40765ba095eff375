-- Every participant of both cycles with all components joined, and the study covariates
-- derived under the OPEN-choice vars (dbt_project.yml). Each choice's candidates are kept as
-- columns (hypertension_told, hypertension_measured, ...) so that `nhanes-bone reproduce`
-- can score every definition from one table; the var picks the one the cohort uses.
{%- for name in ['hypertension_definition', 'fracture_definition', 'marital_mapping',
                'borderline_diabetes_as', 'dont_know_as'] %}
{{ require_open_choice(name) }}
{%- endfor %}
{%- set bmi_breaks = var('bmi_group_breaks') %}

with demo as (select * from {{ ref('stg_nhanes__demographics') }}),
metals as (select * from {{ ref('stg_nhanes__blood_metals') }}),
femur as (select * from {{ ref('stg_nhanes__dxa_femur') }}),
spine as (select * from {{ ref('stg_nhanes__dxa_spine') }}),
body as (select * from {{ ref('stg_nhanes__body_measures') }}),
bp as (select * from {{ ref('stg_nhanes__blood_pressure_questionnaire') }}),
bp_measured as (select * from {{ ref('stg_nhanes__blood_pressure_measured') }}),
diabetes as (select * from {{ ref('stg_nhanes__diabetes_questionnaire') }}),
smoking as (select * from {{ ref('stg_nhanes__smoking') }}),
osq as (select * from {{ ref('stg_nhanes__osteoporosis_questionnaire') }}),
rhq as (select * from {{ ref('stg_nhanes__reproductive_health') }}),
cbc as (select * from {{ ref('stg_nhanes__complete_blood_count') }}),
cotinine as (select * from {{ ref('stg_nhanes__cotinine') }}),
biochemistry as (select * from {{ ref('stg_nhanes__biochemistry') }}),
treatment as (select * from {{ ref('int_osteoporosis_treatment') }}),
cycles as (select * from {{ ref('cycles') }}),

joined as (
    select
        demo.* exclude (marital_code, marital_status),
        demo.marital_code as marital_code_harmonised,
        metals.participant_id is not null as in_metals_file,
        metals.metals_subsample_weight,
        metals.blood_lead_ug_dl,
        metals.blood_cadmium_ug_l,
        metals.blood_mercury_ug_l,
        metals.blood_selenium_ug_l,
        metals.blood_manganese_ug_l,
        metals.lead_below_lod,
        metals.cadmium_below_lod,
        metals.mercury_below_lod,
        metals.selenium_below_lod,
        metals.manganese_below_lod,
        femur.femur_scan_status,
        femur.total_femur_bmd_g_cm2,
        femur.femoral_neck_bmd_g_cm2,
        spine.spine_scan_status,
        spine.lumbar_spine_bmd_g_cm2 as lumbar_spine_total_bmd_g_cm2,
        spine.lumbar_spine_mean_l1_l4_bmd_g_cm2,
        body.bmi_kg_m2,
        bp.told_high_blood_pressure,
        bp.told_high_blood_pressure_twice,
        bp.told_to_take_bp_medicine,
        bp.taking_bp_medicine,
        bp_measured.systolic_mean_mmhg,
        bp_measured.diastolic_mean_mmhg,
        diabetes.told_diabetes,
        smoking.smoked_100_cigarettes,
        osq.parent_told_osteoporosis,
        osq.parent_told_osteoporosis_unknown,
        osq.broken_hip, osq.broken_hip_unknown,
        osq.broken_wrist, osq.broken_wrist_unknown,
        osq.broken_spine, osq.broken_spine_unknown,
        osq.other_fracture, osq.other_fracture_unknown,
        osq.told_osteoporosis,
        rhq.regular_periods_past_12m,
        rhq.no_period_reason_code,
        rhq.age_at_last_period,
        cbc.hemoglobin_g_dl,
        cotinine.serum_cotinine_ng_ml,
        cotinine.cotinine_below_lod,
        biochemistry.serum_creatinine_mg_dl,
        biochemistry.creatinine_method,
        treatment.on_bone_medicine,
        treatment.bone_medicines,
        treatment.prescribed_osteoporosis_medicine,
        treatment.osteoporosis_treatment,
        cycles.combined_weight_factor
    from demo
    left join metals using (participant_id)
    left join femur using (participant_id)
    left join spine using (participant_id)
    left join body using (participant_id)
    left join bp using (participant_id)
    left join bp_measured using (participant_id)
    left join diabetes using (participant_id)
    left join smoking using (participant_id)
    left join osq using (participant_id)
    left join rhq using (participant_id)
    left join cbc using (participant_id)
    left join cotinine using (participant_id)
    left join biochemistry using (participant_id)
    left join treatment using (participant_id)
    left join cycles on cycles.cycle = demo.cycle
),

candidates as (
    select
        *,
        -- marital status: harmonised to the DMDMARTZ groups, or (dmdmartl_codes) the 2017-2020
        -- codes read as if they were DMDMARTL's, which puts DMDMARTZ 3 "never married" with
        -- code 3 "divorced"
        case
            when cycle = '2017-2020' and marital_code_as_published = 3 then 2
            else marital_code_harmonised
        end as marital_code_dmdmartl_codes,
        -- the hypertension candidates (null = unknown)
        told_high_blood_pressure as hypertension_told,
        case
            when told_high_blood_pressure = false then false
            else told_high_blood_pressure_twice
        end as hypertension_told_twice,
        case
            when taking_bp_medicine then true
            when told_high_blood_pressure = false or told_to_take_bp_medicine = false
                or taking_bp_medicine = false then false
        end as hypertension_treated,
        case
            when systolic_mean_mmhg >= 140 or diastolic_mean_mmhg >= 90 then true
            when systolic_mean_mmhg is not null and diastolic_mean_mmhg is not null then false
        end as hypertension_measured
    from joined
)

select
    *,
    {{ marital_code(var('marital_mapping')) }} as marital_code,
    {{ marital_status(marital_code(var('marital_mapping'))) }} as marital_status,
    -- combined 5.2-year weights (STUDY.md): metals subsample weight in 2013-2014, MEC weight in 2017-2020
    mec_weight * combined_weight_factor as combined_mec_weight,
    case cycle
        when '2013-2014' then metals_subsample_weight
        else mec_weight
    end * combined_weight_factor as combined_metals_weight,
    {{ age_group(var('age_group_breaks')) }} as age_group,
    {{ ckd_epi_2021('serum_creatinine_mg_dl', 'age_years', "sex = 'female'") }} as egfr_ml_min_1_73m2,
    case
        when bmi_kg_m2 is null then null
        when bmi_kg_m2 < {{ bmi_breaks[0] }} then '<{{ bmi_breaks[0] }}'
        when bmi_kg_m2 < {{ bmi_breaks[1] }} then '{{ bmi_breaks[0] }}-{{ bmi_breaks[1] }}'
        else '>={{ bmi_breaks[1] }}'
    end as bmi_group,
    {{ hypertension(var('hypertension_definition')) }} as hypertension,
    {{ diabetes(var('borderline_diabetes_as')) }} as diabetes,
    smoked_100_cigarettes as ever_smoked,
    {{ parental_osteoporosis(var('dont_know_as')) }} as parental_osteoporosis,
    {{ previous_fracture(var('fracture_definition'), var('dont_know_as')) }} as previous_fracture
from candidates
