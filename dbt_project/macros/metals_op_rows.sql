{#- Study 1's analysis rows: the women passing `step` (a flag of int_metals_op_eligibility)
    with the design, covariates, metals (raw, ln, and quartile cut within these rows), the
    sensitivity covariates, BMD and T-scores. metals_op_cohort passes step 7 (complete
    covariates); metals_op_imputation_frame stops at step 6, so covariates may be null. -#}
{% macro metals_op_rows(step) -%}
with eligible as (
    select participant_id, has_complete_covariates from {{ ref('int_metals_op_eligibility') }} where {{ step }}
),
p as (select * from {{ ref('int_participants_joined') }}),
bmd as (select * from {{ ref('int_bmd_scored') }}),

base as (
    select
        p.participant_id,
        p.cycle,
        eligible.has_complete_covariates,
        p.design_stratum,
        p.design_psu,
        p.masked_stratum,
        p.masked_psu,
        p.mec_weight,
        p.metals_subsample_weight,
        p.combined_mec_weight,
        p.combined_metals_weight,
        p.age_years,
        p.age_group,
        p.bmi_kg_m2,
        p.bmi_group,
        p.race_ethnicity_code,
        p.race_ethnicity,
        p.education_code,
        p.education,
        p.marital_code,
        p.marital_status,
        p.income_poverty_ratio,
        p.ever_smoked,
        p.hypertension,
        p.diabetes,
        p.parental_osteoporosis,
        p.previous_fracture,
        p.blood_lead_ug_dl,
        p.blood_cadmium_ug_l,
        p.blood_mercury_ug_l,
        p.blood_selenium_ug_l,
        p.blood_manganese_ug_l,
        p.lead_below_lod,
        p.cadmium_below_lod,
        p.mercury_below_lod,
        p.selenium_below_lod,
        p.manganese_below_lod,
        -- sensitivity-analysis covariates (not inclusion criteria: null where not measured)
        p.serum_cotinine_ng_ml,
        ln(p.serum_cotinine_ng_ml) as ln_serum_cotinine,
        p.cotinine_below_lod,
        p.serum_creatinine_mg_dl,
        p.creatinine_method,
        p.egfr_ml_min_1_73m2,
        p.on_bone_medicine,
        p.bone_medicines,
        p.prescribed_osteoporosis_medicine,
        coalesce(p.osteoporosis_treatment, false) as osteoporosis_treatment,
        bmd.total_femur_bmd_g_cm2,
        bmd.femoral_neck_bmd_g_cm2,
        bmd.lumbar_spine_bmd_g_cm2,
        bmd.total_femur_tscore,
        bmd.femoral_neck_tscore,
        bmd.lumbar_spine_tscore,
        bmd.lowest_tscore,
        bmd.bone_status,
        bmd.has_osteoporosis
    from eligible
    inner join p using (participant_id)
    inner join bmd using (participant_id)
),

cuts as (
    select
        {{ quartile_cuts('blood_lead_ug_dl') }} as lead_cuts,
        {{ quartile_cuts('blood_cadmium_ug_l') }} as cadmium_cuts,
        {{ quartile_cuts('blood_mercury_ug_l') }} as mercury_cuts,
        {{ quartile_cuts('blood_selenium_ug_l') }} as selenium_cuts,
        {{ quartile_cuts('blood_manganese_ug_l') }} as manganese_cuts
    from base
)

select
    base.*,
    ln(blood_lead_ug_dl) as ln_blood_lead,
    ln(blood_cadmium_ug_l) as ln_blood_cadmium,
    ln(blood_mercury_ug_l) as ln_blood_mercury,
    ln(blood_selenium_ug_l) as ln_blood_selenium,
    ln(blood_manganese_ug_l) as ln_blood_manganese,
    {{ quartile('blood_lead_ug_dl', 'lead_cuts') }} as lead_quartile,
    {{ quartile('blood_cadmium_ug_l', 'cadmium_cuts') }} as cadmium_quartile,
    {{ quartile('blood_mercury_ug_l', 'mercury_cuts') }} as mercury_quartile,
    {{ quartile('blood_selenium_ug_l', 'selenium_cuts') }} as selenium_quartile,
    {{ quartile('blood_manganese_ug_l', 'manganese_cuts') }} as manganese_quartile
from base
cross join cuts
order by participant_id
{%- endmacro %}
