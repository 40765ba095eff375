"""Multiple imputation by chained equations, and Rubin's rules to pool the fits.

The chained equations are those of R's ``mice`` with its defaults for numbers (``pmm``):
each incomplete variable in turn is regressed by least squares on every other variable of the
set (their current values; categories as treatment dummies), a coefficient vector and a
residual SD are drawn from their posterior (mice's ``.norm.draw``: σ*² = RSS / χ²(n − p),
β* ~ N(β̂, σ*²(XᵀX)⁻¹)), and each missing value is taken from one of the ``k_pmm`` observed
rows whose fitted value (with β̂) is nearest its predicted value (with β*) — predictive mean
matching, so an imputed value is always one that was observed (a 0/1 stays 0/1). A category
with more than two levels is drawn from its levels with the probabilities of one
least-squares model per level (the linear-probability reading of mice's ``polyreg``),
clipped to [0, 1] and normalised. Values start as random draws of the observed ones; each of
the ``m`` datasets is its own chain of ``iterations`` cycles (mice's default is 5; 10 here),
from its own seed (numpy's SeedSequence of ``seed``). The outcome and the exposures belong in
the set as predictors, as they must (Moons et al. 2006).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from nhanes_bone.core.errors import InputError


class ImputationError(InputError):
    """Data that cannot be imputed as asked."""


@dataclass
class _Variable:
    name: str
    values: np.ndarray  # float: numbers, 0/1, or category codes
    missing: np.ndarray
    levels: list | None  # category labels (codes index them), None for numbers and booleans
    boolean: bool

    @property
    def nominal(self) -> bool:
        return self.levels is not None and len(self.levels) > 2


def _variables(frame: pd.DataFrame) -> list[_Variable]:
    out = []
    for name in frame.columns:
        col = frame[name]
        levels, boolean = None, pd.api.types.is_bool_dtype(col)
        if boolean:
            values = col.astype("Float64").astype(float).to_numpy()
        elif pd.api.types.is_numeric_dtype(col):
            values = col.astype(float).to_numpy()
        else:
            levels = sorted(col.dropna().astype(str).unique())
            values = col.map({v: float(i) for i, v in enumerate(levels)}).astype(float).to_numpy()
        out.append(_Variable(name, values, np.isnan(values), levels, boolean))
    return out


def _predictors(variables: list[_Variable], current: list[np.ndarray], skip: int) -> np.ndarray:
    """Intercept and every other variable's current values, categories as dummies."""
    columns = [np.ones(len(current[0]))]
    for j, var in enumerate(variables):
        if j == skip:
            continue
        if var.nominal:
            assert var.levels is not None
            columns += [(current[j] == k).astype(float) for k in range(1, len(var.levels))]
        else:
            columns.append(current[j])
    return np.column_stack(columns)


