"""BKMR's model: settings, priors, kernel, the marginal likelihood and the MH proposals.

Model (Bobb et al. 2015; R's bkmr ≤ 0.2.2): y*_i = h(z_i) + x_iᵀβ + ε_i, ε ~ N(0, σ²)
(probit: σ² = 1 and y = 1{y* > 0}); h ~ GP(0, λσ²K), K(z, z') = exp(−Σ_m r_m (z_m − z'_m)²).
With h integrated out, y* ~ N(Xβ, σ²V), V = I + λK. Priors (bkmr's defaults): β flat;
λ ~ Gamma(mean 10, sd 10); 1/r_m ~ U(0, 100) (bkmr's "invunif"); 1/σ² ~ Gamma(0.001, 0.001);
with variable selection δ_m ~ Bernoulli(π), π ~ Beta(1, 1) integrated out, r_m = 0 when δ_m = 0.
As in bkmr, X carries no intercept: h absorbs it.

Proposals, as bkmr's: λ* ~ Gamma(mean λ, sd ``lambda_jump``); with variable selection, a
switch (flip one δ_m; r_m drawn from its prior when it switches on, so prior and proposal
cancel) or, with probability ½ when some δ_m = 1, a refine of one active r_m by a normal
random walk truncated to the prior's support (sd ``r_jump``); without variable selection
every r_m gets its own refine step. Every determinant is a log-determinant from a Cholesky
factor, so n in the thousands is fine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg, special
from scipy.linalg import blas

from analysis.methods.bkmr import fast
from nhanes_bone.core.errors import InputError


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
    r_jump: float = 0.1  # bkmr's r.jump2 (refine) and r.jump (no variable selection)
    # tune lambda_jump and r_jump during burn-in towards ACCEPT_TARGET, then freeze them (the
    # post-burn-in chain is a plain MH chain with the frozen, recorded jumps); bkmr keeps them fixed
    adapt: bool = True
    r_method: str = "varying"  # bkmr's rmethod without variable selection: varying | fixed
    update_lambda: bool = True  # False holds λ at its start (tests against closed forms)
    prior_only: bool = False  # drop the likelihood: a sampler-correctness check
    thin: int = 10  # keep every thin-th post-burn-in draw of y* (and h) for "exact" summaries
    # bkmr 0.2.2's own chain: its variable-selection switch move carries the move-probability
    # term of the Hastings ratio with the opposite sign (propose_r_delta); False: the correct ratio
    bkmr_compat: bool = False
    # est_h: after h's draw, a second λ move that scales h with √λ (``interwoven_lambda``); off
    # in bkmr_compat, which is bkmr's chain
    interweave: bool = True

    def __post_init__(self) -> None:
        if self.family not in ("gaussian", "binomial"):
            raise InputError(f"BKMR family must be gaussian or binomial, not {self.family!r}")
        if self.iterations < 4:
            raise InputError(f"BKMR needs at least 4 iterations, got {self.iterations}")
        if self.r_method not in ("varying", "fixed"):
            raise InputError(f"r_method must be varying or fixed, not {self.r_method!r}")
        if self.lambda_jump <= 0 or self.r_jump <= 0:
            raise InputError(f"jump sizes must be positive, got {self.lambda_jump}, {self.r_jump}")
        if not 0 <= self.r_a < self.r_b:
            raise InputError(f"the prior 1/r ~ U(r_a, r_b) needs 0 ≤ r_a < r_b, got {self.r_a}, {self.r_b}")

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
    notes: list[str] = field(default_factory=list)  # what the starting fit warned of


def cross_kernel(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    d = ((a[:, None, :] - b[None, :, :]) ** 2) @ r
    return np.exp(-d)


def log_marginal_terms(logdet: float, quad: float, n: int, sigsq: float) -> float:
    """log N(u; 0, σ²V) up to the constant −n/2 log 2π, from log det V and uᵀV⁻¹u."""
    return -0.5 * logdet - 0.5 * n * math.log(sigsq) - 0.5 * quad / sigsq


def log_prior_lambda(lam: float, s: BkmrSettings) -> float:
    return (s.lambda_shape - 1) * math.log(lam) - s.lambda_rate * lam if lam > 0 else -math.inf


def log_prior_r(r: float, s: BkmrSettings) -> float:
    """1/r ~ U(a, b): p(r) = r⁻² / (b − a) on (1/b, 1/a)."""
    lo = 1.0 / s.r_b
    hi = math.inf if s.r_a == 0 else 1.0 / s.r_a
    return -2.0 * math.log(r) - math.log(s.r_b - s.r_a) if lo <= r <= hi else -math.inf


def log_prior_delta(delta: np.ndarray, s: BkmrSettings) -> float:
    """δ ~ Bernoulli(π), π ~ Beta(a, b) integrated out."""
    k, m = int(delta.sum()), len(delta)
    return special.betaln(s.a_pi + k, s.b_pi + m - k) - special.betaln(s.a_pi, s.b_pi)


def gamma_proposal_logpdf(x: float, mean: float, sd: float) -> float:
    shape, rate = (mean / sd) ** 2, mean / sd**2
    return shape * math.log(rate) - special.gammaln(shape) + (shape - 1) * math.log(x) - rate * x


def lambda_prior_proposal_ratio(
    lam: float, lam_star: float, s: BkmrSettings, jump: float | None = None, jump_back: float | None = None
) -> float:
    """The λ ratio's prior and proposal terms (what the sampler adds to its likelihood ratio).
    ``jump`` is the sd of the proposal from λ (default ``s.lambda_jump``), ``jump_back`` that
    of the reverse proposal from λ* (default the same: bkmr's fixed sd)."""
    jump = s.lambda_jump if jump is None else jump
    jump_back = jump if jump_back is None else jump_back
    return (
        log_prior_lambda(lam_star, s)
        - log_prior_lambda(lam, s)
        + gamma_proposal_logpdf(lam, lam_star, jump_back)
        - gamma_proposal_logpdf(lam_star, lam, jump)
    )


def propose_lambda(
    lam: float, log_jump: float, s: BkmrSettings, rng: np.random.Generator
) -> tuple[float, float] | None:
    """A λ proposal and its prior and proposal terms: bkmr's Gamma(mean λ, sd lambda_jump)
    (``log_jump`` its log), or adapted Gamma(mean λ, sd c·λ), c = exp(log_jump) (a scale-free
    step, as λ ranges over orders of magnitude between data sets). None for an adapted draw that
    all but underflows (its reverse sd c·λ* would be 0); bkmr rejects only λ* = 0."""
    jump = math.exp(log_jump) * (lam if s.adapt else 1.0)
    shape, rate = (lam / jump) ** 2, lam / jump**2
    lam_star = rng.gamma(shape, 1.0 / rate)
    if lam_star <= (1e-200 if s.adapt else 0.0):
        return None
    jump_back = math.exp(log_jump) * lam_star if s.adapt else jump
    return lam_star, lambda_prior_proposal_ratio(lam, lam_star, s, jump, jump_back)


def interwoven_lambda(
    lam: float,
    h: np.ndarray,
    resid: np.ndarray,
    sigsq: float,
    log_jump: float,
    s: BkmrSettings,
    rng: np.random.Generator,
) -> tuple[float, np.ndarray, bool]:
    """λ moved with h/√λ held fixed: λ* proposed as ``propose_lambda`` does, h* = √(λ*/λ)·h.

    Why: in the probit chain y* is drawn given h, and λ given y* (h integrated out), so λ can
    only move as far as the last y* allows (on the benchmark's probit data, n = 905, λ's bulk
    ESS over 2 × 2,000 iterations ranged 19–134 over five seeds; 99–141 with this move). Written as
    h = √λ·w, w ~ N(0, σ²K) does not depend on λ, and λ given w, y* and β is a different, much
    less tied conditional: alternating the two is Yu & Meng's (2011) interweaving. The ratio is
    the prior and proposal terms and N(y* − Xβ; h*, σ²I) over N(y* − Xβ; h, σ²I): h ~ N(0, λσ²K)
    is a scale family in λ, so its density and the Jacobian of h → h* cancel (on K's range,
    whatever its rank). ``resid`` = y* − Xβ. Returns (λ, h, accepted)."""
    proposal = propose_lambda(lam, log_jump, s, rng)
    if proposal is None:
        return lam, h, False
    lam_star, log_ratio = proposal
    scale = math.sqrt(lam_star / lam)
    e, e_star = resid - h, resid - scale * h
    log_ratio -= (float(e_star @ e_star) - float(e @ e)) / (2.0 * sigsq)
    if math.log(rng.random()) > log_ratio:
        return lam, h, False
    return lam_star, scale * h, True


# Adaptation (Andrieu & Thoms 2008, a Robbins–Monro step on the log jump): the acceptance rate
# a one-dimensional random walk mixes best at (Roberts, Gelman & Gilks 1997: 0.44)
ACCEPT_TARGET = 0.44


def adapted_jump(log_jump: float, accepted: bool, t: int, start: float) -> float:
    """One Robbins–Monro step of a log jump size towards ACCEPT_TARGET (step t^-0.6, kept within
    10⁻³…10³ times the starting jump)."""
    log_jump += (float(accepted) - ACCEPT_TARGET) * min(1.0, 3.0 * t**-0.6)
    return min(max(log_jump, math.log(start) - 6.9), math.log(start) + 6.9)


def gls_moments(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From W = L⁻¹[X y*] (L the Cholesky factor of V): the GLS estimate (XᵀV⁻¹X)⁻¹XᵀV⁻¹y* and
    the lower Cholesky factor of XᵀV⁻¹X = WₓᵀWₓ, whose inverse times σ² is β's covariance."""
    return gls_moments_from_gram(w.T @ w)


def gls_moments_from_gram(gram: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``gls_moments`` from [X y*]ᵀV⁻¹[X y*] itself (what a low-rank V gives without a root)."""
    root = linalg.cholesky(gram[:-1, :-1], lower=True)
    return linalg.cho_solve((root, True), gram[:-1, -1]), root


def truncated_normal(
    mean: np.ndarray, sd: np.ndarray, positive: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """N(mean, sd²) truncated to (0, ∞) where ``positive`` else (−∞, 0] (bkmr's y* given h)."""
    mean = np.asarray(mean, dtype=float)
    return fast.truncated_normals(
        mean,
        np.broadcast_to(np.asarray(sd, dtype=float), mean.shape).copy(),
        np.asarray(positive, dtype=bool),
        int(rng.integers(2**31)),
    )


def tmvn_sweep(
    ystar: np.ndarray, mean: np.ndarray, precision: np.ndarray, positive: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """One Gibbs sweep over the n coordinates of N(mean, precision⁻¹) truncated by sign
    (bkmr's ``rtmvnorm(..., H = Vinv, algorithm = "gibbs")`` from the previous y*)."""
    y = np.array(ystar, dtype=float)
    g = blas.dsymv(1.0, precision, y - mean, lower=1)  # reads the lower triangle only
    fast.tmvn_sweep(
        y,
        np.asarray(mean, dtype=float),
        precision,
        g,
        np.asarray(positive, dtype=bool),
        int(rng.integers(2**31)),
    )
    return y


def _support(s: BkmrSettings) -> tuple[float, float]:
    return 1.0 / s.r_b, (math.inf if s.r_a == 0 else 1.0 / s.r_a)


def refine_r(
    current: float, s: BkmrSettings, rng: np.random.Generator, sd: float | None = None
) -> tuple[float, float]:
    """bkmr's refine proposal for r_m under the "invunif" prior: a normal random walk (sd
    ``sd``, default ``r_jump``) truncated to the prior's support (1/r_b, 1/r_a). Returns the
    proposal and log q(r | r*) − log q(r* | r), which is not 0: the truncation's mass differs
    at r and r*."""
    lo, hi = _support(s)
    sd = s.r_jump if sd is None else sd
    a, b = (lo - current) / sd, (hi - current) / sd
    # inverse CDF inside [a, b], from whichever tail keeps the digits
    if a > 0:
        pa, pb = special.ndtr(-a), special.ndtr(-b)
        prop = current - sd * special.ndtri(pb + rng.random() * (pa - pb))
    else:
        pa, pb = special.ndtr(a), special.ndtr(b)
        prop = current + sd * special.ndtri(pa + rng.random() * (pb - pa))
    prop = min(max(prop, lo), hi)
    return prop, _log_mass(current, s, sd) - _log_mass(prop, s, sd)


def _log_mass(centre: float, s: BkmrSettings, sd: float) -> float:
    """log P(lo < N(centre, sd²) < hi), the normalising constant of the refine proposal."""
    lo, hi = _support(s)
    return float(np.log(special.ndtr((hi - centre) / sd) - special.ndtr((lo - centre) / sd)))


def propose_r_delta(
    r: np.ndarray,
    delta: np.ndarray,
    s: BkmrSettings,
    rng: np.random.Generator,
    r_jump: float | np.ndarray | None = None,
):
    """bkmr's ``rdelta.comp.update`` proposal (``r_jump``: the refine sd, one or one per
    exposure; default ``s.r_jump``). Returns (r*, δ*, log prior ratio + log
    proposal ratio, move) with move 1 = switch, 2 = refine.

    The switch move is chosen with probability 1 when every δ is 0 and 1/2 otherwise, so its
    Hastings ratio carries q(θ | θ*)/q(θ* | θ) = P(move | θ*)/P(move | θ). bkmr 0.2.2
    (R/bkmr_parameter_update_functions.R) adds ``-log(move.prob.star) + log(move.prob)``, the
    inverse, so its chain does not leave the posterior invariant: under the prior alone with
    π ~ Beta(1, 1) it visits "no exposure selected" less often than the prior's 1/(M + 1)
    (about 0.05 instead of 1/6 for M = 5). We use the correct ratio; ``bkmr_compat`` restores
    bkmr's sign, to replay its chain.
    """
    m = len(r)
    all_off = not delta.any()
    move = 1 if all_off else int(rng.integers(1, 3))
    r_star, delta_star = r.copy(), delta.copy()
    if move == 1:  # switch one δ_m; r_m drawn from its prior when switched on
        comp = int(rng.integers(m))
        delta_star[comp] = 1 - delta[comp]
        r_star[comp] = 1.0 / rng.uniform(s.r_a, s.r_b) if delta_star[comp] else 0.0
        move_prob = 1.0 if all_off else 0.5
        move_prob_star = 1.0 if not delta_star.any() else 0.5
        # prior(r*)/q(r*) = 1 when r is drawn from its prior: only δ's prior and the move
        # probabilities remain
        move_term = math.log(move_prob_star) - math.log(move_prob)
        log_ratio = (
            log_prior_delta(delta_star, s)
            - log_prior_delta(delta, s)
            + (-move_term if s.bkmr_compat else move_term)
        )
        return r_star, delta_star, log_ratio, 1
    active = np.flatnonzero(delta)
    comp = int(active[rng.integers(len(active))])
    sd = None if r_jump is None else float(np.broadcast_to(r_jump, r.shape)[comp])
    r_star[comp], log_q = refine_r(r[comp], s, rng, sd)
    return r_star, delta_star, log_prior_r(r_star[comp], s) - log_prior_r(r[comp], s) + log_q, 2
