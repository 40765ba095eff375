"""Reference implementations of BKMR's updates in plain numpy/scipy: the slow, obvious
versions that tests hold the sampler's fast paths (numba, in-place LAPACK) to. Only tests
import them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from analysis.methods.bkmr.model import (
    BkmrSettings,
    gls_moments,
    lambda_prior_proposal_ratio,
    log_marginal_terms,
)


class Kernel:
    """Squared distances per exposure, so that K(r) = exp(−Σ r_m S_m) costs one pass."""

    def __init__(self, z: np.ndarray):
        self.z = z
        self.sq = np.stack([(z[:, m, None] - z[None, :, m]) ** 2 for m in range(z.shape[1])])

    def matrix(self, r: np.ndarray) -> np.ndarray:
        return np.exp(-np.tensordot(r, self.sq, axes=1))


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
    return log_marginal_terms(factor.logdet, float(u @ factor.solve(u)), len(u), sigsq)


def lambda_log_ratio(
    lam: float, lam_star: float, f: Factor, f_star: Factor, u: np.ndarray, sigsq: float, s: BkmrSettings
) -> float:
    """log of the MH acceptance ratio for λ → λ* (gamma proposal, mean = current, sd = jump)."""
    lik = 0.0 if s.prior_only else log_marginal(f_star, u, sigsq) - log_marginal(f, u, sigsq)
    return lik + lambda_prior_proposal_ratio(lam, lam_star, s)


def beta_conditional(x: np.ndarray, target: np.ndarray, factor: Factor, sigsq: float):
    """Mean and covariance of β | y*, λ, r with h integrated out (flat prior)."""
    w = linalg.solve_triangular(factor.chol, np.column_stack([x, target]), lower=True)
    mean, root = gls_moments(w)
    return mean, sigsq * linalg.cho_solve((root, True), np.eye(len(mean)))
