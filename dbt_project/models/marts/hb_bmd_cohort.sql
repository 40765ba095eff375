-- Study 2 cohort: adults 50+ of both sexes with hemoglobin, BMD at the three sites and
-- covariates; one row per participant. Built from the same staging and intermediate
-- models as study 1.
with eligible as (
    select participant_id, has_osteoporosis_strict
    from {{ ref('int_hb_bmd_eligibility') }}
    where passes_step_5
),
p as (select * from {{ ref('int_participants_joined') }}),
bmd as (select * from {{ ref('int_bmd_scored') }})

select
    p.participant_id,
    p.cycle,
    p.sex,
    p.design_stratum,
    p.design_psu,
    p.mec_weight,
    p.combined_mec_weight,
    p.age_years,
    p.bmi_kg_m2,
    p.bmi_group,
    p.race_ethnicity_code,
    p.race_ethnicity,
    p.education,
    p.ever_smoked,
    p.diabetes,
    p.hypertension,
    p.hemoglobin_g_dl,
    bmd.total_femur_bmd_g_cm2,
    bmd.femoral_neck_bmd_g_cm2,
    bmd.lumbar_spine_bmd_g_cm2,
    bmd.total_femur_tscore,
    bmd.femoral_neck_tscore,
    bmd.lumbar_spine_tscore,
    least(bmd.total_femur_tscore, bmd.femoral_neck_tscore, bmd.lumbar_spine_tscore) as lowest_tscore,
    least(bmd.total_femur_tscore, bmd.femoral_neck_tscore, bmd.lumbar_spine_tscore) < -1 as has_low_bmd,
    eligible.has_osteoporosis_strict as has_osteoporosis
from eligible
inner join p using (participant_id)
inner join bmd using (participant_id)
order by p.participant_id
