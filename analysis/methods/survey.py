"""Design-based GLMs: R's ``survey::svyglm`` (Taylor linearisation) with numpy and statsmodels.

Why our own: samplics and svy (PyPI) were checked; neither offers svyglm's combination of
a GLM with arbitrary formula, quasibinomial family, strata with nested PSUs, and domain
(subpopulation) estimation on the full design with svyglm's residual degrees of freedom.
The estimator is small and is tested against R's numbers.

What svyglm computes (survey 4.x, ``svyglm.survey.design`` and ``svy.varcoef``):

- β̂: the GLM fitted with the sampling weights as prior weights (the weights' scale is
  irrelevant); quasibinomial has the binomial's point estimates.
- V(β̂) = var_design(Σ_i U_i A⁻¹), where ``A⁻¹`` is the GLM's unscaled covariance
  (XᵀWX)⁻¹ and ``U_i = x_i · w_i (y_i − μ_i) μ'_i / V(μ_i)`` the estimating function
  (working residual × working weight × model row).
- var_design of a total, one-stage with strata (``svyrecvar``): per stratum h with n_h
  PSUs, n_h/(n_h − 1) · Σ_j (z_hj − z̄_h)(z_hj − z̄_h)ᵀ over PSU totals z_hj.
- residual df = (#PSUs − #strata) + 1 − p; t-based p-values and CIs on it.
- a domain (subgroup) keeps every PSU and stratum: rows outside it get weight 0.

The hard cases, as R (``glm.fit``) treats them or better:

- aliased columns — a column that is a linear combination of earlier ones on the rows in the
  fit (a factor level absent from a domain, say) — are dropped before fitting and reported NA,
  as glm.fit's pivoted QR (``dqrdc2``, relative tolerance 1e-7) does; the residual df counts
  the columns estimated (svyglm: ``degf + 1 − #non-NA``).
- separation: R only warns "fitted probabilities numerically 0 or 1" and prints estimates
  that are points on the way to infinity. Here a binomial fit is checked for complete and
  quasi-complete separation by the linear programme of Konis (2007, the method of R's
  detectseparation): the MLE exists iff no β ≠ 0 has xᵢβ ≥ 0 wherever y = 1 and ≤ 0
  wherever y = 0. The estimates are kept (as R's) and the result says ``separation``.
- non-convergence and every numerical warning of a fit are recorded on it, not hidden.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.methods.irls import numerical_notes
from nhanes_bone.core.errors import InputError

FAMILIES = {"binomial": sm.families.Binomial, "gaussian": sm.families.Gaussian}


class SurveyError(InputError):
    """A design that cannot be estimated (e.g. a stratum with one PSU)."""


@dataclass
class Design:
    weights: np.ndarray
    strata: np.ndarray
    psu: np.ndarray

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, weights: str, strata: str, psu: str) -> Design:
        for column in (weights, strata, psu):
            if column not in frame.columns:
                raise SurveyError(
                    f"design column {column!r} not in the data (columns: {', '.join(frame.columns)})"
                )
        w = frame[weights].to_numpy(dtype=float)
        if np.any(w < 0) or np.any(~np.isfinite(w)):
            raise SurveyError(f"weights {weights!r} must be finite and non-negative")
        s = frame[strata].astype(str).to_numpy()
        # PSUs are nested within strata (svydesign's nest=TRUE)
        p = (frame[strata].astype(str) + "\x1f" + frame[psu].astype(str)).to_numpy()
        return cls(w, s, p)

    def degrees_of_freedom(self, in_domain: np.ndarray | None = None) -> int:
        keep = self.weights > 0 if in_domain is None else in_domain & (self.weights > 0)
        return len(np.unique(self.psu[keep])) - len(np.unique(self.strata[keep]))


def total_variance(scores: np.ndarray, design: Design) -> np.ndarray:
    """Design-based variance of the column totals of ``scores`` (one-stage, strata, PSUs)."""
    frame = pd.DataFrame(scores)
    psu_totals = frame.groupby(design.psu, sort=False).sum()
    psu_stratum = pd.Series(design.strata, index=design.psu).groupby(level=0).first()
    strata_of = psu_stratum.loc[psu_totals.index].to_numpy()
    p = scores.shape[1]
    v = np.zeros((p, p))
    for stratum in np.unique(strata_of):
        z = psu_totals.to_numpy()[strata_of == stratum]
        n_h = len(z)
        if n_h < 2:
            raise SurveyError(
                f"stratum {stratum!r} has a single PSU: its variance cannot be estimated "
                "(R's survey stops here too unless options(survey.lonely.psu) says otherwise)"
            )
        centred = z - z.mean(axis=0)
        v += n_h / (n_h - 1) * centred.T @ centred
    return v


@dataclass
class GlmResult:
    names: list[str]
    coef: np.ndarray  # NaN where aliased
    cov: np.ndarray  # NaN rows and columns where aliased
    df_residual: float
    family: str
    design_based: bool
    n: int
    converged: bool = True
    separation: str = "none"  # none | quasi-complete | complete (binomial fits only)
    separated_terms: list[str] = field(default_factory=list)
    aliased: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    loglik: float = float("nan")  # the unweighted fits' log-likelihood (for likelihood-ratio tests)

    @property
    def rank(self) -> int:
        return len(self.names) - len(self.aliased)

    @property
    def trustworthy(self) -> bool:
        """Converged, with finite estimates: no separation (estimates on the way to ±∞)."""
        return self.converged and self.separation == "none"

    def problems(self) -> list[str]:
        """What a reader of this fit must know, one sentence each (empty when nothing)."""
        out = []
        if self.separation != "none":
            on = f" on {', '.join(self.separated_terms)}" if self.separated_terms else ""
            out.append(
                f"{self.separation} separation{on}: the maximum-likelihood estimates do not exist "
                "(those reported are where the iterations stopped on their way to infinity)"
            )
        if not self.converged:
            out.append("the IRLS iterations did not converge")
        if self.aliased:
            out.append(f"aliased (not estimable on these rows), reported NA: {', '.join(self.aliased)}")
        out += [w for w in self.warnings if w not in out]
        return out

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def statistic(self) -> np.ndarray:
        return self.coef / self.se

    def uses_t(self) -> bool:
        """svyglm and gaussian GLMs use t; a plain binomial GLM uses z, as R's summary.glm."""
        return self.design_based or self.family == "gaussian"

    @property
    def p_values(self) -> np.ndarray:
        if self.uses_t():
            return 2 * stats.t.sf(np.abs(self.statistic), self.df_residual)
        return 2 * stats.norm.sf(np.abs(self.statistic))

    def ci(self, level: float = 0.95, kind: str = "t") -> np.ndarray:
        q = stats.t.ppf(0.5 + level / 2, self.df_residual) if kind == "t" else stats.norm.ppf(0.5 + level / 2)
        return np.column_stack([self.coef - q * self.se, self.coef + q * self.se])

    def table(self) -> pd.DataFrame:
        t_ci, z_ci = self.ci(kind="t"), self.ci(kind="normal")
        return pd.DataFrame(
            {
                "term": self.names,
                "estimate": self.coef,
                "std_error": self.se,
                "statistic": self.statistic,
                "p_value": self.p_values,
                "ci_low_t": t_ci[:, 0],
                "ci_high_t": t_ci[:, 1],
                "ci_low_normal": z_ci[:, 0],
                "ci_high_normal": z_ci[:, 1],
            }
        )


