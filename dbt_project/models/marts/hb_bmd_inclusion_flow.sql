-- Study 2 inclusion flow: one row per step, from every participant of both cycles to the
-- hemoglobin-BMD cohort, with counts by sex and osteoporosis (T < -2.5 at any site).
{%- set steps = [
    ('all_participants', 'All participants of NHANES 2013-2014 and 2017-March 2020 (DEMO_H, P_DEMO)', 'true'),
    ('aged_50_plus', 'Men and women aged 50 years or more (RIDAGEYR >= 50)', 'passes_step_2'),
    ('hemoglobin_measured', 'Hemoglobin measured (LBXHGB, CBC)', 'passes_step_3'),
    ('bmd_all_sites', 'BMD at total femur, femoral neck and lumbar spine (DXXFEM, DXXSPN)', 'passes_step_4'),
    ('complete_covariates', 'BMI, smoking and diabetes known', 'passes_step_5'),
] %}
{{ inclusion_flow(ref('int_hb_bmd_eligibility'), steps, [
    ('n_men', "sex = 'male'"),
    ('n_women', "sex = 'female'"),
    ('n_osteoporosis', 'has_osteoporosis_strict'),
]) }}
