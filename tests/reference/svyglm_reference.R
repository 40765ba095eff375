# Reference numbers for analysis/methods/survey.py, from R's survey package (Debian r-cran-survey).
# Regenerate: Rscript tests/reference/svyglm_reference.R  (run from the project root)
suppressPackageStartupMessages(library(survey))
d <- read.csv("tests/reference/svy_data.csv")
d$grp <- factor(d$grp)
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d)

out <- list()
tidy <- function(fit, design_based = TRUE) {
  s <- summary(fit)$coefficients
  list(
    terms = rownames(s),
    estimate = unname(s[, 1]),
    std_error = unname(s[, 2]),
    statistic = unname(s[, 3]),
    p_value = unname(s[, 4]),
    df_residual = fit$df.residual,
    ci_t = unname(confint(fit, df = fit$df.residual)),
    vcov = unname(as.matrix(vcov(fit)))
  )
}
out$binomial <- tidy(svyglm(y_bin ~ x1 + x2 + grp, design = des, family = quasibinomial()))
out$gaussian <- tidy(svyglm(y_cont ~ x1 + x2 + grp, design = des, family = gaussian()))
out$binomial_domain_grp_a <- tidy(svyglm(y_bin ~ x1 + x2, design = subset(des, grp == "a"), family = quasibinomial()))
out$gaussian_domain_x2_1 <- tidy(svyglm(y_cont ~ x1 + grp, design = subset(des, x2 == 1), family = gaussian()))
d_na <- d
d_na$x1[seq(5, nrow(d_na), by = 7)] <- NA
des_na <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d_na)
out$binomial_with_missing_x1 <- tidy(svyglm(y_bin ~ x1 + x2 + grp, design = des_na, family = quasibinomial()))
plain <- glm(y_bin ~ x1 + x2 + grp, data = d, family = binomial())
out$plain_binomial <- list(
  terms = names(coef(plain)), estimate = unname(coef(plain)),
  std_error = unname(sqrt(diag(vcov(plain)))), p_value = unname(summary(plain)$coefficients[, 4]),
  df_residual = plain$df.residual
)
plain_g <- glm(y_cont ~ x1 + x2 + grp, data = d, family = gaussian())
out$plain_gaussian <- list(
  terms = names(coef(plain_g)), estimate = unname(coef(plain_g)),
  std_error = unname(sqrt(diag(vcov(plain_g)))), p_value = unname(summary(plain_g)$coefficients[, 4]),
  df_residual = plain_g$df.residual
)
# a domain that leaves PSUs without members (x1 > 2.2: 15 of 18 PSUs; x1 > 2.4: a whole
# stratum empty): they still count in the variance, with zero totals
out$binomial_domain_empty_psus <- tidy(svyglm(y_bin ~ x2 + grp, design = subset(des, x1 > 2.2), family = quasibinomial()))
out$gaussian_domain_empty_stratum <- tidy(svyglm(y_cont ~ x1 + x2, design = subset(des, x1 > 2.4), family = gaussian()))
# a factor level absent from the domain: its column is aliased, NA in coef(), absent from summary()
with_na <- function(fit) c(tidy(fit), list(coef_terms = names(coef(fit)), coef = unname(coef(fit))))
out$gaussian_aliased_in_domain <- with_na(svyglm(y_cont ~ x1 + grp, design = subset(des, grp != "c"), family = gaussian()))
out$binomial_aliased_in_domain <- with_na(svyglm(y_bin ~ x1 + grp + x2, design = subset(des, grp != "b"), family = quasibinomial()))
d$x1_twice <- 2 * d$x1
out$plain_gaussian_aliased <- {
  g <- glm(y_cont ~ x1 + x1_twice + x2, data = d, family = gaussian())
  list(coef_terms = names(coef(g)), coef = unname(coef(g)), terms = rownames(summary(g)$coefficients),
       std_error = unname(summary(g)$coefficients[, 2]), df_residual = g$df.residual)
}
# regTermTest (Wald F on the design's df) for an interaction
inter <- svyglm(y_bin ~ x1 * grp + x2, design = des, family = quasibinomial())
rt <- regTermTest(inter, ~ x1:grp)
out$regterm_interaction <- c(tidy(inter), list(
  test_terms = c("x1:grpb", "x1:grpc"), Ftest = unname(rt$Ftest), df = unname(rt$df),
  ddf = unname(rt$ddf), p = unname(rt$p)))
out$r_version <- R.version.string
out$survey_version <- as.character(packageVersion("survey"))
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "tests/reference/svyglm_reference.json")