def _irls(y: np.ndarray, x: np.ndarray, w: np.ndarray, family: str, max_iterations: int = 200):
    model = sm.GLM(y, x, family=FAMILIES[family](), var_weights=w)
    fit = model.fit(tol=1e-12, maxiter=max_iterations, scale=1.0 if family == "binomial" else None)
    return model, fit


ALIAS_TOLERANCE = 1e-7  # glm.fit: qr(x, tol = min(1e-07, control$epsilon / 1000))
SEPARATION_TOLERANCE = 1e-6  # well above HiGHS's feasibility tolerance (1e-7) per row


def estimable_columns(x: np.ndarray) -> np.ndarray:
    """Which columns to keep, as glm.fit's QR (LINPACK dqrdc2, limited pivoting) keeps them:
    in order, a column whose part orthogonal to the columns kept before it has a norm below
    1e-7 of its own norm is aliased."""
    keep = np.zeros(x.shape[1], dtype=bool)
    basis = np.empty((x.shape[0], 0))
    for j in range(x.shape[1]):
        col = x[:, j]
        norm = np.linalg.norm(col)
        if norm == 0:
            continue
        rest = col - basis @ (basis.T @ col)
        rest = rest - basis @ (basis.T @ rest)  # twice: Gram-Schmidt that stays orthogonal
        left = np.linalg.norm(rest)
        if left > ALIAS_TOLERANCE * norm:
            keep[j] = True
            basis = np.column_stack([basis, rest / left])
    return keep


