"""BKMR sampler core: each update against a closed form or a direct evaluation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from bkmr_reference import Factor, Kernel, beta_conditional, lambda_log_ratio
from numpy.testing import assert_allclose
from scipy import stats

from analysis.methods.bkmr import BkmrSettings, Fit, run_chain
from analysis.methods.bkmr.diagnostics import bulk_ess, mean_ess, rank_rhat, tail_ess
from analysis.methods.bkmr.model import (
    interwoven_lambda,
    lambda_prior_proposal_ratio,
    log_prior_r,
    propose_r_delta,
    refine_r,
    tmvn_sweep,
    truncated_normal,
)
from analysis.methods.bkmr.sampler import _Linalg


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
    """1/r ~ U(0, 100): p(r) = r⁻²/100 for r ≥ 0.01. A refine move's ratio is the prior ratio
    plus the truncated-normal proposal's log q(r | r*) − log q(r* | r), evaluated with scipy."""
    s = BkmrSettings()
    assert log_prior_r(0.5, s) == pytest.approx(math.log(0.5**-2 / 100))
    assert log_prior_r(0.005, s) == -math.inf
    rng = np.random.default_rng(1)
    r, delta = np.array([0.7, 0.0, 0.02]), np.array([1.0, 0.0, 1.0])
    lo = 1 / s.r_b

    def log_q(to, frm):  # N(frm, 0.1²) truncated to (0.01, ∞)
        a = (lo - frm) / s.r_jump
        return stats.truncnorm(a, np.inf, loc=frm, scale=s.r_jump).logpdf(to)

    refines = switches = 0
    for _ in range(200):
        r_star, d_star, log_ratio, move = propose_r_delta(r, delta, s, rng)
        changed = np.flatnonzero((r_star != r) | (d_star != delta))
        assert len(changed) == 1
        j = changed[0]
        if move == 2:
            refines += 1
            assert (d_star == delta).all() and r_star[j] >= lo
            direct = (
                log_prior_r(r_star[j], s)
                - log_prior_r(r[j], s)
                + log_q(r[j], r_star[j])
                - log_q(r_star[j], r[j])
            )
            assert log_ratio == pytest.approx(direct, rel=1e-9, abs=1e-12)
        else:  # switch: r_m is 0 exactly when δ_m is 0
            switches += 1
            assert ((r_star == 0) == (d_star == 0)).all()
    assert refines > 50 and switches > 50
    # near the lower bound the truncation matters: the correction is not 0
    prop, correction = refine_r(0.02, s, np.random.default_rng(3))
    assert correction != 0 and prop >= lo


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
    se = 10 / math.sqrt(mean_ess([lam]))
    assert abs(lam.mean() - 10) < 4 * se
    assert lam.std() == pytest.approx(10, rel=0.15)
    assert chain.delta[10000:].mean() == pytest.approx(0.5, abs=0.05)
    inv_r = 1 / chain.r[10000:][chain.delta[10000:] == 1]
    assert inv_r.mean() == pytest.approx(50, rel=0.05)


def test_the_switch_move_is_the_correct_hastings_ratio_and_compat_is_bkmrs():
    """Under the prior alone, with π ~ Beta(1, 1) and M exposures, P(no exposure selected) =
    ∫(1 − π)^M dπ = 1/(M + 1): 1/4 for M = 3. bkmr 0.2.2's sign of the move-probability term
    (``--bkmr-compat``) makes the chain leave that state too fast: 1/4 is not its answer."""
    rng = np.random.default_rng(8)
    n = 10
    z, x = rng.normal(size=(n, 3)), np.ones((n, 1))
    y = rng.normal(size=n)
    none_selected = {}
    for compat in (False, True):
        s = BkmrSettings(iterations=60000, prior_only=True, bkmr_compat=compat, update_lambda=False)
        chain = run_chain(y, z, x, s, seed=3)
        none_selected[compat] = float((chain.delta[5000:].sum(axis=1) == 0).mean())
    assert none_selected[False] == pytest.approx(1 / 4, abs=0.03)
    assert none_selected[True] < 1 / 4 - 0.06


