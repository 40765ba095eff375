"""bkmr's summaries of a fit: PIPs, h at new points, overall risk, univariate curves,
single-exposure contrasts, covariate coefficients.

Two ways to get h at new points, as bkmr's ``method``: "approx" plugs in the posterior means
of λ, r, β, σ² and y* (bkmr's default, fast); "exact" averages over thinned post-burn-in
draws, the posterior mean being the mean of the per-draw means and the covariance the mean
of the per-draw covariances plus the covariance of the per-draw means (total variance).
Burn-in is the first half of every chain, as in bkmr.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import lapack

from analysis.methods.bkmr import fast
from analysis.methods.bkmr.diagnostics import mean_ess
from analysis.methods.bkmr.model import BkmrSettings, cross_kernel
from analysis.methods.bkmr.sampler import Chain
from nhanes_bone.core.errors import InputError

OVERALL_RISK_QUANTILES = np.round(np.arange(0.25, 0.751, 0.05), 2)


def _h_given(z, x, target, lam, r, beta, sigsq, znew) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of h(znew) given the parameters: λK₁₀V⁻¹(y − Xβ) and
    λσ²(K₁₁ − λK₁₀V⁻¹K₀₁), through the Cholesky factor of V (never an explicit inverse)."""
    n = len(z)
    k = np.zeros((n, n), order="F")
    fast.fill_kernel_and_v(np.ascontiguousarray(z), np.asarray(r, float), lam, np.zeros((n, n), order="F"), k)
    _, info = lapack.dpotrf(k, lower=1, clean=0, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"V not positive definite (info {info})")
    k10 = cross_kernel(znew, z, r)
    w = lapack.dtrtrs(k, np.asfortranarray(k10.T), lower=1)[0]  # L⁻¹K₀₁
    a = lapack.dtrtrs(k, target - x @ beta, lower=1)[0]  # L⁻¹(y − Xβ)
    mean = lam * (w.T @ a)
    cov = lam * sigsq * (cross_kernel(znew, znew, r) - lam * (w.T @ w))
    return mean, cov