def separation(y: np.ndarray, x: np.ndarray) -> tuple[str, np.ndarray]:
    """Complete, quasi-complete or no separation of a binomial outcome by ``x`` (full column
    rank), and the columns a separating direction moves (Konis 2007's linear programmes).

    With s = +1 where y = 1 and −1 where y = 0 (and xᵢβ = 0 forced for proportions strictly
    between): maximise Σ sᵢxᵢβ subject to sᵢxᵢβ ≥ 0 and −1 ≤ β ≤ 1. A positive optimum is a
    direction along which the likelihood rises for ever: separation. It is complete when some
    β makes every sᵢxᵢβ > 0 (a second programme maximises their minimum), quasi-complete else.
    """
    from scipy.optimize import linprog

    scale = np.abs(x).max(axis=0)
    xs = x / np.where(scale > 0, scale, 1.0)
    ones, zeros = y >= 1, y <= 0
    middle = ~(ones | zeros)
    sx = np.vstack([xs[ones], -xs[zeros]])
    equal = xs[middle] if middle.any() else None
    p = x.shape[1]
    found = _cone(-sx.sum(axis=0), sx, equal)
    if found.status != 0 or -found.fun <= SEPARATION_TOLERANCE * max(len(sx), 1):
        return "none", np.zeros(p, dtype=bool)
    moved = _diverging(sx, equal, p)
    if equal is not None:
        return "quasi-complete", moved
    # maximise t subject to sᵢxᵢβ ≥ t for all i, |β| ≤ 1, t ≤ 1: variables (β, t)
    margin = linprog(
        np.r_[np.zeros(p), -1.0],
        A_ub=np.column_stack([-sx, np.ones(len(sx))]),
        b_ub=np.zeros(len(sx)),
        bounds=[(-1, 1)] * p + [(None, 1)],
        method="highs",
    )
    complete = margin.status == 0 and -margin.fun > SEPARATION_TOLERANCE
    return ("complete" if complete else "quasi-complete"), moved


def _cone(c: np.ndarray, sx: np.ndarray, equal: np.ndarray | None):
    """min cᵀβ over the box |β| ≤ 1 of the cone sᵢxᵢβ ≥ 0 (and xᵢβ = 0 for the ``equal`` rows)."""
    from scipy.optimize import linprog

    return linprog(
        c,
        A_ub=-sx,
        b_ub=np.zeros(len(sx)),
        A_eq=equal,
        b_eq=None if equal is None else np.zeros(len(equal)),
        bounds=[(-1, 1)] * len(c),
        method="highs",
    )


def _diverging(sx: np.ndarray, equal: np.ndarray | None, p: int) -> np.ndarray:
    """The coefficients some separating direction moves (their estimates run to ±∞): β_j's
    largest and smallest values over the cone {sᵢxᵢβ ≥ 0, equalities, |β| ≤ 1}."""

    moved = np.zeros(p, dtype=bool)
    for j in range(p):
        for sign in (1.0, -1.0):
            c = np.zeros(p)
            c[j] = -sign
            best = _cone(c, sx, equal)
            if best.status == 0 and -best.fun > 1e-6:
                moved[j] = True
                break
    return moved


def glm(
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    family: str,
    design: Design | None = None,
    domain: np.ndarray | None = None,
    max_iterations: int = 200,
) -> GlmResult:
    """Fit a GLM; design-based (svyglm) when ``design`` is given, on ``domain`` rows if given.

    Aliased columns come back NA, separation and non-convergence as flags, and the fit's
    numerical warnings in ``warnings`` (recorded, not printed). ``max_iterations``: IRLS's
    cap (R's ``glm.control(maxit)``; 200 here, R's 25)."""
    if family not in FAMILIES:
        raise SurveyError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _glm(y, x, names, family, design, domain, max_iterations)
    result.warnings = numerical_notes(caught)
    return result


