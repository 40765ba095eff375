"""BKMR sampler core: each update against a closed form or a direct evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from analysis.bkmr import (
    BkmrSettings,
    Factor,
    Fit,
    Kernel,
    beta_conditional,
    effective_sample_size,
    lambda_log_ratio,
    log_prior_r,
    propose_r_delta,
    run_chain,
    split_rhat,
    tmvn_sweep,
    truncated_normal,
)


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(3)
    n = 30
    z = rng.normal(size=(n, 3))
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    return rng, z, x


def test_beta_conditional_is_gls(small):
    """β | y* ~ N((XᵀV⁻¹X)⁻¹XᵀV⁻¹y*, σ²(XᵀV⁻¹X)⁻¹) with V = I + λK, by explicit inverses."""
    rng, z, x = small
    k = Kernel(z).matrix(np.array([0.5, 1.0, 0.0]))
    v = np.eye(len(z)) + 3.0 * k
    y = rng.normal(size=len(z))
    mean, cov = beta_conditional(x, y, Factor.of(3.0, k), 2.0)
    vi = np.linalg.inv(v)
    a = np.linalg.inv(x.T @ vi @ x)
    assert_allclose(mean, a @ x.T @ vi @ y, rtol=1e-9)
    assert_allclose(cov, 2.0 * a, rtol=1e-9)


def test_lambda_acceptance_ratio_is_the_log_posterior_difference(small):
    rng, z, x = small
    s = BkmrSettings()
    k = Kernel(z).matrix(np.array([0.3, 0.0, 2.0]))
    u = rng.normal(size=len(z))
    lam, lam_star, sigsq = 4.0, 7.5, 1.3

    def log_post(value):
        v = sigsq * (np.eye(len(z)) + value * k)
        return stats.multivariate_normal(np.zeros(len(z)), v).logpdf(u) + stats.gamma(
            a=s.lambda_shape, scale=1 / s.lambda_rate
        ).logpdf(value)

    def log_q(to, frm):  # gamma proposal with mean = current, sd = jump
        return stats.gamma(a=(frm / s.lambda_jump) ** 2, scale=s.lambda_jump**2 / frm).logpdf(to)

    direct = log_post(lam_star) - log_post(lam) + log_q(lam, lam_star) - log_q(lam_star, lam)
    ours = lambda_log_ratio(
        lam, lam_star, Factor.of(lam, k.copy()), Factor.of(lam_star, k.copy()), u, sigsq, s
    )
    assert ours == pytest.approx(direct, rel=1e-9)


def test_r_prior_and_refine_ratio():
    """1/r ~ U(0, 100): p(r) = r⁻²/100 for r > 0.01; a refine move's ratio is the prior ratio."""
    s = BkmrSettings()
    assert log_prior_r(0.5, s) == pytest.approx(math.log(0.5**-2 / 100))
    assert log_prior_r(0.005, s) == -math.inf
    rng = np.random.default_rng(1)
    r, delta = np.array([0.7, 0.0, 1.2]), np.array([1.0, 0.0, 1.0])
    for _ in range(20):
        r_star, d_star, log_ratio = propose_r_delta(r, delta, s, rng)
        if r_star is None:
            continue
        changed = np.flatnonzero((r_star != r) | (d_star != delta))
        assert len(changed) == 1
        if (d_star == delta).all():  # refine
            j = changed[0]
            assert log_ratio == pytest.approx(log_prior_r(r_star[j], s) - log_prior_r(r[j], s))
        else:  # switch: r_m is 0 exactly when δ_m is 0
            assert ((r_star == 0) == (d_star == 0)).all()


