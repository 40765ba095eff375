-- Study 2 (hemoglobin and BMD, the IMOS design on NHANES) inclusion steps as cumulative
-- flags: adults 50+ of both sexes with hemoglobin, BMD at all three sites and covariates.
-- Osteoporosis here is the lowest T-score < -2.5 (strict, as the IMOS paper), low BMD < -1.
with p as (select * from {{ ref('int_participants_joined') }}),
bmd as (select * from {{ ref('int_bmd_scored') }}),

flags as (
    select
        p.participant_id,
        p.cycle,
        p.sex,
        p.age_years >= 50 as is_50_plus,
        p.hemoglobin_g_dl is not null as has_hemoglobin,
        bmd.total_femur_bmd_g_cm2 is not null
            and bmd.femoral_neck_bmd_g_cm2 is not null
            and bmd.lumbar_spine_bmd_g_cm2 is not null as has_bmd_all_sites,
        p.bmi_kg_m2 is not null
            and p.ever_smoked is not null
            and p.diabetes is not null as has_complete_covariates,
        least(bmd.total_femur_tscore, bmd.femoral_neck_tscore, bmd.lumbar_spine_tscore) < -2.5
            as has_osteoporosis_strict
    from p
    inner join bmd using (participant_id)
)

select
    *,
    is_50_plus as passes_step_2,
    is_50_plus and has_hemoglobin as passes_step_3,
    is_50_plus and has_hemoglobin and has_bmd_all_sites as passes_step_4,
    is_50_plus and has_hemoglobin and has_bmd_all_sites and has_complete_covariates as passes_step_5
from flags