def _glm(
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    family: str,
    design: Design | None,
    domain: np.ndarray | None,
    max_iterations: int,
) -> GlmResult:
    n = len(y)
    if design is None:
        rows = np.ones(n, dtype=bool) if domain is None else domain.astype(bool)
        w = rows.astype(float)
    else:
        w = design.weights * (1.0 if domain is None else domain.astype(float))
        rows = w > 0
        if not rows.any():
            raise SurveyError("no row has a positive weight in this domain")
    if not rows.any():
        raise SurveyError("no rows to fit")
    keep = estimable_columns(x[rows])
    if not keep.any():
        raise SurveyError("no column of the model matrix is estimable on these rows")
    xk = x[:, keep]
    sep, moved = ("none", np.zeros(int(keep.sum()), dtype=bool))
    if family == "binomial":
        sep, moved = separation(y[rows], xk[rows])
    kept_names = [name for name, k in zip(names, keep, strict=True) if k]
    if design is None:
        _, fit = _irls(y[rows], xk[rows], np.ones(int(rows.sum())), family, max_iterations)
        coef_k, cov_k = fit.params, fit.cov_params()
        df = float(rows.sum() - keep.sum())
        loglik = float(fit.llf)
    else:
        w_scaled = w / w[rows].mean()  # as svyglm: the weights' scale changes nothing
        model, fit = _irls(y, xk, w_scaled, family, max_iterations)
        mu = fit.fittedvalues
        fam = model.family
        mu_eta = 1.0 / fam.link.deriv(mu)
        working_weight = w_scaled * mu_eta**2 / fam.variance(mu)
        a_inv = np.linalg.inv(xk.T @ (working_weight[:, None] * xk))
        estfun = xk * (w_scaled * (y - mu) * mu_eta / fam.variance(mu))[:, None]
        coef_k, cov_k = fit.params, total_variance(estfun @ a_inv, design)
        df = float(design.degrees_of_freedom(rows) + 1 - keep.sum())
        loglik = float("nan")
    p = len(names)
    coef = np.full(p, np.nan)
    cov = np.full((p, p), np.nan)
    coef[keep] = coef_k
    cov[np.ix_(keep, keep)] = cov_k
    return GlmResult(
        names,
        coef,
        cov,
        df,
        family,
        design is not None,
        int(rows.sum()),
        converged=bool(getattr(fit, "converged", True)),
        separation=sep,
        separated_terms=[name for name, m in zip(kept_names, moved, strict=True) if m],
        aliased=[name for name, k in zip(names, keep, strict=True) if not k],
        loglik=loglik,
    )


def fit_flags(*fits) -> dict:
    """The columns every study-table row carries about the fits behind it: did they converge,
    is the outcome separated, which terms are aliased, and their numerical warnings."""
    return {
        "converged": all(f.converged for f in fits),
        "separation": next((f.separation for f in fits if f.separation != "none"), "none"),
        "aliased": "; ".join(dict.fromkeys(a for f in fits for a in f.aliased)),
        "warnings": "; ".join(dict.fromkeys(w for f in fits for w in f.warnings)),
    }


def wald_test(result: GlmResult, terms: list[str]) -> float:
    """p of H₀: the coefficients of ``terms`` are all 0 (aliased ones leave the test).

    Design-based: R's ``regTermTest(method = "Wald")``, F = βᵀV⁻¹β / k on (k, residual df);
    otherwise the Wald χ²(k) of a GLM (a t-based F for a Gaussian one, as R's ``anova``)."""
    idx = [result.names.index(t) for t in terms if t not in result.aliased]
    if not idx:
        return float("nan")
    b = result.coef[idx]
    v = result.cov[np.ix_(idx, idx)]
    statistic = float(b @ np.linalg.solve(v, b))
    k = len(idx)
    if result.uses_t():
        return float(stats.f.sf(statistic / k, k, result.df_residual))
    return float(stats.chi2.sf(statistic, k))


def with_empty_psus(
    domain: pd.DataFrame,
    design: pd.DataFrame,
    weights: str,
    stratum: str = "design_stratum",
    psu: str = "design_psu",
) -> tuple[pd.DataFrame, np.ndarray]:
    """A domain of a larger design, reduced exactly for domain estimation.

    Rows outside the domain add zero to every PSU total, so the full design reduces to the
    domain's rows plus one zero-weight row for each PSU without a domain member (it still
    counts among its stratum's PSUs). The placeholder rows copy the first domain row's
    values, only so that the model matrix can be built. Returns the frame and a mask of the
    domain's rows.
    """
    empty = design.loc[~design[psu].isin(domain[psu]), [stratum, psu]].drop_duplicates(psu)
    filler = domain.iloc[[0] * len(empty)].reset_index(drop=True)
    filler[stratum] = empty[stratum].to_numpy()
    filler[psu] = empty[psu].to_numpy()
    filler[weights] = 0.0
    full = pd.concat([domain, filler], ignore_index=True)
    return full, np.r_[np.ones(len(domain), dtype=bool), np.zeros(len(filler), dtype=bool)]