def test_truncated_normal_draws_stay_on_their_side():
    rng = np.random.default_rng(2)
    mean = rng.normal(0, 3, 5000)
    positive = rng.random(5000) < 0.5
    draws = truncated_normal(mean, np.ones(5000), positive, rng)
    assert (draws[positive] >= 0).all() and (draws[~positive] <= 0).all()
    # one-sided N(0,1) truncated to (0, ∞) has mean √(2/π)
    zero = truncated_normal(np.zeros(20000), np.ones(20000), np.ones(20000, dtype=bool), rng)
    assert zero.mean() == pytest.approx(math.sqrt(2 / math.pi), abs=0.02)
    k = Kernel(rng.normal(size=(40, 2))).matrix(np.array([1.0, 1.0]))
    precision = np.linalg.inv(np.eye(40) + 2 * k)
    sign = rng.random(40) < 0.5
    y = tmvn_sweep(np.where(sign, 0.1, -0.1), np.zeros(40), precision, sign, rng)
    assert (y[sign] >= 0).all() and (y[~sign] <= 0).all()


def test_prior_only_run_reproduces_the_priors():
    """Without a likelihood the chain must sample the priors: λ ~ Gamma(mean 10, sd 10),
    δ ~ Bernoulli(π) with π ~ Beta(1, 1) (so P(δ = 1) = 1/2), 1/r ~ U(0, 100) when δ = 1."""
    rng = np.random.default_rng(4)
    n = 10
    z, x = rng.normal(size=(n, 3)), np.ones((n, 1))
    chain = run_chain(rng.normal(size=n), z, x, BkmrSettings(iterations=150000, prior_only=True), seed=5)
    lam = chain.lam[10000:]
    # the λ chain mixes slowly near 0 (gamma proposals with shape (λ/10)²): judge by its ESS
    se = 10 / math.sqrt(effective_sample_size(lam))
    assert abs(lam.mean() - 10) < 4 * se
    assert lam.std() == pytest.approx(10, rel=0.15)
    assert chain.delta[10000:].mean() == pytest.approx(0.5, abs=0.05)
    inv_r = 1 / chain.r[10000:][chain.delta[10000:] == 1]
    assert inv_r.mean() == pytest.approx(50, rel=0.05)


def test_planted_exposure_response_is_found():
    rng = np.random.default_rng(1)
    n = 200
    z = rng.normal(size=(n, 4))
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    h = np.sin(z[:, 0]) + 0.25 * z[:, 1] ** 2
    y = h + x @ np.array([0.5, 1.0]) + rng.normal(0, 0.5, n)
    chain = run_chain(y, z, x, BkmrSettings(iterations=1500), seed=1)
    fit = Fit(z, x, [chain], BkmrSettings())
    pips = fit.pips()
    assert pips[0] > 0.9 and pips[1] > 0.9 and pips[2] < 0.5 and pips[3] < 0.5
    m, grid, mean, sd = fit.univariate(20)[0]
    truth = np.sin(grid)
    # h is identified up to a constant shared with the intercept: compare centred curves
    assert np.mean(np.abs((mean - mean.mean()) - (truth - truth.mean())) < 2.5 * sd + 0.1) > 0.8
    assert fit.post("beta").mean(axis=0)[1] == pytest.approx(1.0, abs=0.15)


def test_same_seed_same_chain_and_diagnostics():
    rng = np.random.default_rng(6)
    n = 40
    z, x = rng.normal(size=(n, 2)), np.ones((n, 1))
    y = (z[:, 0] + rng.normal(size=n) > 0).astype(float)
    s = BkmrSettings(family="binomial", iterations=200)
    a, b = run_chain(y, z, x, s, seed=9), run_chain(y, z, x, s, seed=9)
    assert_allclose(a.lam, b.lam)
    assert_allclose(a.r, b.r)
    white = np.random.default_rng(0).normal(size=4000)
    assert effective_sample_size(white) == pytest.approx(4000, rel=0.15)
    sticky = np.repeat(white[:400], 10)
    assert effective_sample_size(sticky) < 800
    assert split_rhat([white[:2000], white[2000:]]) == pytest.approx(1.0, abs=0.01)
    assert split_rhat([white[:2000], white[2000:] + 3]) > 1.5
