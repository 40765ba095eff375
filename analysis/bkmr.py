"""Bayesian kernel machine regression (Bobb et al. 2015), after R's bkmr (≤ 0.2.2).

Model: y*_i = h(z_i) + x_iᵀβ + ε_i, ε ~ N(0, σ²) (probit: σ² = 1 and y = 1{y* > 0});
h ~ GP(0, λσ²K), K(z, z') = exp(−Σ_m r_m (z_m − z'_m)²). With h integrated out,
y* ~ N(Xβ, σ²V), V = I + λK. Priors (bkmr's defaults): β flat; λ ~ Gamma(mean 10, sd 10);
1/r_m ~ U(0, 100); 1/σ² ~ Gamma(0.001, 0.001); with variable selection δ_m ~ Bernoulli(π),
π ~ Beta(1, 1) integrated out, r_m = 0 when δ_m = 0.

Each iteration: y* (probit: a Gibbs sweep of the truncated multivariate normal with h
integrated out, or, with ``est_h``, univariate truncated normals given a drawn h); β by
Gibbs; σ² by Gibbs (Gaussian); λ by Metropolis–Hastings (gamma proposal with the current
value as mean, sd 10); (r, δ) by bkmr's switch-or-refine move (switch: flip one δ_m,
drawing r_m from its prior when it switches on; refine: a normal random walk, sd 0.1, on
one active r_m); with ``est_h``, h by its Gaussian full conditional. Every determinant is
a log-determinant from a Cholesky factor, so n in the thousands is fine.

Status: the sampler core and bkmr's "approx" summaries. Not yet here (issue 8): chains in
parallel processes with dispersed starts, the "exact" summaries, trace plots and warnings,
the CLI and the study's Figure 3, and the speed target (≈ 9 iterations/s at n = 905,
probit, variable selection, on these machines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, special


@dataclass(frozen=True)
class BkmrSettings:
    family: str = "gaussian"  # gaussian | binomial (probit)
    iterations: int = 10000
    varsel: bool = True
    est_h: bool = False
    lambda_mean: float = 10.0
    lambda_sd: float = 10.0
    r_a: float = 0.0  # 1/r ~ U(r_a, r_b)
    r_b: float = 100.0
    a_sigsq: float = 0.001
    b_sigsq: float = 0.001
    a_pi: float = 1.0
    b_pi: float = 1.0
    lambda_jump: float = 10.0
    r_jump: float = 0.1
    prior_only: bool = False  # drop the likelihood: a sampler-correctness check

    @property
    def lambda_shape(self) -> float:
        return (self.lambda_mean / self.lambda_sd) ** 2

    @property
    def lambda_rate(self) -> float:
        return self.lambda_mean / self.lambda_sd**2


@dataclass
class State:
    beta: np.ndarray
    lam: float
    r: np.ndarray
    delta: np.ndarray
    sigsq: float
    ystar: np.ndarray
    h: np.ndarray | None = None


class Kernel:
    """Squared distances per exposure, so that K(r) = exp(−Σ r_m S_m) costs one pass."""

    def __init__(self, z: np.ndarray):
        self.z = z
        self.sq = np.stack([(z[:, m, None] - z[None, :, m]) ** 2 for m in range(z.shape[1])])

    def matrix(self, r: np.ndarray) -> np.ndarray:
        return np.exp(-np.tensordot(r, self.sq, axes=1))


def cross_kernel(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    d = ((a[:, None, :] - b[None, :, :]) ** 2) @ r
    return np.exp(-d)


@dataclass
class Factor:
    """Cholesky of V = I + λK with its log-determinant."""

    chol: np.ndarray
    logdet: float

    @classmethod
    def of(cls, lam: float, k: np.ndarray) -> Factor:
        v = lam * k
        v[np.diag_indices_from(v)] += 1.0
        c = linalg.cholesky(v, lower=True, check_finite=False)
        return cls(c, 2.0 * float(np.sum(np.log(np.diag(c)))))

    def solve(self, b: np.ndarray) -> np.ndarray:
        return linalg.cho_solve((self.chol, True), b, check_finite=False)


def log_marginal(factor: Factor, u: np.ndarray, sigsq: float) -> float:
    """log N(u; 0, σ²V) up to the constant −n/2 log 2π."""
    return -0.5 * factor.logdet - 0.5 * len(u) * math.log(sigsq) - 0.5 * float(u @ factor.solve(u)) / sigsq


def log_prior_lambda(lam: float, s: BkmrSettings) -> float:
    return (s.lambda_shape - 1) * math.log(lam) - s.lambda_rate * lam if lam > 0 else -math.inf


def log_prior_r(r: float, s: BkmrSettings) -> float:
    """1/r ~ U(a, b): p(r) = r⁻² / (b − a) on (1/b, 1/a)."""
    lo = 1.0 / s.r_b
    hi = math.inf if s.r_a == 0 else 1.0 / s.r_a
    return -2.0 * math.log(r) - math.log(s.r_b - s.r_a) if lo < r < hi else -math.inf


def log_prior_delta(delta: np.ndarray, s: BkmrSettings) -> float:
    """δ ~ Bernoulli(π), π ~ Beta(a, b) integrated out."""
    k, m = int(delta.sum()), len(delta)
    return special.betaln(s.a_pi + k, s.b_pi + m - k) - special.betaln(s.a_pi, s.b_pi)


def gamma_proposal_logpdf(x: float, mean: float, sd: float) -> float:
    shape, rate = (mean / sd) ** 2, mean / sd**2
    return shape * math.log(rate) - special.gammaln(shape) + (shape - 1) * math.log(x) - rate * x


def lambda_log_ratio(
    lam: float, lam_star: float, f: Factor, f_star: Factor, u: np.ndarray, sigsq: float, s: BkmrSettings
) -> float:
    """log of the MH acceptance ratio for λ → λ* (gamma proposal, mean = current, sd = jump)."""
    lik = 0.0 if s.prior_only else log_marginal(f_star, u, sigsq) - log_marginal(f, u, sigsq)
    return (
        lik
        + log_prior_lambda(lam_star, s)
        - log_prior_lambda(lam, s)
        + gamma_proposal_logpdf(lam, lam_star, s.lambda_jump)
        - gamma_proposal_logpdf(lam_star, lam, s.lambda_jump)
    )


def beta_conditional(x: np.ndarray, target: np.ndarray, factor: Factor, sigsq: float):
    """Mean and covariance of β | y*, λ, r with h integrated out (flat prior)."""
    vinv_x = factor.solve(x)
    a = x.T @ vinv_x
    a_inv = np.linalg.inv(a)
    return a_inv @ (vinv_x.T @ target), sigsq * a_inv


def truncated_normal(
    mean: np.ndarray, sd: np.ndarray, positive: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """N(mean, sd²) truncated to (0, ∞) where ``positive`` else (−∞, 0], by inverse CDF."""
    a = special.ndtr(-mean / sd)  # P(X ≤ 0)
    u = rng.random(np.shape(mean))
    p = np.where(positive, a + u * (1 - a), u * a)
    p = np.clip(p, 1e-300, 1 - 1e-16)
    x = mean + sd * special.ndtri(p)
    return np.where(positive, np.maximum(x, 0.0), np.minimum(x, 0.0))


def tmvn_sweep(
    ystar: np.ndarray, mean: np.ndarray, precision: np.ndarray, positive: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One Gibbs sweep over the n coordinates of N(mean, precision⁻¹) truncated by sign."""
    y = ystar.copy()
    d = y - mean
    g = precision @ d
    diag = np.diag(precision)
    sd = 1.0 / np.sqrt(diag)
    uniforms = rng.random(len(y))
    for i in range(len(y)):
        m = mean[i] + d[i] - g[i] / diag[i]
        a = special.ndtr(-m / sd[i])
        p = a + uniforms[i] * (1 - a) if positive[i] else uniforms[i] * a
        p = min(max(p, 1e-300), 1 - 1e-16)
        new = m + sd[i] * special.ndtri(p)
        new = max(new, 0.0) if positive[i] else min(new, 0.0)
        change = new - y[i]
        if change:
            g += precision[:, i] * change
            d[i] += change
            y[i] = new
    return y