def design_matrices(formula: str, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Response and model matrix of an R-style formula (patsy), rows with missing values dropped."""
    import patsy

    used = formula_variables(formula, data, strings=True)
    if used:  # patsy on the formula's own columns only: a third faster on a 50-column frame
        data = data[sorted(used)]
    try:
        y, x = patsy.dmatrices(formula, data, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as exc:
        raise SurveyError(f"formula {formula!r}: {exc}") from exc
    # patsy groups categorical terms first; R keeps the formula's order: reorder as R does
    info = x.design_info
    order = [
        i
        for term in patsy.ModelDesc.from_formula(formula).rhs_termlist
        if term in info.term_slices
        for i in range(info.term_slices[term].start, info.term_slices[term].stop)
    ]
    x = x.iloc[:, order]
    return y.iloc[:, 0].to_numpy(dtype=float), x.to_numpy(dtype=float), list(x.columns)


def svyglm(
    formula: str,
    data: pd.DataFrame,
    family: str = "gaussian",
    weights: str | None = None,
    strata: str | None = None,
    psu: str | None = None,
    domain: np.ndarray | None = None,
    max_iterations: int = 200,
) -> GlmResult:
    """``svyglm(formula, design=svydesign(ids=~psu, strata=~strata, weights=~weights, nest=TRUE))``;
    without a design, the ordinary ``glm``."""
    given = [weights is not None, strata is not None, psu is not None]
    if any(given) and not all(given):
        raise SurveyError("give all of --weights, --strata and --psu for a design-based fit, or none")
    complete = _complete_rows(formula, data)
    if complete.all():
        y, x, names = design_matrices(formula, data)
    else:
        # as R's na.omit in svyglm: incomplete rows leave the estimation but their PSUs stay
        # in the design (R pads a stratum's missing PSUs with zero totals), i.e. a domain
        y_part, x_part, names = design_matrices(formula, data[complete])
        y, x = np.zeros(len(data)), np.zeros((len(data), x_part.shape[1]))
        y[complete], x[complete] = y_part, x_part
        domain = complete if domain is None else (np.asarray(domain, dtype=bool) & complete)
    design = (
        Design.from_frame(data, weights, strata, psu)
        if weights is not None and strata is not None and psu is not None
        else None
    )
    return glm(y, x, names, family, design, domain, max_iterations)


def formula_variables(formula: str, data: pd.DataFrame, strings: bool = False) -> set[str]:
    """The columns of ``data`` the formula uses.

    They are the names each of the formula's factors evaluates (patsy evaluates a factor's
    code as Python), read from its syntax tree: a column whose name is only a part of a term
    (``x`` in ``y ~ x1``) or of a string in it is not one of them. ``strings`` adds the string
    constants that name a column (``Q("odd name")``: a superset, for subsetting a frame).
    """
    import ast

    import patsy

    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as exc:
        raise SurveyError(f"formula {formula!r}: {exc}") from exc
    columns = set(map(str, data.columns))
    names: set[str] = set()
    for term in desc.lhs_termlist + desc.rhs_termlist:
        for factor in term.factors:
            tree = ast.parse(factor.code.strip(), mode="eval")
            names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} & columns
            if strings:
                names |= {
                    node.value
                    for node in ast.walk(tree)
                    if isinstance(node, ast.Constant) and isinstance(node.value, str)
                } & columns
    return names


def _complete_rows(formula: str, data: pd.DataFrame) -> np.ndarray:
    """Rows with every variable of the formula present."""
    names = formula_variables(formula, data)
    return data[sorted(names)].notna().all(axis=1).to_numpy() if names else np.ones(len(data), dtype=bool)


def write_result(result: GlmResult, out: Path, formula: str, design: dict) -> dict:
    """The fit as JSON (coefficients, SEs, CIs, p, the covariance): what ``nhanes-bone svyglm``
    writes, and what the R reference comparisons read."""
    import json

    family = result.family
    doc = {
        "formula": formula,
        "family": ("quasibinomial" if result.design_based and family == "binomial" else family),
        "design_based": result.design_based,
        "design": {**design, "nest": True} if result.design_based else None,
        "n": result.n,
        "df_residual": result.df_residual,
        "p_value_distribution": "t" if result.uses_t() else "normal",
        "converged": result.converged,
        "separation": result.separation,
        "separated_terms": result.separated_terms,
        "aliased": result.aliased,
        "warnings": result.problems(),
        "coefficients": result.table().to_dict(orient="records"),
        "vcov": {"terms": result.names, "matrix": result.cov.tolist()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    # NaN (aliased terms) as JSON null, which every reader parses; json's NaN token is not JSON
    out.write_text(json.dumps(_nulls(doc), indent=2, allow_nan=False))
    return doc


def _nulls(value):
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nulls(v) for v in value]
    return value
