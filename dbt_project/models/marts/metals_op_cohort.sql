-- The analytic cohort of Peng et al. 2025: one row per included woman, with the
-- design, covariates, metals (raw, ln, and quartile within this cohort), BMD and T-scores.
{{ metals_op_rows('passes_step_7') }}