def test_planted_exposure_response_is_found():
    rng = np.random.default_rng(1)
    n = 200
    z = rng.normal(size=(n, 4))
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    h = np.sin(z[:, 0]) + 0.25 * z[:, 1] ** 2
    y = h + x @ np.array([0.5, 1.0]) + rng.normal(0, 0.5, n)
    chain = run_chain(y, z, x, BkmrSettings(iterations=1500), seed=1)
    fit = Fit(y, z, x, [chain], BkmrSettings())
    pips = fit.pips().PIP.to_numpy()
    assert pips[0] > 0.9 and pips[1] > 0.9 and pips[2] < 0.5 and pips[3] < 0.5
    curve = fit.univariate(20).query("variable == 'z1'")
    grid, mean, sd = curve.z.to_numpy(), curve.est.to_numpy(), curve.se.to_numpy()
    truth = np.sin(grid)
    # h is identified up to a constant shared with the intercept: compare centred curves
    # (bkmr's univariate curves are centred by default)
    assert abs(mean.mean()) < 1e-12
    assert np.mean(np.abs(mean - (truth - truth.mean())) < 2.5 * sd + 0.1) > 0.8
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
    assert bulk_ess([white]) == pytest.approx(4000, rel=0.15)
    assert tail_ess([white]) == pytest.approx(4000, rel=0.2)
    sticky = np.repeat(white[:400], 10)
    assert bulk_ess([sticky]) < 800
    assert rank_rhat([white[:2000], white[2000:]]) == pytest.approx(1.0, abs=0.01)
    assert rank_rhat([white[:2000], white[2000:] + 3]) > 1.5
    # one chain: R̂ compares its halves
    assert rank_rhat([np.r_[white[:2000], white[2000:] + 3]]) > 1.5


def test_bulk_ess_of_an_ar1_chain_is_its_closed_form():
    """AR(1) with φ: integrated autocorrelation time (1 + φ)/(1 − φ), so ESS = n(1 − φ)/(1 + φ)
    (for φ = 0.5, 4 chains × 5000: 6,667)."""
    rng = np.random.default_rng(21)
    phi, n = 0.5, 5000
    x = np.zeros((4, n))
    e = rng.normal(size=(4, n))
    for t in range(1, n):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    assert bulk_ess(list(x)) == pytest.approx(4 * n * (1 - phi) / (1 + phi), rel=0.1)
    # a scale-free statistic: the same for any monotone transform of the draws (ranks)
    assert bulk_ess(list(np.exp(x))) == pytest.approx(bulk_ess(list(x)), rel=1e-9)
    assert rank_rhat(list(x)) < 1.01
    # a heavy tail the plain R̂ misses: same locations, one chain with 10× the spread
    wide = x.copy()
    wide[0] *= 10
    assert rank_rhat(list(wide)) > 1.01


