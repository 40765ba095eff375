"""V = I + λK when the kernel K is of low numerical rank: everything the sampler needs in O(n k²).

The Gaussian kernel of a few active exposures with small r is smooth, and its numerical rank is
far below n: on the benchmark's data (n = 905, two active exposures) K's rank is ~40. A
pivoted partial Cholesky K ≈ RRᵀ (R n × k) then gives, through the eigendecomposition of the
k × k RᵀR = W diag(s) Wᵀ and Q = RW (so that K ≈ QQᵀ and QᵀQ = diag(s)):

- log det V = Σ log(1 + λ sᵢ),
- V⁻¹b = b − Q diag(λ / (1 + λs)) Qᵀb (Woodbury),

for any λ without a new factorisation: a λ proposal costs O(nk) instead of an n × n Cholesky,
and a new r costs k kernel columns (O(nk(k + m))) instead of the whole n × n kernel and its
Cholesky. The partial Cholesky stops when the largest remaining diagonal of K − RRᵀ is at most
``TOLERANCE``; what it leaves out, E, is positive semi-definite with trace ≤ n·TOLERANCE, so
the log-likelihood moves by at most about λ·n·TOLERANCE·(1 + ‖u‖²)/2 — below 10⁻⁴ for
n = 905 and λ ≤ 100, far inside Monte Carlo error. A kernel whose rank would pass
``max_rank`` is left to the dense path (``None``).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg

from analysis.methods.bkmr import fast

# the largest remaining diagonal of K − RRᵀ (K's diagonal is 1) at which the root stops
TOLERANCE = 1e-12


def pivoted_root(z: np.ndarray, r: np.ndarray, max_rank: int, tol: float = TOLERANCE) -> np.ndarray | None:
    """R (n × k, rows in z's order) with K ≈ RRᵀ for K_ij = exp(−Σ_m r_m (z_im − z_jm)²),
    by pivoted Cholesky on the columns of K computed as they are chosen; None past ``max_rank``."""
    active = r > 0
    scaled = np.ascontiguousarray(z[:, active] * np.sqrt(r[active]))
    root = np.empty((len(z), max_rank), order="F")
    rank = fast.pivoted_cholesky(scaled, root, tol)
    return None if rank < 0 else root[:, :rank]


class LowRankKernel:
    """K ≈ QQᵀ with QᵀQ = diag(s): V = I + λK's determinant, solves and draws for any λ."""

    def __init__(self, root: np.ndarray):
        s, w = linalg.eigh(root.T @ root)
        self.s = np.clip(s, 0.0, None)
        self.q = np.ascontiguousarray(root @ w)

    @classmethod
    def of(cls, z: np.ndarray, r: np.ndarray, max_rank: int) -> LowRankKernel | None:
        root = pivoted_root(z, r, max_rank)
        return None if root is None else cls(root)

    @property
    def rank(self) -> int:
        return len(self.s)

    def weights(self, lam: float) -> np.ndarray:
        return lam / (1.0 + lam * self.s)

    def logdet(self, lam: float) -> float:
        return float(np.sum(np.log1p(lam * self.s)))

    def quad(self, u: np.ndarray, lam: float) -> float:
        """uᵀV⁻¹u."""
        c = self.q.T @ u
        return float(u @ u - c @ (self.weights(lam) * c))

    def solve(self, b: np.ndarray, lam: float) -> np.ndarray:
        """V⁻¹b (b a vector or a matrix of columns)."""
        c = self.q.T @ b
        w = self.weights(lam)
        return b - self.q @ (w[:, None] * c if c.ndim == 2 else w * c)

    def gram(self, b: np.ndarray, lam: float) -> np.ndarray:
        """BᵀV⁻¹B for the columns B."""
        c = self.q.T @ b
        return b.T @ b - c.T @ (self.weights(lam)[:, None] * c)

    def precision(self, lam: float) -> np.ndarray:
        """V⁻¹, n × n."""
        out = -(self.q * self.weights(lam)) @ self.q.T
        out[np.diag_indices_from(out)] += 1.0
        return out

    def times(self, v: np.ndarray) -> np.ndarray:
        """Kv."""
        return self.q @ (self.q.T @ v)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One draw of N(0, K)."""
        return self.q @ rng.standard_normal(self.rank)