@dataclass
class Fit:
    """Chains of one model on (y, z, x) with names for the columns."""

    y: np.ndarray
    z: np.ndarray
    x: np.ndarray
    chains: list[Chain]
    settings: BkmrSettings
    exposures: list[str] = field(default_factory=list)
    covariates: list[str] = field(default_factory=list)
    # continuous covariates centred and scaled before fitting: name → {"mean", "sd"}
    covariate_scaling: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.exposures = self.exposures or [f"z{m + 1}" for m in range(self.z.shape[1])]
        self.covariates = self.covariates or [f"x{k + 1}" for k in range(self.x.shape[1])]
        self._cache: dict = {}

    def chain(self, i: int) -> Fit:
        """The same model with chain ``i`` alone (for per-chain summaries when chains disagree)."""
        return Fit(
            self.y,
            self.z,
            self.x,
            [self.chains[i]],
            self.settings,
            self.exposures,
            self.covariates,
            self.covariate_scaling,
        )

    def post(self, name: str) -> np.ndarray:
        """Draws after burn-in (the first half, as bkmr), all chains stacked."""
        return np.concatenate([getattr(c, name)[c.iterations // 2 :] for c in self.chains])

    def pips(self) -> pd.DataFrame:
        return pd.DataFrame({"variable": self.exposures, "PIP": self.post("delta").mean(axis=0)})

    def beta(self) -> pd.DataFrame:
        """Covariate coefficients: mean, sd, 95% interval, ESS and Monte Carlo SE (sd/√ESS), on
        the scale fitted — per SD of a scaled covariate (``scaled_sd``) — and, for those, the
        mean per unit of the covariate as given (``mean_per_unit``)."""
        rows = []
        post = self.post("beta")
        for k, name in enumerate(self.covariates):
            draws = post[:, k]
            ess = mean_ess([c.beta[c.iterations // 2 :, k] for c in self.chains])
            lo, hi = np.quantile(draws, [0.025, 0.975])
            sd = float(draws.std(ddof=1))
            unit = self.covariate_scaling.get(name, {}).get("sd", 1.0)
            rows.append((name, draws.mean(), sd, lo, hi, ess, sd / math.sqrt(ess), unit, draws.mean() / unit))
        columns = ["covariate", "mean", "sd", "q2.5", "q97.5", "ess", "mcse", "scaled_sd", "mean_per_unit"]
        return pd.DataFrame(rows, columns=columns)

    def predict(self, znew: np.ndarray, method: str = "approx") -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and covariance of h(znew)."""
        znew = np.atleast_2d(np.asarray(znew, dtype=float))
        if method == "approx":
            target = np.mean([c.ystar_mean for c in self.chains], axis=0)
            return _h_given(
                self.z,
                self.x,
                target,
                float(self.post("lam").mean()),
                self.post("r").mean(axis=0),
                self.post("beta").mean(axis=0),
                float(self.post("sigsq").mean()),
                znew,
            )
        if method != "exact":
            raise InputError(f"method must be approx or exact, not {method!r}")
        means, covs = [], []
        for c in self.chains:
            for j, row in enumerate(c.thin_rows):
                target = self.y if c.ystar_draws is None else c.ystar_draws[j]
                mu, cov = _h_given(
                    self.z, self.x, target, c.lam[row], c.r[row], c.beta[row], c.sigsq[row], znew
                )
                means.append(mu)
                covs.append(cov)
        stacked = np.array(means)
        mean = stacked.mean(axis=0)
        cov = np.mean(covs, axis=0) + (
            np.cov(means, rowvar=False).reshape(len(mean), len(mean)) if len(means) > 1 else 0.0
        )
        return mean, cov

    def overall_risk_draws(self, qs: np.ndarray | None = None) -> list[np.ndarray]:
        """Per chain, (thinned draw, quantile): the overall risk given each thinned post-burn-in
        draw's parameters (the per-draw means "exact" averages) — the series whose ESS says how
        well the chains know the exposure–response surface, not only its hyperparameters."""
        qs = OVERALL_RISK_QUANTILES if qs is None else np.asarray(qs, dtype=float)
        key = ("risk_draws", tuple(qs.tolist()))
        if key in self._cache:
            return self._cache[key]
        at_q = np.quantile(self.z, qs, axis=0)
        znew = np.vstack([at_q, np.tile(np.median(self.z, axis=0), (len(qs), 1))])
        out = []
        for c in self.chains:
            rows = []
            for j, row in enumerate(c.thin_rows):
                target = self.y if c.ystar_draws is None else c.ystar_draws[j]
                mu, _ = _h_given(
                    self.z, self.x, target, c.lam[row], c.r[row], c.beta[row], c.sigsq[row], znew
                )
                rows.append(mu[: len(qs)] - mu[len(qs) :])
            out.append(np.array(rows).reshape(len(c.thin_rows), len(qs)))
        self._cache[key] = out
        return out

    def _contrast(self, a: np.ndarray, b: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
        """h(a_i) − h(b_i) for each row pair: estimates and posterior SDs, one predict call."""
        k = len(a)
        mean, cov = self.predict(np.vstack([a, b]), method)
        est = mean[:k] - mean[k:]
        var = np.diag(cov)[:k] + np.diag(cov)[k:] - 2 * np.diag(cov[:k, k:])
        return est, np.sqrt(np.clip(var, 0, None))

    def overall_risk(self, qs: np.ndarray | None = None, method: str = "approx") -> pd.DataFrame:
        """h with every exposure at its q-quantile minus h with all at their medians."""
        qs = OVERALL_RISK_QUANTILES if qs is None else np.asarray(qs)
        at_q = np.quantile(self.z, qs, axis=0)
        med = np.tile(np.median(self.z, axis=0), (len(qs), 1))
        est, sd = self._contrast(at_q, med, method)
        return pd.DataFrame({"quantile": qs, "est": est, "sd": sd})

    def univariate(self, points: int = 50, method: str = "approx", center: bool = True) -> pd.DataFrame:
        """Per exposure: h over a 50-point grid of its range, the others at their medians
        (bkmr's PredictorResponseUnivar; ``center`` subtracts each curve's mean over its grid,
        bkmr's default; the SEs are not changed by it)."""
        med = np.median(self.z, axis=0)
        blocks, names, grids = [], [], []
        for m, name in enumerate(self.exposures):
            grid = np.linspace(self.z[:, m].min(), self.z[:, m].max(), points)
            znew = np.tile(med, (points, 1))
            znew[:, m] = grid
            blocks.append(znew)
            names += [name] * points
            grids.append(grid)
        mean, cov = self.predict(np.vstack(blocks), method)
        if center:
            mean = mean - np.repeat(mean.reshape(len(self.exposures), points).mean(axis=1), points)
        return pd.DataFrame(
            {
                "variable": names,
                "z": np.concatenate(grids),
                "est": mean,
                "se": np.sqrt(np.clip(np.diag(cov), 0, None)),
            }
        )

    def single_variable(
        self, fixed_at: tuple[float, ...] = (0.25, 0.5, 0.75), method: str = "approx"
    ) -> pd.DataFrame:
        """h(z_m at its 75th) − h(z_m at its 25th), the others fixed at a common quantile
        (bkmr's SingVarRiskSummaries)."""
        hi_rows, lo_rows, labels = [], [], []
        q25, q75 = np.quantile(self.z, [0.25, 0.75], axis=0)
        for q in fixed_at:
            base = np.quantile(self.z, q, axis=0)
            for m, name in enumerate(self.exposures):
                a, b = base.copy(), base.copy()
                a[m], b[m] = q75[m], q25[m]
                hi_rows.append(a)
                lo_rows.append(b)
                labels.append((name, q))
        est, sd = self._contrast(np.array(hi_rows), np.array(lo_rows), method)
        return pd.DataFrame(
            {"variable": [v for v, _ in labels], "q_fixed": [q for _, q in labels], "est": est, "sd": sd}
        )