def test_gaussian_sampler_matches_the_closed_form_posterior():
    """With λ and r held fixed the Gaussian model is conjugate: β integrates to its GLS
    estimate, so E[h | y] = λKV⁻¹(y − Xβ̂) and σ² | y ~ InvGamma(a + (n − p)/2, b + Q/2),
    Q = (y − Xβ̂)ᵀV⁻¹(y − Xβ̂). The Gibbs chain must reproduce both."""
    rng = np.random.default_rng(11)
    n = 40
    z = rng.normal(size=(n, 2))
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = np.sin(z[:, 0]) + x @ np.array([0.3, -0.5]) + rng.normal(0, 0.4, n)
    r, lam = np.array([0.6, 0.2]), 2.5
    s = BkmrSettings(iterations=40000, varsel=False, r_method="fixed", update_lambda=False, thin=20)
    from analysis.methods.bkmr.model import State

    start = State(beta=np.zeros(2), lam=lam, r=r, delta=np.ones(2), sigsq=1.0, ystar=y.copy())
    chain = run_chain(y, z, x, s, seed=2, start=start)
    k = Kernel(z).matrix(r)
    v = np.eye(n) + lam * k
    vi = np.linalg.inv(v)
    beta_hat = np.linalg.solve(x.T @ vi @ x, x.T @ vi @ y)
    resid = y - x @ beta_hat
    q = resid @ vi @ resid
    shape, scale = s.a_sigsq + (n - 2) / 2, s.b_sigsq + q / 2
    sig = chain.sigsq[s.iterations // 2 :]
    se = sig.std() / math.sqrt(mean_ess([sig]))
    assert abs(sig.mean() - scale / (shape - 1)) < 4 * se
    beta = chain.beta[s.iterations // 2 :]
    for j in range(2):
        se_b = beta[:, j].std() / math.sqrt(mean_ess([beta[:, j]]))
        assert abs(beta[:, j].mean() - beta_hat[j]) < 4 * se_b
    fit = Fit(y, z, x, [chain], s)
    h_exact, _ = fit.predict(z, "exact")
    truth = lam * k @ vi @ resid
    # per-draw means are linear in β: their average differs from the truth by λKV⁻¹X(β̄ − β̂)
    tol = 4 * np.abs(lam * k @ vi @ x) @ (beta.std(axis=0) / np.sqrt(len(chain.thin_rows)))
    assert (np.abs(h_exact - truth) < tol + 1e-9).all()
    h_approx, _ = fit.predict(z, "approx")
    assert_allclose(h_approx, lam * k @ vi @ (y - x @ beta.mean(axis=0)), atol=1e-9)


def test_probit_chain_finds_the_planted_exposures_in_both_y_star_modes():
    rng = np.random.default_rng(8)
    n = 300
    z = rng.normal(size=(n, 3))
    x = rng.normal(size=(n, 1))
    y = (1.2 * z[:, 0] + 0.4 * x[:, 0] - 0.3 + rng.normal(size=n) > 0).astype(float)
    for est_h in (False, True):
        s = BkmrSettings(family="binomial", iterations=1500, est_h=est_h)
        fit = Fit(y, z, x, [run_chain(y, z, x, s, seed=4)], s)
        pips = fit.pips().PIP.to_numpy()
        assert pips[0] > 0.9 and pips[1] < 0.5 and pips[2] < 0.5, (est_h, pips)
        risk = fit.overall_risk()
        assert risk.est.iloc[-1] > 0 > risk.est.iloc[0]  # h rises with z₁
        assert fit.beta()["mean"].iloc[0] == pytest.approx(0.4, abs=0.25)


def test_compiled_normal_quantile_and_far_tail_draws():
    from scipy import special

    from analysis.methods.bkmr import fast

    p = np.concatenate(
        [10 ** -np.linspace(1, 300, 200), np.linspace(0.01, 0.99, 99), 1 - 10 ** -np.linspace(2, 15, 50)]
    )
    ours = np.array([fast.ndtri(v) for v in p])
    assert_allclose(ours, special.ndtri(p), rtol=1e-13, atol=1e-13)
    # N(−8, 1) truncated to (0, ∞): E = −8 + φ(8)/Q(8), by the exponential rejection branch
    draws = fast.truncated_normals(np.full(40000, -8.0), np.ones(40000), np.ones(40000, dtype=bool), 1)
    assert draws.min() >= 0
    expected = -8 + stats.norm.pdf(8) / stats.norm.sf(8)
    assert draws.mean() == pytest.approx(expected, abs=4 * draws.std() / 200)


def test_parallel_chains_equal_sequential_ones_and_start_apart():
    from analysis.methods.bkmr import run_chains

    rng = np.random.default_rng(6)
    n = 50
    z, x = rng.normal(size=(n, 3)), rng.normal(size=(n, 1))
    y = (z[:, 0] + rng.normal(size=n) > 0).astype(float)
    s = BkmrSettings(family="binomial", iterations=120)
    parallel = run_chains(y, z, x, s, chains=2, seed=5, workers=2)
    sequential = run_chains(y, z, x, s, chains=2, seed=5, workers=1)
    for a, b in zip(parallel, sequential, strict=True):
        assert_allclose(a.lam, b.lam)
        assert_allclose(a.beta, b.beta)
        assert a.start == b.start
    assert parallel[0].start["lambda"] == 10 and parallel[0].start["r"] == [1.0, 1.0, 1.0]
    assert parallel[1].start != parallel[0].start
    assert not np.allclose(parallel[0].lam, parallel[1].lam)


def test_diagnostics_warn_when_chains_disagree():
    from dataclasses import replace

    from analysis.methods.bkmr import diagnose

    rng = np.random.default_rng(7)
    n = 60
    z, x = rng.normal(size=(n, 2)), rng.normal(size=(n, 1))
    y = z[:, 0] + x[:, 0] + rng.normal(0, 0.5, n)
    s = BkmrSettings(iterations=600)
    a, b = run_chain(y, z, x, s, seed=1), run_chain(y, z, x, s, seed=2)
    calm = diagnose(Fit(y, z, x, [a, b], s))
    assert set(calm["parameters"]) >= {"loglik", "lambda", "beta[x1]", "r[z1]", "sigsq"}
    assert calm["per_chain"][0]["start"]["lambda"] == 10
    assert not [w for w in calm["warnings"] if w.startswith("beta[x1]: rank-normalised")]
    stuck = replace(b, beta=b.beta + 5.0, delta=np.zeros_like(b.delta))  # a chain somewhere else
    loud = diagnose(Fit(y, z, x, [a, stuck], s))
    assert any(w.startswith("beta[x1]: rank-normalised R-hat") for w in loud["warnings"])
    assert any(w.startswith("PIP of z1 differs between chains") for w in loud["warnings"])
    assert loud["ok"] is False


def test_disagreeing_chains_get_per_chain_summaries_not_a_silent_pool(tmp_path):
    from dataclasses import replace

    import pandas as pd

    from analysis.methods.bkmr import diagnose, write_fit

    rng = np.random.default_rng(7)
    n = 60
    z, x = rng.normal(size=(n, 2)), rng.normal(size=(n, 1))
    y = z[:, 0] + x[:, 0] + rng.normal(0, 0.5, n)
    s = BkmrSettings(iterations=300)
    a, b = run_chain(y, z, x, s, seed=1), run_chain(y, z, x, s, seed=2)
    stuck = replace(b, beta=b.beta + 5.0, delta=np.zeros_like(b.delta))
    fit = Fit(y, z, x, [a, stuck], s)
    diag = diagnose(fit)
    assert diag["chains_agree"] is False and diag["disagreement"]
    write_fit(fit, tmp_path)
    pips = pd.read_csv(tmp_path / "pips.csv", dtype={"chain": str})
    assert list(dict.fromkeys(pips.chain)) == ["all", "0", "1"]
    by_chain = pips.set_index(["chain", "variable"]).PIP
    assert by_chain["1", "z1"] == 0.0 and by_chain["0", "z1"] > 0.5  # the pooled PIP hid this
    risk = pd.read_csv(tmp_path / "overall_risk.csv", dtype={"chain": str})
    assert set(risk.chain) == {"all", "0", "1"}
    # chains that agree keep the pooled rows only
    single = Fit(y, z, x, [a], s)
    write_fit(single, tmp_path / "one")
    assert set(pd.read_csv(tmp_path / "one" / "pips.csv", dtype={"chain": str}).chain) == {"all"}


def test_the_adapted_lambda_proposal_ratio_is_the_scipy_densities():
    """The adapted λ proposal is Gamma(mean λ, sd c·λ): the forward and the reverse proposal
    have different sds, and the Hastings ratio must use each where it belongs."""
    s = BkmrSettings()
    lam, lam_star, c = 3.0, 4.2, 0.4

    def log_q(to, frm):
        sd = c * frm
        return stats.gamma(a=(frm / sd) ** 2, scale=sd**2 / frm).logpdf(to)

    prior = stats.gamma(a=s.lambda_shape, scale=1 / s.lambda_rate)
    direct = prior.logpdf(lam_star) - prior.logpdf(lam) + log_q(lam, lam_star) - log_q(lam_star, lam)
    ours = lambda_prior_proposal_ratio(lam, lam_star, s, c * lam, c * lam_star)
    assert ours == pytest.approx(direct, rel=1e-9)


@pytest.mark.parametrize("r", [np.array([1.0, 0.5, 2.0]), np.array([0.05, 0.0, 0.0])])
def test_the_interwoven_lambda_move_keeps_lambdas_posterior(r):
    """Alternating an exact draw of h | λ, y* with the interwoven move (λ and h scaled together)
    must sample λ's posterior p(λ | y*) ∝ p(λ) N(y*; 0, σ²(I + λK)), computed here on a grid —
    for a full-rank K and for a nearly singular one (the scale argument holds on K's range)."""
    rng = np.random.default_rng(21)
    n, sigsq = 15, 0.7
    k = Kernel(rng.normal(size=(n, 3))).matrix(r)
    ev, q = np.linalg.eigh(k)
    ev = np.clip(ev, 0.0, None)
    resid = q @ (np.sqrt(2.0 * sigsq * ev) * rng.normal(size=n)) + rng.normal(0, math.sqrt(sigsq), n)
    s = BkmrSettings()
    # the grid posterior, in log λ
    grid = np.linspace(math.log(1e-4), math.log(400.0), 20001)
    lam_grid = np.exp(grid)
    rot = (q.T @ resid) ** 2
    shrink = 1.0 + lam_grid[:, None] * ev
    log_post = (
        stats.gamma(a=s.lambda_shape, scale=1 / s.lambda_rate).logpdf(lam_grid)
        + grid  # dλ = λ d(log λ)
        - 0.5 * np.log(shrink).sum(axis=1)
        - 0.5 * (rot / shrink).sum(axis=1) / sigsq
    )
    weight = np.exp(log_post - log_post.max())
    weight /= weight.sum()
    exact = {"lambda": float(weight @ lam_grid), "log lambda": float(weight @ grid)}

    lam, draws, moved = 5.0, np.empty(30000), 0
    for t in range(len(draws)):
        gain = lam * ev / (1.0 + lam * ev)
        h = q @ (gain * (q.T @ resid) + np.sqrt(sigsq * gain) * rng.normal(size=n))
        lam, h, accepted = interwoven_lambda(lam, h, resid, sigsq, math.log(0.5), s, rng)
        draws[t], moved = lam, moved + accepted
    assert 0.2 < moved / len(draws) < 0.95  # the move moves
    kept = draws[2000:]
    for name, values in (("lambda", kept), ("log lambda", np.log(kept))):
        se = values.std() / math.sqrt(mean_ess([values]))
        assert abs(values.mean() - exact[name]) < 4 * se, (name, values.mean(), exact[name], se)


@pytest.mark.parametrize("r", [np.array([0.3, 0.0, 0.0]), np.array([5.0, 40.0, 9.0])])
def test_the_cached_root_of_k_reproduces_k(r):
    """h's draw uses a pivoted-Cholesky root of K (low rank when few exposures are active, full
    rank for a rough kernel); (P R)(P R)ᵀ must be K in both cases."""
    rng = np.random.default_rng(8)
    z = rng.normal(size=(200, 3))
    la = _Linalg(z, r, 2.0, max_rank=0)  # the dense path, whose h draw uses this root
    root, piv = la.kernel_root()
    w = np.zeros((len(z), root.shape[1]))
    w[piv] = root
    assert_allclose(w @ w.T, Kernel(z).matrix(r), atol=1e-8)
    if not r[1:].any():
        assert root.shape[1] < len(z) / 2  # one active exposure: far from full rank


def test_adaptation_tunes_the_jumps_in_burn_in_and_records_them():
    """With bkmr's λ jump (sd 10) a λ near 0.3 is hardly ever moved; adapted during burn-in the
    relative jump brings the acceptance after burn-in near the target, and the frozen jumps are
    recorded. adapt=False keeps bkmr's numbers (and its poor acceptance)."""
    rng = np.random.default_rng(9)
    n = 10
    z, x = rng.normal(size=(n, 3)), np.ones((n, 1))
    # a prior whose mass sits near 0.3: bkmr's absolute sd 10 then proposes far too wide
    tight = {"lambda_mean": 0.3, "lambda_sd": 0.1, "prior_only": True, "iterations": 6000}
    fixed = run_chain(rng.normal(size=n), z, x, BkmrSettings(adapt=False, **tight), seed=3)
    tuned = run_chain(rng.normal(size=n), z, x, BkmrSettings(adapt=True, **tight), seed=3)
    after = slice(3000, None)
    assert fixed.jumps == {"adapted": False, "lambda_jump": 10.0, "r_jump": [0.1, 0.1, 0.1]}
    assert fixed.accept_lambda[after].mean() < 0.1
    assert tuned.jumps["adapted"] and tuned.jumps["lambda_jump_relative"] != 10.0 / 0.3
    assert 0.3 < tuned.accept_lambda[after].mean() < 0.6
    # the adapted chain still samples the prior Gamma(mean 0.3, sd 0.1)
    lam = tuned.lam[after]
    assert lam.mean() == pytest.approx(0.3, abs=4 * 0.1 / math.sqrt(mean_ess([lam])))


@pytest.mark.parametrize("r", [np.array([0.3, 0.0, 0.0]), np.array([0.05, 0.02, 0.0]), np.zeros(3)])
def test_the_low_rank_factor_is_the_dense_one(r):
    """Where K's rank is small, V = I + λK is worked through K's pivoted root and Woodbury: its
    log det, uᵀV⁻¹u, V⁻¹b, BᵀV⁻¹B, V⁻¹ and Kv must be the dense Cholesky's (the reference
    implementation's), for the current λ and for a λ or r proposal."""
    from analysis.methods.bkmr.lowrank import pivoted_root

    rng = np.random.default_rng(11)
    z = rng.normal(size=(240, 3))
    u, b = rng.normal(size=240), rng.normal(size=(240, 4))
    kernel = Kernel(z)
    la = _Linalg(z, r, 2.5, max_rank=120)
    assert la.low is not None and la.low.rank < 120  # the low-rank path is the one under test
    root = pivoted_root(z, r, 240)
    assert_allclose(root @ root.T, kernel.matrix(r), atol=1e-10)

    def same(lam, k):
        dense = Factor.of(lam, k.copy())
        v_inv = np.linalg.inv(np.eye(240) + lam * k)
        assert la.logdet == pytest.approx(dense.logdet, abs=1e-8)
        assert la.quad(u) == pytest.approx(float(u @ dense.solve(u)), rel=1e-9)
        assert_allclose(la.solve(b), dense.solve(b), atol=1e-8)
        assert_allclose(la.gram(b), b.T @ dense.solve(b), atol=1e-8)
        assert_allclose(np.tril(la.precision()), np.tril(v_inv), atol=1e-8)  # the lower triangle is used
        assert la.low is not None
        assert_allclose(la.low.times(u), k @ u, atol=1e-8)

    same(2.5, kernel.matrix(r))
    la.accept(la.propose_lambda(7.0), new_kernel=False)
    same(7.0, kernel.matrix(r))
    r2 = r + np.array([0.01, 0.0, 0.0])
    logdet = la.propose_r(r2, 7.0)
    assert la.quad(u, spare=True) == pytest.approx(
        float(u @ Factor.of(7.0, kernel.matrix(r2)).solve(u)), rel=1e-9
    )
    la.accept(logdet, new_kernel=True)
    assert la.low is not None
    same(7.0, kernel.matrix(r2))


def test_a_rough_kernel_switches_to_the_dense_path_and_back():
    """An r proposal whose kernel has a high rank is factorised densely; accepting a smooth one
    again returns to the low-rank path, with the same numbers as the dense reference."""
    rng = np.random.default_rng(12)
    z = rng.normal(size=(200, 3))
    u = rng.normal(size=200)
    kernel = Kernel(z)
    smooth, rough = np.array([0.1, 0.0, 0.0]), np.array([5.0, 40.0, 9.0])
    la = _Linalg(z, smooth, 3.0)
    assert la.low is not None
    la.accept(la.propose_r(rough, 3.0), new_kernel=True)
    assert la.low is None
    assert la.quad(u) == pytest.approx(float(u @ Factor.of(3.0, kernel.matrix(rough)).solve(u)), rel=1e-9)
    la.accept(la.propose_lambda(1.5), new_kernel=False)
    assert la.logdet == pytest.approx(Factor.of(1.5, kernel.matrix(rough)).logdet, rel=1e-10)
    la.accept(la.propose_r(smooth, 1.5), new_kernel=True)
    assert la.low is not None
    assert la.quad(u) == pytest.approx(float(u @ Factor.of(1.5, kernel.matrix(smooth)).solve(u)), rel=1e-9)