def _draw(x_obs: np.ndarray, y_obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """β̂ and a posterior draw β* of the least-squares fit (mice's .norm.draw, ridge 1e-5)."""
    xtx = x_obs.T @ x_obs
    xtx += np.diag(np.diag(xtx)) * 1e-5
    inverse = np.linalg.inv(xtx)
    beta = inverse @ x_obs.T @ y_obs
    rss = float(np.sum((y_obs - x_obs @ beta) ** 2))
    sigma = np.sqrt(rss / rng.chisquare(max(len(y_obs) - x_obs.shape[1], 1)))
    chol = np.linalg.cholesky((inverse + inverse.T) / 2)
    return beta, beta + sigma * chol @ rng.standard_normal(len(beta))


def _impute_one(var: _Variable, x: np.ndarray, rng: np.random.Generator, k_pmm: int) -> np.ndarray:
    obs, miss = ~var.missing, var.missing
    if var.nominal:
        assert var.levels is not None
        probs = np.empty((int(miss.sum()), len(var.levels)))
        for k in range(len(var.levels)):
            _, beta_star = _draw(x[obs], (var.values[obs] == k).astype(float), rng)
            probs[:, k] = np.clip(x[miss] @ beta_star, 0.0, 1.0)
        probs += 1e-12
        probs /= probs.sum(axis=1, keepdims=True)
        return (probs.cumsum(axis=1) > rng.random(len(probs))[:, None]).argmax(axis=1).astype(float)
    beta, beta_star = _draw(x[obs], var.values[obs], rng)
    fitted, predicted = x[obs] @ beta, x[miss] @ beta_star
    donors_y = var.values[obs]
    order = np.argsort(fitted)
    k = min(k_pmm, len(order))
    # the k observed rows nearest each prediction (by fitted value), one drawn at random
    at = np.searchsorted(fitted[order], predicted)
    window = np.clip(at[:, None] + np.arange(-k, k)[None, :], 0, len(order) - 1)
    distance = np.abs(fitted[order][window] - predicted[:, None])
    nearest = np.take_along_axis(window, np.argsort(distance, axis=1)[:, :k], axis=1)
    chosen = nearest[np.arange(len(nearest)), rng.integers(0, k, len(nearest))]
    return donors_y[order][chosen]


def chained_imputations(
    frame: pd.DataFrame,
    columns: list[str],
    m: int = 20,
    seed: int = 2025,
    iterations: int = 10,
    k_pmm: int = 5,
) -> list[pd.DataFrame]:
    """``m`` completed copies of ``frame``: the missing values of ``columns`` imputed from one
    another (every column of ``columns`` predicts every other); other columns untouched."""
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ImputationError(f"column(s) {', '.join(absent)} not in the data to impute")
    if m < 2:
        raise ImputationError(f"multiple imputation needs m >= 2 datasets, got {m}")
    variables = _variables(frame[columns])
    empty = [v.name for v in variables if v.missing.all()]
    if empty:
        raise ImputationError(f"column(s) {', '.join(empty)} have no observed value to impute from")
    incomplete = [j for j, v in enumerate(variables) if v.missing.any()]
    out = []
    for child in np.random.SeedSequence(seed).spawn(m):
        rng = np.random.default_rng(child)
        current = [v.values.copy() for v in variables]
        for j in incomplete:
            observed = variables[j].values[~variables[j].missing]
            current[j][variables[j].missing] = rng.choice(observed, int(variables[j].missing.sum()))
        for _ in range(iterations):
            for j in incomplete:
                x = _predictors(variables, current, j)
                current[j][variables[j].missing] = _impute_one(variables[j], x, rng, k_pmm)
        completed = frame.copy()
        for var, values in zip(variables, current, strict=True):
            if var.levels is not None:
                completed[var.name] = np.asarray(var.levels, dtype=object)[np.rint(values).astype(int)]
            elif var.boolean:
                completed[var.name] = np.rint(values).astype(bool)
            else:
                completed[var.name] = values
        out.append(completed)
    return out


@dataclass(frozen=True)
class Pooled:
    estimate: float
    std_error: float
    df: float
    within: float  # Ū, the mean of the fits' variances
    between: float  # B, the variance of the fits' estimates
    fraction_missing_information: float  # λ = (1 + 1/m) B / T

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        q = stats.t.ppf(0.5 + level / 2, self.df)
        return self.estimate - q * self.std_error, self.estimate + q * self.std_error

    @property
    def p_value(self) -> float:
        return float(2 * stats.t.sf(abs(self.estimate / self.std_error), self.df))


def rubin(estimates: np.ndarray, variances: np.ndarray, df_complete: float = np.inf) -> Pooled:
    """Rubin's rules for one coefficient over m fits: Q̄, T = Ū + (1 + 1/m) B, and the
    Barnard–Rubin (1999) degrees of freedom with the complete-data df ``df_complete`` (as
    R's ``mice::pool``; infinite gives Rubin's 1987 df)."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = len(q)
    if m < 2 or len(u) != m:
        raise ImputationError(
            f"Rubin's rules need m >= 2 estimates and as many variances, got {m} and {len(u)}"
        )
    within, between = float(u.mean()), float(q.var(ddof=1))
    total = within + (1 + 1 / m) * between
    lam = (1 + 1 / m) * between / total if total > 0 else 0.0
    df_old = (m - 1) / lam**2 if lam > 0 else np.inf
    if np.isfinite(df_complete):
        df_obs = (df_complete + 1) / (df_complete + 3) * df_complete * (1 - lam)
        df = df_old * df_obs / (df_old + df_obs) if np.isfinite(df_old) else df_obs
    else:
        df = df_old
    return Pooled(float(q.mean()), float(np.sqrt(total)), float(df), within, between, float(lam))
