"""One BKMR Markov chain, in bkmr's order of updates (``kmbayes``).

Each iteration: y* (probit), β, σ² (Gaussian), λ, every r_m (without variable selection) or
one (r, δ) move (with it), then h (``est_h``) and, unless ``bkmr_compat`` or not
``interweave``, λ once more with h scaled along (``model.interwoven_lambda``). Row 0 of every
trace holds the starting values, as bkmr's chain does, so "the first half is burn-in" selects
the same rows.

Linear algebra (``_Linalg``): V = I + λK through K's low-rank root where K's numerical rank
is small (``lowrank``: a λ proposal then costs O(nk), an r proposal k kernel columns), else
the lower triangles of K and of V's Cholesky factor in Fortran-ordered buffers that LAPACK
works on in place; a proposal is factorised into spare buffers and swapped in when accepted,
so no matrix is factorised twice and nothing is copied per iteration. V⁻¹ (for the y* sweep)
is recomputed only when V has changed.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import statsmodels.api as sm
from scipy import linalg
from scipy.linalg import blas, lapack

from analysis.methods.bkmr import fast, lowrank
from analysis.methods.bkmr.model import (
    BkmrSettings,
    State,
    adapted_jump,
    gls_moments_from_gram,
    interwoven_lambda,
    log_marginal_terms,
    log_prior_r,
    propose_lambda,
    propose_r_delta,
    refine_r,
    tmvn_sweep,
    truncated_normal,
)
from analysis.methods.irls import numerical_notes
from nhanes_bone.core.errors import InputError


class BkmrError(InputError):
    """A BKMR fit that cannot go on, with what was wrong."""


@dataclass
class Chain:
    """The trace of one chain (row 0 = starting values) and what it needs for summaries."""

    beta: np.ndarray
    lam: np.ndarray
    r: np.ndarray
    delta: np.ndarray
    sigsq: np.ndarray
    loglik: np.ndarray
    accept_lambda: np.ndarray  # per iteration: 1 accepted, 0 rejected
    accept_r: np.ndarray  # (iterations, m): refine steps (no varsel) or the (r, δ) move in column 0
    move: np.ndarray  # varsel: 1 switch, 2 refine (0 in row 0 / without varsel)
    ystar_mean: np.ndarray  # post-burn-in mean of y* (probit) or y: bkmr's "approx" ycont
    start: dict
    seed: list[int] | int
    seconds: float
    thin_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    ystar_draws: np.ndarray | None = None  # y* at thin_rows (probit)
    # the proposals' jump sizes after burn-in (adapted during it, or bkmr's): lambda_jump, r_jump
    jumps: dict = field(default_factory=dict)
    # wall seconds spent in each update (where the time goes): ystar, beta, lambda, r, h, other
    step_seconds: dict = field(default_factory=dict)
    # per iteration, the interwoven λ move (``model.interwoven_lambda``): 1 accepted; None when off
    accept_lambda_interwoven: np.ndarray | None = None

    @property
    def iterations(self) -> int:
        return len(self.lam)


def bkmr_start(y: np.ndarray, z: np.ndarray, x: np.ndarray, family: str) -> State:
    """bkmr's starting values: r = 1, δ = 1, λ = 10; β = the covariates' coefficients of
    lm(y ~ Z + X) (Gaussian, with σ² its residual variance) or of the probit
    glm(y ~ Z + X) (binomial, y* = ±½); 0 where that fit fails."""
    n, m = z.shape
    design = np.column_stack([np.ones(n), z, x])
    beta = np.zeros(x.shape[1])
    sigsq = 1.0
    start_notes: list[str] = []
    if family == "gaussian":
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        beta = coef[1 + m :]
        resid = y - design @ coef
        sigsq = float(resid @ resid / max(n - np.linalg.matrix_rank(design), 1))
        ystar = y.astype(float).copy()
    else:
        # bkmr's glm warns and goes on: the warnings are kept on the start (diagnostics.json)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = sm.GLM(y, design, family=sm.families.Binomial(sm.families.links.Probit())).fit()
                if not np.all(np.isfinite(res.params)):
                    raise ValueError("probit start did not converge")
                beta = np.asarray(res.params)[1 + m :]
            except Exception as exc:  # bkmr: try(glm(...)); on failure β = 0
                start_notes.append(f"probit start failed ({exc}); β starts at 0 as in bkmr")
        start_notes += numerical_notes(caught)
        ystar = np.where(y > 0, 0.5, -0.5)
    return State(
        beta=beta,
        lam=10.0,
        r=np.ones(m),
        delta=np.ones(m),
        sigsq=sigsq,
        ystar=ystar,
        h=np.ones(n),
        notes=list(dict.fromkeys(start_notes)),
    )


class _Linalg:
    """V = I + λK for the current state and for a proposal, factorised one of two ways.

    - Low rank (``lowrank.LowRankKernel``), whenever K's numerical rank is at most n/4: the
      common case of a few active exposures with smooth kernels. No n × n matrix is formed; a λ
      proposal costs O(nk), an r proposal k kernel columns.
    - Dense otherwise: the lower triangles of K and of V's Cholesky factor in Fortran-ordered
      buffers that LAPACK works on in place, a proposal factorised into spare buffers and
      swapped in when accepted.

    A new kernel (an accepted r) may switch from one to the other. ``lam``: λ of the current
    factor; ``low`` is None when the current kernel is dense.
    """

    def __init__(self, z: np.ndarray, r: np.ndarray, lam: float, max_rank: int | None = None):
        n = len(z)
        self.z = np.ascontiguousarray(z, dtype=float)
        self.max_rank = max(1, n // 4) if max_rank is None else max_rank
        self._dense: dict[str, np.ndarray] = {}
        self.prec_current = False
        self.h_buf: np.ndarray | None = None
        self.root: tuple[np.ndarray, np.ndarray] | None = None  # of a dense K, for h (est_h)
        self.lam = self.lam_spare = lam
        self.low_spare: lowrank.LowRankKernel | None = None
        self.low = lowrank.LowRankKernel.of(self.z, r, self.max_rank)
        if self.low is None:
            fast.fill_kernel_and_v(self.z, r, lam, self.k, self.chol)
            self.logdet = self.factor(None, lam, self.chol)
        else:
            self.logdet = self.low.logdet(lam)

    def _buffer(self, name: str) -> np.ndarray:
        """An n × n Fortran buffer, made the first time a dense kernel needs it."""
        if name not in self._dense:
            n = len(self.z)
            self._dense[name] = np.zeros((n, n), order="F")
        return self._dense[name]

    k = property(lambda self: self._buffer("k"))
    chol = property(lambda self: self._buffer("chol"))
    k_spare = property(lambda self: self._buffer("k_spare"))
    chol_spare = property(lambda self: self._buffer("chol_spare"))

    def _swap(self, a: str, b: str) -> None:
        self._dense[a], self._dense[b] = self._buffer(b), self._buffer(a)

    @staticmethod
    def factor(k: np.ndarray | None, lam: float, out: np.ndarray) -> float:
        """Cholesky of I + λK into ``out`` (lower triangle; already holding V when ``k`` is
        None); returns log det V."""
        if k is not None:
            fast.fill_v(k, lam, 1.0, out)
        _, info = lapack.dpotrf(out, lower=1, clean=0, overwrite_a=1)
        if info != 0:
            raise BkmrError(f"V = I + λK is not positive definite (λ = {lam:g}; LAPACK dpotrf info {info})")
        return 2.0 * float(np.sum(np.log(np.diagonal(out))))

    def propose_lambda(self, lam: float) -> float:
        self.lam_spare, self.low_spare = lam, self.low
        if self.low is not None:
            return self.low.logdet(lam)
        return self.factor(self.k, lam, self.chol_spare)

    def propose_r(self, r: np.ndarray, lam: float) -> float:
        self.lam_spare = lam
        self.low_spare = lowrank.LowRankKernel.of(self.z, r, self.max_rank)
        if self.low_spare is not None:
            return self.low_spare.logdet(lam)
        fast.fill_kernel_and_v(self.z, r, lam, self.k_spare, self.chol_spare)
        return self.factor(None, lam, self.chol_spare)

    def accept(self, logdet: float, new_kernel: bool) -> None:
        if self.low_spare is None:  # the proposal is dense
            self._swap("chol", "chol_spare")
            if new_kernel:
                self._swap("k", "k_spare")
        if new_kernel:
            self.root = None
        self.low, self.lam = self.low_spare, self.lam_spare
        self.logdet = logdet
        self.prec_current = False

    def quad(self, u: np.ndarray, spare: bool = False) -> float:
        """uᵀV⁻¹u (dense: through one triangular solve)."""
        low, lam = (self.low_spare, self.lam_spare) if spare else (self.low, self.lam)
        if low is not None:
            return low.quad(u, lam)
        w, info = lapack.dtrtrs(self.chol_spare if spare else self.chol, u, lower=1)
        return float(w @ w)

    def gram(self, b: np.ndarray) -> np.ndarray:
        """BᵀV⁻¹B for the columns B (dense: ‖L⁻¹B‖²'s cross products)."""
        if self.low is not None:
            return self.low.gram(b, self.lam)
        w = lapack.dtrtrs(self.chol, b, lower=1)[0]
        return w.T @ w

    def solve(self, b: np.ndarray) -> np.ndarray:
        if self.low is not None:
            return self.low.solve(b, self.lam)
        return lapack.dpotrs(self.chol, b, lower=1)[0]

    def precision(self) -> np.ndarray:
        prec = self._buffer("prec")
        if not self.prec_current:
            if self.low is not None:
                prec[...] = self.low.precision(self.lam)
            else:
                prec[...] = self.chol
                _, info = lapack.dpotri(prec, lower=1, overwrite_c=1)
                if info != 0:
                    raise BkmrError(f"V could not be inverted (LAPACK dpotri info {info})")
            self.prec_current = True
        return prec

    def kernel_root(self) -> tuple[np.ndarray, np.ndarray]:
        """A root of a dense K: K ≈ (P R)(P R)ᵀ with R lower n × rank, from LAPACK's pivoted
        Cholesky (dpstrf), which stops at K's numerical rank. K changes only when an (r, δ) move
        is accepted; λK's root is √λ times this one, so the h draw of most iterations costs no
        factorisation at all. Returns (R, piv) with piv the 0-based pivot order."""
        if self.root is None:
            n = self.k.shape[0]
            if self.h_buf is None:
                self.h_buf = np.zeros((n, n), order="F")
            self.h_buf[...] = self.k
            _, piv, rank, info = lapack.dpstrf(self.h_buf, lower=1, tol=1e-10, overwrite_a=1)
            if info < 0:
                raise BkmrError(f"K could not be factorised (LAPACK dpstrf info {info})")
            self.root = (np.tril(self.h_buf[:, :rank]), piv - 1)
        return self.root

    def draw_h(self, lam: float, sigsq: float, u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """h | u ~ N(λKV⁻¹u, σ²(λK − λKV⁻¹λK)) by Matheron's rule: h = h₀ + λKV⁻¹(u − h₀ − e)
        with h₀ ~ N(0, σ²λK), e ~ N(0, σ²I); h₀ from a root of K (no inverse)."""
        n = len(u)
        sd = math.sqrt(sigsq)
        if self.low is not None:
            h0 = sd * math.sqrt(lam) * self.low.draw(rng)
            e = sd * rng.standard_normal(n)
            return h0 + lam * self.low.times(self.solve(u - h0 - e))
        root, piv = self.kernel_root()
        h0 = np.empty(n)
        h0[piv] = sd * math.sqrt(lam) * (root @ rng.standard_normal(root.shape[1]))
        e = sd * rng.standard_normal(n)
        return h0 + lam * blas.dsymv(1.0, self.k, self.solve(u - h0 - e), lower=1)


def draw_beta(x: np.ndarray, target: np.ndarray, la: _Linalg, sigsq: float, rng) -> np.ndarray:
    """β | y*, λ, r ~ N((XᵀV⁻¹X)⁻¹XᵀV⁻¹y*, σ²(XᵀV⁻¹X)⁻¹), h integrated out (bkmr's beta.update)."""
    mean, ca = gls_moments_from_gram(la.gram(np.column_stack([x, target])))
    # cov = σ² A⁻¹ = σ² L⁻ᵀL⁻¹: a draw is mean + σ L⁻ᵀ e
    return mean + math.sqrt(sigsq) * linalg.solve_triangular(
        ca, rng.standard_normal(len(mean)), lower=True, trans="T"
    )


def _metropolis(
    st: State,
    la: _Linalg,
    u: np.ndarray,
    quad: float | None,
    r_star: np.ndarray,
    delta_star: np.ndarray,
    log_extra: float,
    s: BkmrSettings,
    rng: np.random.Generator,
) -> tuple[bool, float | None]:
    """bkmr's MHstep for a new (r, δ): log ratio = Δ log-likelihood + ``log_extra`` (prior and
    proposal terms); on acceptance the state and the factor are swapped in. Returns whether
    it was accepted and uᵀV⁻¹u under the state now current."""
    if not np.isfinite(log_extra):
        return False, quad
    log_ratio = log_extra
    quad_star = None
    if not s.prior_only:
        assert quad is not None  # computed whenever the likelihood is
        logdet = la.propose_r(r_star, st.lam)
        quad_star = la.quad(u, spare=True)
        log_ratio += log_marginal_terms(logdet, quad_star, len(u), st.sigsq) - log_marginal_terms(
            la.logdet, quad, len(u), st.sigsq
        )
    if math.log(rng.random()) > log_ratio:
        return False, quad
    st.r, st.delta = r_star, np.array(delta_star, dtype=float)
    if not s.prior_only:
        la.accept(logdet, new_kernel=True)
    return True, quad_star


def run_chain(
    y: np.ndarray,
    z: np.ndarray,
    x: np.ndarray,
    settings: BkmrSettings,
    seed: int,
    start: State | None = None,
) -> Chain:
    """One chain of ``settings.iterations`` rows (row 0 = start); the same seed gives the same chain."""
    t0 = time.perf_counter()
    s = settings
    rng = np.random.default_rng(seed)
    y = np.asarray(y, dtype=float)
    z = np.asarray(z, dtype=float)
    x = np.asarray(x, dtype=float)
    n, m = z.shape
    probit = s.family == "binomial"
    positive = y > 0
    st = start if start is not None else bkmr_start(y, z, x, s.family)
    st = State(
        np.array(st.beta, dtype=float),
        float(st.lam),
        np.array(st.r, dtype=float),
        np.array(st.delta, dtype=float),
        1.0 if probit else float(st.sigsq),
        np.array(st.ystar, dtype=float),
        np.ones(n) if st.h is None else np.array(st.h, dtype=float),
    )
    if s.varsel:
        st.r = np.where(st.delta == 1, st.r, 0.0)
    else:
        st.delta = np.ones(m)
    start_record = {
        "lambda": st.lam,
        "r": st.r.tolist(),
        "delta": st.delta.tolist(),
        "beta": st.beta.tolist(),
        "sigsq": st.sigsq,
        "warnings": list(st.notes),
    }
    la = _Linalg(z, st.r, st.lam)
    it = s.iterations
    trace = {
        "beta": np.empty((it, x.shape[1])),
        "lam": np.empty(it),
        "r": np.empty((it, m)),
        "delta": np.empty((it, m)),
        "sigsq": np.empty(it),
        "loglik": np.empty(it),
        "acc_l": np.zeros(it),
        "acc_w": np.zeros(it),
        "acc_r": np.zeros((it, m)),
        "move": np.zeros(it, dtype=int),
    }
    burn = it // 2
    thin_rows = np.arange(burn, it, s.thin)
    ystar_draws = np.empty((len(thin_rows), n)) if probit else None
    ystar_sum = np.zeros(n)
    next_thin = 0

    def record(t: int, u: np.ndarray, target: np.ndarray, quad: float | None) -> None:
        nonlocal ystar_sum, next_thin
        trace["beta"][t], trace["lam"][t], trace["r"][t], trace["delta"][t] = st.beta, st.lam, st.r, st.delta
        trace["sigsq"][t] = st.sigsq
        trace["loglik"][t] = 0.0 if quad is None else log_marginal_terms(la.logdet, quad, n, st.sigsq)
        if t >= burn:
            ystar_sum += target
            if next_thin < len(thin_rows) and thin_rows[next_thin] == t:
                if ystar_draws is not None:
                    ystar_draws[next_thin] = target
                next_thin += 1

    target = st.ystar if probit else y
    u = target - x @ st.beta
    record(0, u, target, None if s.prior_only else la.quad(u))
    # the jumps: adapted during burn-in (t < burn) when s.adapt, frozen from then on
    # λ's jump: bkmr's sd, or (adapt) the relative sd c, from lambda_jump / lambda_mean (at most 1)
    lj_start = min(s.lambda_jump / s.lambda_mean, 1.0) if s.adapt else s.lambda_jump
    log_lj = math.log(lj_start)
    log_rj = np.full(m, math.log(s.r_jump))
    refines = np.zeros(m, dtype=int)
    interweave = s.interweave and s.est_h and s.update_lambda and not (s.prior_only or s.bkmr_compat)
    log_wj = log_lj  # the interwoven λ move's own jump, tuned as λ's
    clock = dict.fromkeys(("ystar", "beta", "lambda", "r", "h"), 0.0)
    tick = time.perf_counter
    for t in range(1, it):
        adapting = s.adapt and t < burn
        t1 = tick()
        # y* (probit), from the previous β (and h)
        if probit and not s.prior_only:
            if s.est_h:
                st.ystar = truncated_normal(st.h + x @ st.beta, np.ones(n), positive, rng)
            else:
                st.ystar = tmvn_sweep(st.ystar, x @ st.beta, la.precision(), positive, rng)
        target = st.ystar if probit else y
        t2 = tick()
        # β, with σ² of the previous iteration (bkmr's order)
        if x.shape[1] and not s.prior_only:
            st.beta = draw_beta(x, target, la, st.sigsq, rng)
        u = target - x @ st.beta
        quad = None if s.prior_only else la.quad(u)
        # σ² (Gaussian)
        if s.family == "gaussian" and quad is not None:
            st.sigsq = 1.0 / rng.gamma(s.a_sigsq + n / 2, 1.0 / (s.b_sigsq + quad / 2))
        t3 = tick()
        # λ
        if s.update_lambda:
            # bkmr: Gamma(mean λ, sd lambda_jump); adapted: sd = c·λ, c tuned during burn-in
            proposal = propose_lambda(st.lam, log_lj, s, rng)
            if proposal is not None:
                lam_star, log_ratio = proposal
                if quad is not None:
                    logdet = la.propose_lambda(lam_star)
                    quad_star = la.quad(u, spare=True)
                    log_ratio += log_marginal_terms(logdet, quad_star, n, st.sigsq) - log_marginal_terms(
                        la.logdet, quad, n, st.sigsq
                    )
                if math.log(rng.random()) <= log_ratio:
                    st.lam = lam_star
                    trace["acc_l"][t] = 1
                    if not s.prior_only:
                        la.accept(logdet, new_kernel=False)
                        quad = quad_star
            if adapting:
                # the relative sd stays ≤ 3: beyond, Gamma(shape 1/c²) draws underflow
                log_lj = min(adapted_jump(log_lj, bool(trace["acc_l"][t]), t, lj_start), math.log(3.0))
        t4 = tick()
        # r: every r_m in turn (no variable selection, bkmr's rmethod "varying"), or one
        # (r, δ) switch-or-refine move (variable selection)
        if s.varsel:
            before = st.r.copy()
            r_star, delta_star, log_extra, trace["move"][t] = propose_r_delta(
                st.r, st.delta, s, rng, np.exp(log_rj)
            )
            accepted, quad = _metropolis(st, la, u, quad, r_star, delta_star, log_extra, s, rng)
            trace["acc_r"][t, 0] = accepted
            if adapting and trace["move"][t] == 2:
                comp = int(np.flatnonzero(r_star != before)[0]) if (r_star != before).any() else -1
                if comp >= 0:
                    refines[comp] += 1
                    log_rj[comp] = adapted_jump(log_rj[comp], accepted, refines[comp], s.r_jump)
        elif s.r_method == "varying":
            for comp in range(m):
                r_star = st.r.copy()
                r_star[comp], log_q = refine_r(st.r[comp], s, rng, math.exp(log_rj[comp]))
                log_extra = log_prior_r(r_star[comp], s) - log_prior_r(st.r[comp], s) + log_q
                accepted, quad = _metropolis(st, la, u, quad, r_star, st.delta, log_extra, s, rng)
                trace["acc_r"][t, comp] = accepted
                if adapting:
                    log_rj[comp] = adapted_jump(log_rj[comp], accepted, t, s.r_jump)
        t5 = tick()
        # h (est_h), given everything else; then λ once more, moving h with it
        if s.est_h and not s.prior_only:
            st.h = la.draw_h(st.lam, st.sigsq, u, rng)
            if interweave:
                st.lam, st.h, moved = interwoven_lambda(st.lam, st.h, u, st.sigsq, log_wj, s, rng)
                trace["acc_w"][t] = moved
                if moved:
                    la.accept(la.propose_lambda(st.lam), new_kernel=False)
                    quad = la.quad(u)
                if adapting:
                    log_wj = min(adapted_jump(log_wj, moved, t, lj_start), math.log(3.0))
        t6 = tick()
        record(t, u, target, quad)
        for key, seconds in zip(clock, (t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5), strict=True):
            clock[key] += seconds
    return Chain(
        beta=trace["beta"],
        lam=trace["lam"],
        r=trace["r"],
        delta=trace["delta"],
        sigsq=trace["sigsq"],
        loglik=trace["loglik"],
        accept_lambda=trace["acc_l"],
        accept_lambda_interwoven=trace["acc_w"] if interweave else None,
        accept_r=trace["acc_r"],
        move=trace["move"],
        ystar_mean=ystar_sum / (it - burn),
        start=start_record,
        seed=seed,
        seconds=time.perf_counter() - t0,
        thin_rows=thin_rows,
        ystar_draws=ystar_draws,
        jumps=(
            # adapted: the relative sd c of the proposal Gamma(mean λ, sd c·λ) and the refine sds
            {"adapted": True, "lambda_jump_relative": math.exp(log_lj), "r_jump": np.exp(log_rj).tolist()}
            if s.adapt
            else {"adapted": False, "lambda_jump": s.lambda_jump, "r_jump": [s.r_jump] * m}
        )
        | (
            {"interwoven_lambda_jump" + ("_relative" if s.adapt else ""): math.exp(log_wj)}
            if interweave
            else {}
        ),
        step_seconds=clock,
    )
