"""Design-based descriptive statistics and tests, as R's survey package computes them: weighted
means and proportions (``svymean``), the Rao–Scott second-order corrected χ² test of a
two-way table (``svychisq``, its default ``statistic = "F"``) and the design-based t test
(``svyttest``).

Every function takes a :class:`~analysis.methods.survey.Design` and a ``domain`` mask: the
statistic is that of the domain's rows, and the variance is the full design's, with rows
outside the domain contributing zero to their PSU — what R gives for ``subset(design, …)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.methods.survey import Design, SurveyError, glm, total_variance


def _domain(design: Design, domain: np.ndarray | None) -> np.ndarray:
    keep = np.ones(len(design.weights), dtype=bool) if domain is None else np.asarray(domain, dtype=bool)
    if not (keep & (design.weights > 0)).any():
        raise SurveyError("no row has a positive weight in this domain")
    return keep


def weighted_mean(
    values: np.ndarray, design: Design, domain: np.ndarray | None = None
) -> tuple[float, float]:
    """``svymean``: the weighted mean of ``values`` over the domain and its linearised SE
    (a ratio estimator: scores wᵢ(xᵢ − x̄)/Σw)."""
    keep = _domain(design, domain) & ~np.isnan(values)
    w = np.where(keep, design.weights, 0.0)
    x = np.where(keep, values, 0.0)
    mean = float(w @ x / w.sum())
    scores = (w * (x - mean) / w.sum())[:, None]
    return mean, float(np.sqrt(total_variance(scores, design)[0, 0]))


def _cells(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The levels of each factor (sorted, as R's ``factor``) and each row's cell, rows fastest
    (R's ``interaction(rows, cols)`` and ``expand.grid``)."""
    row_levels, r = np.unique(rows, return_inverse=True)
    col_levels, c = np.unique(cols, return_inverse=True)
    return row_levels, col_levels, r + len(row_levels) * c


@dataclass(frozen=True)
class RaoScott:
    statistic: float  # F = X² / tr(Δ)
    ndf: float  # d0 = tr(Δ)² / tr(Δ²)
    ddf: float  # d0 × (PSUs − strata)
    p_value: float
    pearson: float  # X² of the weighted table scaled to n


def rao_scott(
    rows: np.ndarray, cols: np.ndarray, design: Design, domain: np.ndarray | None = None
) -> RaoScott:
    """``svychisq(~rows + cols, design)``: Pearson's X² of the weighted table scaled to the
    domain's n, divided by the mean generalised design effect and referred to F(d0, d0·ν)
    with ν = PSUs − strata of the domain. Rows with a missing value in either factor leave
    the domain (``na.rm = TRUE``)."""
    keep = _domain(design, domain) & _present(rows) & _present(cols)
    row_levels, col_levels, cell = _cells(rows[keep], cols[keep])
    nr, nc = len(row_levels), len(col_levels)
    if nr < 2 or nc < 2:
        raise SurveyError(f"a two-way table needs two levels each, got {nr} × {nc}")
    k = nr * nc
    indicator = np.zeros((len(design.weights), k))
    indicator[np.flatnonzero(keep), cell] = 1.0
    w = np.where(keep, design.weights, 0.0)
    total = w.sum()
    mean = w @ indicator / total
    scores = w[:, None] * (indicator - mean) / total
    v = total_variance(scores, design)
    n = int(keep.sum())
    # cell model matrices: main effects X1 and the interaction columns residualised on them
    r_idx, c_idx = np.arange(k) % nr, np.arange(k) // nr
    x1 = np.column_stack(
        [np.ones(k)]
        + [(r_idx == i).astype(float) for i in range(1, nr)]
        + [(c_idx == j).astype(float) for j in range(1, nc)]
    )
    inter = np.column_stack(
        [((r_idx == i) & (c_idx == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    q, _ = np.linalg.qr(x1)
    cmat = inter - q @ (q.T @ inter)
    inv_d = np.diag(np.where(mean == 0, 0.0, 1.0 / np.where(mean == 0, 1.0, mean)))
    denom = cmat.T @ (inv_d / n) @ cmat
    numer = cmat.T @ inv_d @ v @ inv_d @ cmat
    delta = np.linalg.solve(denom, numer)
    trace = float(np.trace(delta))
    d0 = trace**2 / float(np.trace(delta @ delta))
    table = (mean * n).reshape(nc, nr).T
    expected = table.sum(axis=1, keepdims=True) @ table.sum(axis=0, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.nansum((table - expected) ** 2 / expected))
    nu = design.degrees_of_freedom(keep)
    f = pearson / trace
    return RaoScott(f, d0, d0 * nu, float(stats.f.sf(f, d0, d0 * nu)), pearson)


def _present(values: np.ndarray) -> np.ndarray:
    return np.array([v is not None and v == v for v in values], dtype=bool)


@dataclass(frozen=True)
class DesignT:
    difference: float  # mean in the group coded 1 minus the group coded 0
    statistic: float
    df: int
    p_value: float


def design_t_test(
    values: np.ndarray, group: np.ndarray, design: Design, domain: np.ndarray | None = None
) -> DesignT:
    """``svyttest(values ~ group, design)``: the group coefficient of a design-based linear
    regression, t on the design's residual df (PSUs − strata − 1)."""
    keep = _domain(design, domain) & ~np.isnan(values) & ~np.isnan(group)
    levels = np.unique(group[keep])
    if len(levels) != 2:
        raise SurveyError(f"a t test needs a group with two levels, got {len(levels)}")
    x = np.column_stack([np.ones(len(values)), (group == levels[1]).astype(float)])
    fit = glm(np.nan_to_num(values), x, ["(Intercept)", "group"], "gaussian", design, keep)
    return DesignT(float(fit.coef[1]), float(fit.statistic[1]), int(fit.df_residual), float(fit.p_values[1]))