@dataclass
class Chain:
    beta: np.ndarray
    lam: np.ndarray
    r: np.ndarray
    delta: np.ndarray
    sigsq: np.ndarray
    loglik: np.ndarray
    ystar_mean: np.ndarray
    accept_lambda: float
    accept_r: float
    start: dict
    ystar_draws: np.ndarray | None = None  # thinned, for the "exact" summaries
    thin_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def run_chain(
    y: np.ndarray,
    z: np.ndarray,
    x: np.ndarray,
    settings: BkmrSettings,
    seed: int,
    start: State | None = None,
    thin: int = 10,
) -> Chain:
    """One MCMC chain; the same seed gives the same chain."""
    rng = np.random.default_rng(seed)
    n, m = z.shape
    s = settings
    kernel = Kernel(z)
    probit = s.family == "binomial"
    positive = y > 0
    if start is None:
        beta0 = np.linalg.lstsq(x, (np.where(positive, 0.5, -0.5) if probit else y), rcond=None)[0]
        start = State(
            beta=beta0,
            lam=10.0,
            r=np.ones(m),
            delta=np.ones(m),
            sigsq=1.0,
            ystar=np.where(positive, 0.5, -0.5) if probit else y.astype(float).copy(),
        )
    st = State(
        start.beta.copy(),
        float(start.lam),
        start.r.copy(),
        start.delta.copy(),
        float(start.sigsq),
        start.ystar.copy(),
        None,
    )
    k = kernel.matrix(st.r)
    factor = Factor.of(st.lam, k)
    if s.est_h:
        st.h = np.zeros(n)
    it = s.iterations
    out = {
        "beta": np.empty((it, x.shape[1])),
        "lam": np.empty(it),
        "r": np.empty((it, m)),
        "delta": np.empty((it, m)),
        "sigsq": np.empty(it),
        "loglik": np.empty(it),
    }
    ystar_sum = np.zeros(n)
    burn = it // 2
    thin_index = np.arange(burn, it, thin)
    ystar_draws = np.empty((len(thin_index), n)) if probit else None
    accepted_lam = accepted_r = 0
    for t in range(it):
        # y*
        if probit and not s.prior_only:
            if s.est_h:
                st.ystar = truncated_normal(st.h + x @ st.beta, np.ones(n), positive, rng)
            else:
                precision = factor.solve(np.eye(n))
                st.ystar = tmvn_sweep(st.ystar, x @ st.beta, precision, positive, rng)
        target = st.ystar if probit else y
        # β (h integrated out)
        if not s.prior_only:
            mean_b, cov_b = beta_conditional(x, target, factor, st.sigsq)
            st.beta = rng.multivariate_normal(mean_b, cov_b)
        u = target - x @ st.beta
        # σ²
        if s.family == "gaussian" and not s.prior_only:
            quad = float(u @ factor.solve(u))
            st.sigsq = 1.0 / rng.gamma(s.a_sigsq + n / 2, 1.0 / (s.b_sigsq + quad / 2))
        # λ
        shape, rate = (st.lam / s.lambda_jump) ** 2, st.lam / s.lambda_jump**2
        lam_star = rng.gamma(shape, 1.0 / rate)
        if lam_star > 0:
            f_star = factor if s.prior_only else Factor.of(lam_star, k)  # prior-only: V is never used
            if math.log(rng.random()) < lambda_log_ratio(st.lam, lam_star, factor, f_star, u, st.sigsq, s):
                st.lam, factor = lam_star, f_star
                accepted_lam += 1
        # (r, δ)
        r_star, delta_star, log_extra = propose_r_delta(st.r, st.delta, s, rng)
        if r_star is not None:
            k_star = kernel.matrix(r_star)
            f_star = factor if s.prior_only else Factor.of(st.lam, k_star)
            lik = (
                0.0 if s.prior_only else log_marginal(f_star, u, st.sigsq) - log_marginal(factor, u, st.sigsq)
            )
            if math.log(rng.random()) < lik + log_extra:
                st.r, st.delta, k, factor = r_star, delta_star, k_star, f_star
                accepted_r += 1
        # h (est_h): h | y*, β ~ N(λK V⁻¹u, σ²λK V⁻¹)  (Matheron's rule with one extra factor)
        if s.est_h and not s.prior_only:
            st.h = draw_h(k, st.lam, st.sigsq, u, factor, rng)
        out["beta"][t], out["lam"][t], out["r"][t], out["delta"][t] = st.beta, st.lam, st.r, st.delta
        out["sigsq"][t] = st.sigsq
        out["loglik"][t] = 0.0 if s.prior_only else log_marginal(factor, u, st.sigsq)
        if t >= burn:
            ystar_sum += target
        if ystar_draws is not None and t >= burn and (t - burn) % thin == 0:
            ystar_draws[(t - burn) // thin] = target
    return Chain(
        out["beta"],
        out["lam"],
        out["r"],
        out["delta"],
        out["sigsq"],
        out["loglik"],
        ystar_sum / max(it - burn, 1),
        accepted_lam / it,
        accepted_r / it,
        {
            "lambda": float(start.lam),
            "r": start.r.tolist(),
            "delta": start.delta.tolist(),
            "beta": start.beta.tolist(),
        },
        ystar_draws,
        thin_index,
    )


def propose_r_delta(r: np.ndarray, delta: np.ndarray, s: BkmrSettings, rng: np.random.Generator):
    """bkmr's switch-or-refine move. Returns (r*, δ*, log prior ratio + log proposal ratio)."""
    m = len(r)
    if not s.varsel:  # refine one r_m at random
        comp = rng.integers(m)
        r_star = r.copy()
        r_star[comp] = r[comp] + s.r_jump * rng.standard_normal()
        lp = log_prior_r(r_star[comp], s)
        if not np.isfinite(lp):
            return None, None, 0.0
        return r_star, delta.copy(), lp - log_prior_r(r[comp], s)
    all_off = not delta.any()
    move = 1 if all_off else rng.integers(1, 3)
    r_star, delta_star = r.copy(), delta.copy()
    if move == 1:  # switch one δ_m; r_m drawn from its prior when switched on
        comp = rng.integers(m)
        delta_star[comp] = 1 - delta[comp]
        if delta_star[comp]:
            r_star[comp] = 1.0 / rng.uniform(s.r_a, s.r_b)
        else:
            r_star[comp] = 0.0
        move_prob = 1.0 if all_off else 0.5
        move_prob_star = 1.0 if not delta_star.any() else 0.5
        # prior(r*)/q(r*) = 1 when r is drawn from its prior, so only δ's prior and the move probabilities remain
        return (
            r_star,
            delta_star,
            (
                log_prior_delta(delta_star, s)
                - log_prior_delta(delta, s)
                + math.log(move_prob_star)
                - math.log(move_prob)
            ),
        )
    active = np.flatnonzero(delta)
    comp = active[rng.integers(len(active))]
    r_star[comp] = r[comp] + s.r_jump * rng.standard_normal()
    lp = log_prior_r(r_star[comp], s)
    if not np.isfinite(lp):
        return None, None, 0.0
    return r_star, delta_star, lp - log_prior_r(r[comp], s)


def draw_h(
    k: np.ndarray, lam: float, sigsq: float, u: np.ndarray, factor: Factor, rng: np.random.Generator
) -> np.ndarray:
    """h | u ~ N(λK V⁻¹u, σ²(λK − λK V⁻¹ λK)) by Matheron's rule: h = h₀ + λK V⁻¹(u − h₀ − e)."""
    n = len(u)
    jitter = 1e-8 * np.eye(n)
    lk = linalg.cholesky(lam * k + jitter, lower=True, check_finite=False)
    h0 = math.sqrt(sigsq) * lk @ rng.standard_normal(n)
    e = math.sqrt(sigsq) * rng.standard_normal(n)
    return h0 + lam * k @ factor.solve(u - h0 - e)


# --- summaries (bkmr's "approx" method: parameters at their posterior means) -------------

OVERALL_RISK_QUANTILES = np.round(np.arange(0.25, 0.751, 0.05), 2)


@dataclass
class Fit:
    z: np.ndarray
    x: np.ndarray
    chains: list[Chain]
    settings: BkmrSettings

    def post(self, name: str) -> np.ndarray:
        """Draws after burn-in (the first half, as bkmr), all chains stacked."""
        return np.concatenate([getattr(c, name)[len(getattr(c, name)) // 2 :] for c in self.chains])

    def pips(self) -> np.ndarray:
        return self.post("delta").mean(axis=0)

    def h_posterior(self, znew: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and covariance of h at ``znew`` with λ, r, β, σ² at posterior means."""
        lam = float(self.post("lam").mean())
        r = self.post("r").mean(axis=0)
        beta = self.post("beta").mean(axis=0)
        sigsq = float(self.post("sigsq").mean())
        ybar = np.mean([c.ystar_mean for c in self.chains], axis=0)
        k = Kernel(self.z).matrix(r)
        factor = Factor.of(lam, k)
        kz = cross_kernel(znew, self.z, r)
        mean = lam * kz @ factor.solve(ybar - self.x @ beta)
        knew = cross_kernel(znew, znew, r)
        cov = lam * sigsq * (knew - lam * kz @ factor.solve(kz.T))
        return mean, cov

    def overall_risk(self, qs: np.ndarray | None = None) -> np.ndarray:
        """h at every exposure's q-quantile minus h at the medians: rows (q, estimate, sd)."""
        qs = OVERALL_RISK_QUANTILES if qs is None else qs
        med = np.median(self.z, axis=0)
        rows = []
        for q in qs:
            points = np.vstack([np.quantile(self.z, q, axis=0), med])
            mean, cov = self.h_posterior(points)
            c = np.array([1.0, -1.0])
            rows.append((q, c @ mean, math.sqrt(max(c @ cov @ c, 0.0))))
        return np.array(rows)

    def univariate(self, points: int = 50) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """Per exposure: a grid over its range (others at their medians), h mean and sd."""
        med = np.median(self.z, axis=0)
        out = []
        for m in range(self.z.shape[1]):
            grid = np.linspace(self.z[:, m].min(), self.z[:, m].max(), points)
            znew = np.tile(med, (points, 1))
            znew[:, m] = grid
            mean, cov = self.h_posterior(znew)
            out.append((m, grid, mean, np.sqrt(np.clip(np.diag(cov), 0, None))))
        return out

    def single_variable(
        self, fixed_at: tuple[float, ...] = (0.25, 0.5, 0.75)
    ) -> list[tuple[int, float, float, float]]:
        """h(z_m at its 75th) − h(z_m at its 25th), the others fixed at a quantile."""
        rows = []
        for q in fixed_at:
            base = np.quantile(self.z, q, axis=0)
            for m in range(self.z.shape[1]):
                points = np.vstack([base, base])
                points[0, m], points[1, m] = np.quantile(self.z[:, m], [0.75, 0.25])
                mean, cov = self.h_posterior(points)
                c = np.array([1.0, -1.0])
                rows.append((m, q, c @ mean, math.sqrt(max(c @ cov @ c, 0.0))))
        return rows


# --- diagnostics -------------------------------------------------------------------------------


def effective_sample_size(draws: np.ndarray) -> float:
    """ESS of one chain by Geyer's initial positive sequence of autocorrelations."""
    x = np.asarray(draws, dtype=float)
    n = len(x)
    if n < 4 or np.var(x) == 0:
        return float(n)
    x = x - x.mean()
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / (np.arange(n, 0, -1) * np.var(x))
    total, t = 0.0, 0
    while t + 1 < n:
        pair = acf[t] + acf[t + 1]
        if pair <= 0:
            break
        total += pair
        t += 2
    tau = -1.0 + 2.0 * total  # integrated autocorrelation time
    return float(n / tau) if tau > 0 else float(n)


def split_rhat(chains: list[np.ndarray]) -> float:
    """Gelman–Rubin R̂ on chains split in halves (post burn-in draws)."""
    halves = []
    for c in chains:
        c = np.asarray(c, dtype=float)
        h = len(c) // 2
        halves += [c[:h], c[h : 2 * h]]
    m = len(halves)
    n = min(len(h) for h in halves)
    arr = np.array([h[:n] for h in halves])
    w = arr.var(axis=1, ddof=1).mean()
    b = n * arr.mean(axis=1).var(ddof=1)
    if w == 0:
        return 1.0 if b == 0 else math.inf
    var_plus = (n - 1) / n * w + b / n
    return float(math.sqrt(var_plus / w)) if m > 1 else 1.0
