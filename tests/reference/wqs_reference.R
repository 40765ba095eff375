# Reference numbers for analysis/methods/wqs.py: gWQS 3.x's algorithm (gwqs_rank, values.0,
# wqsGaussBin, optim BFGS, model.fit, the signal-weighted mean) written out in base R, with
# the split and bootstrap samples of tests/reference/wqs_split.csv / wqs_bootstrap.csv.
# gWQS itself is not installable here (CRAN is unreachable); this follows its 3.0.x source.
# Run from the project root: Rscript tests/reference/wqs_reference.R
d <- read.csv("tests/reference/wqs_data.csv")
split <- read.csv("tests/reference/wqs_split.csv")
boot <- read.csv("tests/reference/wqs_bootstrap.csv")
mix <- c("m1", "m2", "m3", "m4")
rank_q <- function(x, q) {
  qi <- unique(quantile(x, probs = seq(0, 1, by = 1/q), na.rm = TRUE))
  if (length(qi) == 1) qi <- c(-Inf, qi) else { qi[1] <- -Inf; qi[length(qi)] <- Inf }
  cut(x, breaks = qi, labels = FALSE, include.lowest = TRUE) - 1
}
Q <- sapply(mix, function(m) rank_q(d[[m]], 4))
valid <- split$validation[match(d$id, split$id)]
it <- which(!valid); iv <- which(valid)
run <- function(fam, yname, b1_pos, b1_constr, signal) {
  family <- get(fam)()
  d$wqs <- 0
  form <- as.formula(paste(yname, "~ wqs + sex + age"))
  fit0 <- glm(form, data = d, family = family)
  init <- c(coef(fit0), rep(sqrt(1/4), 4))
  init["wqs"] <- if (b1_pos) 1e-4 else -1e-4
  Xm <- model.matrix(form, d)
  Y <- d[[yname]]
  objfn <- function(p, bX, bY, bQ) {
    if (b1_constr) p["wqs"] <- if (b1_pos) abs(p["wqs"]) else -abs(p["wqs"])
    w <- p[5:8]^2; w <- w / sum(w)
    bX[, "wqs"] <- as.numeric(bQ %*% w)
    sum(family$dev.resids(y = bY, mu = family$linkinv(as.numeric(bX %*% p[1:4])), wt = rep(1, length(bY))))
  }
  res <- lapply(1:max(boot$boot), function(b) {
    ids <- boot$id[boot$boot == b][order(boot$draw[boot$boot == b])]
    rows <- match(ids, d$id)
    o <- optim(init, objfn, method = "BFGS", control = list(maxit = 2000, reltol = 1e-9),
               bX = Xm[rows, ], bY = Y[rows], bQ = Q[rows, ])
    w <- o$par[5:8]^2 / sum(o$par[5:8]^2)
    bd <- data.frame(Xm[rows, ]); bd$wqs <- as.numeric(Q[rows, ] %*% w); bd$Y <- Y[rows]
    m <- summary(glm(Y ~ 0 + ., data = bd, family = family))$coefficients
    c(w, b1 = m["wqs", 1], se = m["wqs", 2], stat = m["wqs", 3], conv = o$convergence)
  })
  bres <- as.data.frame(do.call(rbind, res))
  sel <- (if (b1_pos) bres$b1 > 0 else bres$b1 < 0) & bres$conv == 0
  sig <- switch(signal, t2 = bres$stat^2, abst = abs(bres$stat), one = rep(1, nrow(bres)))
  mw <- apply(bres[sel, 1:4], 2, weighted.mean, sig[sel])
  d$wqs <- as.numeric(Q %*% mw)
  final <- glm(form, data = d[iv, ], family = family)
  list(boot_weights = unname(as.matrix(bres[, 1:4])), boot_b1 = bres$b1, boot_stat = bres$stat,
       boot_conv = bres$conv, weights = unname(mw), final_estimate = unname(coef(final)),
       final_se = unname(sqrt(diag(vcov(final)))))
}
out <- list(
  scores = unname(Q),
  binomial_positive_free = run("binomial", "y", TRUE, FALSE, "t2"),
  binomial_negative_constrained = run("binomial", "y", FALSE, TRUE, "t2"),
  gaussian_positive_abst = run("gaussian", "ycont", TRUE, FALSE, "abst"),
  r_version = R.version.string
)
writeLines(jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE), "tests/reference/wqs_reference.json")
