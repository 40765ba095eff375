# Reference numbers for analysis/methods/survey_tests.py, from R's survey package (Debian r-cran-survey).
# Regenerate: Rscript tests/reference/svytests_reference.R  (run from the project root)
suppressPackageStartupMessages(library(survey))
d <- read.csv("tests/reference/svy_data.csv")
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = d)
dom <- subset(des, x1 > 0)
chisq <- function(formula, design) {
  t <- svychisq(formula, design)
  list(statistic = unname(t$statistic), ndf = unname(t$parameter[1]), ddf = unname(t$parameter[2]),
       p_value = unname(t$p.value))
}
ttest <- function(formula, design) {
  t <- svyttest(formula, design)
  list(difference = unname(t$estimate), statistic = unname(t$statistic), df = unname(t$parameter),
       p_value = unname(t$p.value))
}
mean_se <- function(formula, design) {
  m <- svymean(formula, design, na.rm = TRUE)
  list(mean = unname(coef(m)), se = as.numeric(SE(m)))
}
out <- list(
  versions = list(r = R.version.string, survey = as.character(packageVersion("survey"))),
  chisq_grp_ybin = chisq(~grp + y_bin, des),
  chisq_x2_ybin = chisq(~x2 + y_bin, des),
  chisq_grp_ybin_domain = chisq(~grp + y_bin, dom),
  ttest_ycont_ybin = ttest(y_cont ~ y_bin, des),
  ttest_x1_x2_domain = ttest(y_cont ~ x2, dom),
  mean_ycont = mean_se(~y_cont, des),
  mean_ycont_domain = mean_se(~y_cont, dom),
  mean_ybin_domain = mean_se(~y_bin, dom)
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "tests/reference/svytests_reference.json")
