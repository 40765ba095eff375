# R bkmr 0.2.2 on the SYNTHETIC data of tests/benchmarks/bench_bkmr.py (its frame(), written to
# tests/reference/bkmr_bench_data.csv): the anchor of the BKMR benchmark, measured rather than
# recorded. bkmr is not on CRAN's mirror here nor in Debian; it was installed from its public
# source at the commit of its 0.2.2 CRAN submission (github.com/jenfb/bkmr, SHA 2012804 in
# CRAN-SUBMISSION) with its dependencies from Debian bookworm:
#   apt-get install r-base-core r-cran-dplyr r-cran-magrittr r-cran-nlme r-cran-fields \
#     r-cran-truncnorm r-cran-tidyr r-cran-mass r-cran-tmvtnorm r-cran-tibble libopenblas0-pthread
#   R CMD INSTALL <bkmr source at that commit>
# (OpenBLAS: with Debian's reference BLAS R ran 0.53 it/s, with OpenBLAS on one thread ~4.)
# Run from the project root (one BLAS thread, nothing else running):
#   OPENBLAS_NUM_THREADS=1 Rscript tests/reference/bkmr_r_reference.R 2000
# Writes tests/reference/bkmr_r_reference.json (settings, wall time, PIPs) and
# tests/reference/bkmr_r_draws.csv.gz (λ, β, r, δ after burn-in), whose bulk ESS the
# benchmark computes with the same estimator it applies to our chains.
args <- commandArgs(trailingOnly = TRUE)
iter <- if (length(args) >= 1) as.integer(args[1]) else 2000L
suppressPackageStartupMessages(library(bkmr))
d <- read.csv("tests/reference/bkmr_bench_data.csv")
Z <- as.matrix(d[, paste0("z", 1:5)])
X <- as.matrix(d[, paste0("x", 1:8)])
set.seed(5)
wall <- system.time(
  fit <- kmbayes(y = d$y, Z = Z, X = X, iter = iter, family = "binomial", varsel = TRUE,
                 est.h = TRUE, verbose = FALSE)
)[["elapsed"]]
keep <- (iter %/% 2 + 1):iter  # bkmr's default burn-in: the first half
draws <- data.frame(lambda = fit$lambda[keep, 1])
for (k in seq_len(ncol(X))) draws[[sprintf("beta[%d]", k)]] <- fit$beta[keep, k]
for (m in seq_len(ncol(Z))) draws[[sprintf("r[%d]", m)]] <- fit$r[keep, m]
for (m in seq_len(ncol(Z))) draws[[sprintf("delta[%d]", m)]] <- fit$delta[keep, m]
con <- gzfile("tests/reference/bkmr_r_draws.csv.gz", "w")
write.csv(draws, con, row.names = FALSE)
close(con)
pips <- ExtractPIPs(fit)
lambda_moves <- mean(diff(fit$lambda[keep, 1]) != 0)
json <- sprintf(paste0(
  '{\n  "bkmr": "%s",\n  "R": "%s",\n  "iter": %d,\n  "burn_in": %d,\n  "seed": 5,\n',
  '  "family": "binomial", "varsel": true, "est_h": true,\n',
  '  "wall_seconds": %.3f,\n  "iterations_per_second": %.4f,\n',
  '  "accept_lambda_after_burn_in": %.4f,\n  "pips": {%s}\n}\n'),
  as.character(packageVersion("bkmr")), R.version.string, iter, iter %/% 2, wall, iter / wall,
  lambda_moves, paste(sprintf('"%s": %.4f', pips$variable, pips$PIP), collapse = ", "))
writeLines(json, "tests/reference/bkmr_r_reference.json")
cat(json)
