"""Bayesian kernel machine regression (BKMR), after R's bkmr 0.2.2, exact and fast.

``model``: settings, priors, kernel, proposals; ``fast``: the compiled loops; ``sampler``:
one chain; ``chains``: several seeded chains in parallel processes from dispersed starts;
``summaries``: bkmr's summaries ("approx" and "exact"); ``diagnostics``: ESS, split R̂,
acceptance, trace plots and warnings; ``outputs``: the CSV/JSON files of a fit.
"""

from analysis.methods.bkmr.chains import run_chains
from analysis.methods.bkmr.diagnostics import diagnose, effective_sample_size, split_rhat
from analysis.methods.bkmr.model import (
    BkmrSettings,
    Factor,
    Kernel,
    State,
    beta_conditional,
    cross_kernel,
    lambda_log_ratio,
    log_prior_r,
    propose_r_delta,
    refine_r,
    tmvn_sweep,
    truncated_normal,
)
from analysis.methods.bkmr.sampler import BkmrError, Chain, bkmr_start, run_chain
from analysis.methods.bkmr.summaries import Fit

__all__ = [
    "BkmrError",
    "BkmrSettings",
    "Chain",
    "Factor",
    "Fit",
    "Kernel",
    "State",
    "beta_conditional",
    "bkmr_start",
    "cross_kernel",
    "diagnose",
    "effective_sample_size",
    "lambda_log_ratio",
    "log_prior_r",
    "propose_r_delta",
    "refine_r",
    "run_chain",
    "run_chains",
    "split_rhat",
    "tmvn_sweep",
    "truncated_normal",
]
