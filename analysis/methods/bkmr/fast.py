"""Compiled inner loops of the BKMR sampler (numba).

Why compiled: the y* Gibbs sweep visits the n coordinates one after another, each needing the
previous one's value, so it cannot be vectorised; a Python loop of scalar scipy calls costs
~10 µs per coordinate, more than all the linear algebra of an iteration at n ≈ 900. The
kernel fill computes distance and exp in one pass over the lower triangle only, written
straight into the Fortran-ordered buffer that LAPACK factorises in place. The pivoted partial
Cholesky of the low-rank path (``lowrank``) computes each kernel column as its pivot is chosen,
a loop of small steps that numpy paid six array calls a column for.

Random numbers: numba keeps its own Mersenne Twister per thread; each call that draws is
given a seed taken from the chain's numpy Generator, so a chain is reproducible from its
seed alone.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)
# Robert (1995)'s exponential rejection sampler takes over from the inverse CDF beyond this
# many SDs into the tail, where the tail mass (< 3e-7) would leave too few digits.
_TAIL = 5.0


@numba.njit(cache=True)
def fill_kernel_and_v(z: np.ndarray, r: np.ndarray, lam: float, k: np.ndarray, v: np.ndarray) -> None:
    """Lower triangles of K = exp(−Σ_m r_m (z_im − z_jm)²) and V = I + λK, in one pass.

    One thread on purpose: OpenMP worker threads left spinning after a parallel region
    halved the speed of the Cholesky factorisation that follows (measured), and chains run
    in parallel processes anyway.
    """
    n, m = z.shape
    for j in range(n):
        for i in range(j, n):
            d = 0.0
            for c in range(m):
                t = z[i, c] - z[j, c]
                d += r[c] * t * t
            e = math.exp(-d)
            k[i, j] = e
            v[i, j] = lam * e
        v[j, j] += 1.0


@numba.njit(cache=True)
def pivoted_cholesky(scaled: np.ndarray, root: np.ndarray, tol: float) -> int:
    """Pivoted partial Cholesky of K_ij = exp(−‖scaled_i − scaled_j‖²) into root's columns, each
    column of K computed when its pivot is chosen (``lowrank.pivoted_root``'s algorithm, compiled:
    in numpy each column was six array calls, ~100 µs, and a proposal's root ~40–200 columns).
    Returns the rank k (root[:, :k] holds the factor) or −1 when root's width leaves a remaining
    diagonal above ``tol``."""
    n, m = scaled.shape
    width = root.shape[1]
    remaining = np.ones(n)
    column = np.empty(n)
    for j in range(width):
        p = 0
        pivot = remaining[0]
        for i in range(1, n):
            if remaining[i] > pivot:
                pivot = remaining[i]
                p = i
        if pivot <= tol:
            return j
        for i in range(n):
            d = 0.0
            for c in range(m):
                t = scaled[i, c] - scaled[p, c]
                d += t * t
            column[i] = math.exp(-d)
        for c in range(j):
            at_pivot = root[p, c]
            for i in range(n):
                column[i] -= root[i, c] * at_pivot
        s = 1.0 / math.sqrt(pivot)
        for i in range(n):
            e = column[i] * s
            root[i, j] = e
            remaining[i] -= e * e
        remaining[p] = 0.0
    for i in range(n):
        if remaining[i] > tol:
            return -1
    return width


@numba.njit(cache=True)
def fill_v(k: np.ndarray, lam: float, diagonal: float, out: np.ndarray) -> None:
    """Lower triangle of λK + ``diagonal``·I from the lower triangle of K (V: diagonal = 1)."""
    n = k.shape[0]
    for j in range(n):
        for i in range(j, n):
            out[i, j] = lam * k[i, j]
        out[j, j] += diagonal


@numba.njit(cache=True)
def ndtri(p: float) -> float:
    """Inverse of the standard normal CDF: Acklam's rational approximation (relative error
    1.2e-9) polished by one Halley step on erfc, which brings it to double precision."""
    if p <= 0.0:
        return -np.inf
    if p >= 1.0:
        return np.inf
    a1, a2, a3 = -3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02
    a4, a5, a6 = 1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00
    b1, b2, b3 = -5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02
    b4, b5 = 6.680131188771972e01, -1.328068155288572e01
    c1, c2, c3 = -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00
    c4, c5, c6 = -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00
    d1, d2, d3, d4 = 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00
    low = 0.02425
    if p < low:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / (
            (((d1 * q + d2) * q + d3) * q + d4) * q + 1.0
        )
    elif p <= 1.0 - low:
        q = p - 0.5
        t = q * q
        x = (
            (((((a1 * t + a2) * t + a3) * t + a4) * t + a5) * t + a6)
            * q
            / (((((b1 * t + b2) * t + b3) * t + b4) * t + b5) * t + 1.0)
        )
    else:
        q = math.sqrt(-2.0 * math.log(1.0 - p))
        x = -(((((c1 * q + c2) * q + c3) * q + c4) * q + c5) * q + c6) / (
            (((d1 * q + d2) * q + d3) * q + d4) * q + 1.0
        )
    # Halley step; in the upper half work with the upper tail so that 1 − p keeps its digits
    e = 0.5 * math.erfc(-x / _SQRT2) - p if p < 0.5 else -(0.5 * math.erfc(x / _SQRT2) - (1.0 - p))
    u = e * _SQRT2PI * math.exp(0.5 * x * x)
    return x - u / (1.0 + 0.5 * x * u)


@numba.njit(cache=True)
def _above(alpha: float) -> float:
    """A draw of N(0, 1) conditioned on exceeding ``alpha``."""
    if alpha < _TAIL:
        tail = 0.5 * math.erfc(alpha / _SQRT2)  # P(X > α), accurate in the tail
        x = -ndtri(np.random.random() * tail)
        return max(x, alpha)
    rate = 0.5 * (alpha + math.sqrt(alpha * alpha + 4.0))
    while True:
        x = alpha - math.log(1.0 - np.random.random()) / rate
        if np.random.random() <= math.exp(-0.5 * (x - rate) ** 2):
            return x


@numba.njit(cache=True)
def _truncated(mean: float, sd: float, positive: bool) -> float:
    """N(mean, sd²) truncated to (0, ∞) if ``positive`` else to (−∞, 0]."""
    if positive:
        return mean + sd * _above(-mean / sd)
    return mean - sd * _above(mean / sd)


@numba.njit(cache=True)
def truncated_normals(mean: np.ndarray, sd: np.ndarray, positive: np.ndarray, seed: int) -> np.ndarray:
    np.random.seed(seed)
    out = np.empty(mean.shape[0])
    for i in range(mean.shape[0]):
        out[i] = _truncated(mean[i], sd[i], positive[i])
    return out


@numba.njit(cache=True)
def tmvn_sweep(
    y: np.ndarray, mean: np.ndarray, prec: np.ndarray, g: np.ndarray, positive: np.ndarray, seed: int
) -> None:
    """One Gibbs sweep of N(mean, P⁻¹) truncated by sign, in place on ``y``.

    ``prec`` holds P in its lower triangle (any memory order); ``g`` must hold P(y − mean) on
    entry and is kept current, so coordinate i's conditional mean is
    y_i − g_i / P_ii and the sweep costs O(n²), not O(n³).
    """
    np.random.seed(seed)
    n = y.shape[0]
    for i in range(n):
        pii = prec[i, i]
        m = y[i] - g[i] / pii
        new = _truncated(m, 1.0 / math.sqrt(pii), positive[i])
        change = new - y[i]
        if change != 0.0:
            for j in range(i):
                g[j] += prec[i, j] * change
            for j in range(i, n):
                g[j] += prec[j, i] * change
            y[i] = new
