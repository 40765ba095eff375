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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

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
    coef: np.ndarray
    cov: np.ndarray
    df_residual: float
    family: str
    design_based: bool
    n: int

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


def _irls(y: np.ndarray, x: np.ndarray, w: np.ndarray, family: str):
    model = sm.GLM(y, x, family=FAMILIES[family](), var_weights=w)
    fit = model.fit(tol=1e-12, maxiter=200, scale=1.0 if family == "binomial" else None)
    return model, fit


def glm(
    y: np.ndarray,
    x: np.ndarray,
    names: list[str],
    family: str,
    design: Design | None = None,
    domain: np.ndarray | None = None,
) -> GlmResult:
    """Fit a GLM; design-based (svyglm) when ``design`` is given, on ``domain`` rows if given."""
    if family not in FAMILIES:
        raise SurveyError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    n = len(y)
    if design is None:
        keep = np.ones(n, dtype=bool) if domain is None else domain.astype(bool)
        _, fit = _irls(y[keep], x[keep], np.ones(int(keep.sum())), family)
        return GlmResult(
            names,
            fit.params,
            fit.cov_params(),
            float(keep.sum() - x.shape[1]),
            family,
            False,
            int(keep.sum()),
        )
    w = design.weights * (1.0 if domain is None else domain.astype(float))
    if not np.any(w > 0):
        raise SurveyError("no row has a positive weight in this domain")
    w_scaled = w / w[w > 0].mean()  # as svyglm: the weights' scale changes nothing
    model, fit = _irls(y, x, w_scaled, family)
    mu = fit.fittedvalues
    fam = model.family
    mu_eta = 1.0 / fam.link.deriv(mu)
    working_weight = w_scaled * mu_eta**2 / fam.variance(mu)
    a_inv = np.linalg.inv(x.T @ (working_weight[:, None] * x))
    estfun = x * (w_scaled * (y - mu) * mu_eta / fam.variance(mu))[:, None]
    cov = total_variance(estfun @ a_inv, design)
    df = design.degrees_of_freedom(None if domain is None else domain.astype(bool)) + 1 - x.shape[1]
    return GlmResult(names, fit.params, cov, float(df), family, True, int((w > 0).sum()))


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
    return glm(y, x, names, family, design, domain)


def _complete_rows(formula: str, data: pd.DataFrame) -> np.ndarray:
    """Rows with every variable of the formula present.

    The variables are the names each of the formula's factors evaluates (patsy evaluates a
    factor's code as Python), read from its syntax tree: a column whose name is only a part of
    a term (``x`` in ``y ~ x1``) or of a string in it is not one of them.
    """
    import ast

    import patsy

    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as exc:
        raise SurveyError(f"formula {formula!r}: {exc}") from exc
    columns = set(map(str, data.columns))
    names = set()
    for term in desc.lhs_termlist + desc.rhs_termlist:
        for factor in term.factors:
            tree = ast.parse(factor.code.strip(), mode="eval")
            names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)} & columns
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
        "coefficients": result.table().to_dict(orient="records"),
        "vcov": {"terms": result.names, "matrix": result.cov.tolist()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2))
    return doc
