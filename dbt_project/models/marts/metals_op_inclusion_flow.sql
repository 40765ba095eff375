-- Peng et al. 2025 inclusion flow: one row per step, from every participant of both
-- cycles down to the analytic cohort (the last row).
{%- set sites = var('required_bmd_sites') | join(', ') | replace('_', ' ') %}
{%- set steps = [
    ('all_participants', 'All participants of NHANES 2013-2014 and 2017-March 2020 (DEMO_H, P_DEMO)', 'true'),
    ('women', 'Women (RIAGENDR = 2)', 'passes_step_2'),
    ('aged_50_plus', 'Aged 50 years or more (RIDAGEYR >= 50)', 'passes_step_3'),
    ('postmenopausal', 'Postmenopausal under rule "' ~ var('postmenopausal_rule') ~ '"', 'passes_step_4'),
    ('all_five_metals', 'Blood lead, cadmium, mercury, selenium and manganese all measured (PBCD)', 'passes_step_5'),
    ('bmd_all_sites', 'BMD measured at: ' ~ sites ~ ' (DXXFEM, DXXSPN)', 'passes_step_6'),
    ('complete_covariates', 'BMI, education, marital status, smoking, hypertension (' ~ var('hypertension_definition') ~ '), diabetes, parental osteoporosis and previous fracture known' ~ (', and the income-poverty ratio' if var('require_income_poverty_ratio') else ''), 'passes_step_7'),
] %}
{{ inclusion_flow(ref('int_metals_op_eligibility'), steps, [('n_osteoporosis', 'has_osteoporosis')]) }}
