-- Study 1's rows before the complete-case step: women aged 50+, postmenopausal, with all five
-- metals and BMD at the required sites (inclusion step 6), covariates as observed (null where
-- missing), for the multiple-imputation sensitivity analysis instead of complete cases.
-- Metal quartiles are cut within these rows. `has_complete_covariates` marks the cohort's rows.
{{ metals_op_rows('passes_step_6') }}
