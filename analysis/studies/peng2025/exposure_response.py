"""Beyond Peng et al.'s quartiles: the shape of each metal's dose–response, and the five metals
together.

- Continuous exposure: ln(metal) in Table 2's Model 3, as the OR per IQR of the metal (on the
  ln scale: exp(β·IQR of ln x)) and per doubling (exp(β·ln 2)); p for trend also by the
  quartile-median method (each woman gets the median of her quartile as a number).
- Restricted cubic splines of ln(metal) with 3 and 4 knots at Harrell's quantiles, with the
  Wald test of the non-linear terms (no departure from linearity); the curve is the OR against
  a woman at the median, over the 5th–95th percentile, with its 95% band.
- Multi-pollutant: all five ln-metals in one Model 3, OR per IQR each, their variance
  inflation factors, and the Spearman correlations of the ln-metals.

Every fit is unweighted and design-based (domain of the full design), as Tables 2–4.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.methods.splines import knots, rcs_basis, variance_inflation
from analysis.methods.survey import fit_flags, wald_test
from analysis.studies.peng2025 import tables as study1

WEIGHTINGS = ("unweighted", "design")
COVARIATES = study1.TABLE2_MODELS["model_3"]
GRID = 60


def _with_columns(data: study1.StudyData, columns: dict[str, np.ndarray]) -> study1.StudyData:
    """The study data with extra columns on the cohort (and the same on the full design's rows:
    the cohort's rows first, placeholders copying the first cohort row, as with_empty_psus)."""
    cohort = data.cohort.assign(**columns)
    placeholders = len(data.full) - len(data.cohort)
    full = data.full.assign(
        **{
            name: np.r_[np.asarray(v, dtype=float), np.repeat(np.asarray(v, dtype=float)[:1], placeholders)]
            for name, v in columns.items()
        }
    )
    return study1.StudyData(cohort, full, data.in_cohort)


def ln_metals(data: study1.StudyData) -> dict[str, np.ndarray]:
    return {
        f"ln_{metal}": np.log(data.cohort[col].to_numpy(dtype=float))
        for metal, (col, _) in study1.METALS.items()
    }


def _formula(terms: list[str]) -> str:
    return "op ~ " + " + ".join([*terms, *COVARIATES])


def _ratio(fit, term: str, scale: float) -> dict:
    i = fit.names.index(term)
    ci = fit.ci(kind="t" if fit.uses_t() else "normal")[i]
    return {
        "odds_ratio": float(np.exp(fit.coef[i] * scale)),
        "or_ci_low": float(np.exp(ci[0] * scale)),
        "or_ci_high": float(np.exp(ci[1] * scale)),
        "p_value": float(fit.p_values[i]),
    }


def dose_response(data: study1.StudyData) -> pd.DataFrame:
    """Per metal × weighting: OR per IQR and per doubling of the metal, p for trend by quartile
    medians, and the non-linearity p of 3- and 4-knot splines."""
    ln = ln_metals(data)
    rows = []
    for metal in study1.METALS:
        x = ln[f"ln_{metal}"]
        quartile = data.cohort[f"{metal}_quartile"].to_numpy()
        medians = pd.Series(x).groupby(quartile).transform("median").to_numpy()
        extra = {"ln_x": x, "quartile_median": medians}
        for k in (3, 4):
            basis = rcs_basis(x, knots(x, k))
            extra |= {f"rcs{k}_{j}": basis[:, j] for j in range(k - 2)}
        local = _with_columns(data, extra)
        iqr = float(np.subtract(*np.quantile(x, [0.75, 0.25])))
        for weighting in WEIGHTINGS:
            linear = study1._fit(local, _formula(["ln_x"]), "binomial", weighting)
            trend = study1._fit(local, _formula(["quartile_median"]), "binomial", weighting)
            spline_p = {}
            fits = [linear, trend]
            for k in (3, 4):
                terms = [f"rcs{k}_{j}" for j in range(k - 2)]
                spline = study1._fit(local, _formula(["ln_x", *terms]), "binomial", weighting)
                spline_p[f"p_nonlinear_rcs{k}"] = wald_test(spline, terms)
                fits.append(spline)
            base = {"metal": metal, "weighting": weighting, "n": linear.n, "iqr_ln": iqr}
            j = trend.names.index("quartile_median")
            common = {
                "p_trend_quartile_medians": float(trend.p_values[j]),
                **spline_p,
                **fit_flags(*fits),
            }
            rows.append({**base, "per": "IQR", **_ratio(linear, "ln_x", iqr), **common})
            rows.append({**base, "per": "doubling", **_ratio(linear, "ln_x", np.log(2)), **common})
    return pd.DataFrame(rows)


def spline_curves(data: study1.StudyData, k: int = 4) -> pd.DataFrame:
    """OR (95% band) of a woman at each ln-metal value against one at the median, from the
    k-knot spline model, over the 5th–95th percentile of the metal; per weighting."""
    ln = ln_metals(data)
    rows = []
    for metal in study1.METALS:
        x = ln[f"ln_{metal}"]
        t = knots(x, k)
        basis = rcs_basis(x, t)
        terms = [f"rcs{k}_{j}" for j in range(k - 2)]
        local = _with_columns(data, {"ln_x": x, **{name: basis[:, j] for j, name in enumerate(terms)}})
        grid = np.linspace(*np.quantile(x, [0.05, 0.95]), GRID)
        reference = float(np.median(x))
        design = (
            np.column_stack([grid, rcs_basis(grid, t)])
            - np.r_[reference, rcs_basis(np.array([reference]), t)[0]]
        )
        for weighting in WEIGHTINGS:
            fit = study1._fit(local, _formula(["ln_x", *terms]), "binomial", weighting)
            idx = [fit.names.index(name) for name in ["ln_x", *terms]]
            eta = design @ fit.coef[idx]
            se = np.sqrt(np.einsum("ij,jk,ik->i", design, fit.cov[np.ix_(idx, idx)], design))
            q = stats.t.ppf(0.975, fit.df_residual) if fit.uses_t() else stats.norm.ppf(0.975)
            rows.append(
                pd.DataFrame(
                    {
                        "metal": metal,
                        "weighting": weighting,
                        "knots": k,
                        "metal_value": np.exp(grid),
                        "odds_ratio": np.exp(eta),
                        "or_ci_low": np.exp(eta - q * se),
                        "or_ci_high": np.exp(eta + q * se),
                        "reference_value": float(np.exp(reference)),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def multipollutant(data: study1.StudyData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All five ln-metals in one Model 3 (OR per IQR each, VIFs), and the Spearman correlation
    matrix of the ln-metals (long form: metal_a, metal_b, rho)."""
    ln = ln_metals(data)
    local = _with_columns(data, ln)
    names = list(ln)
    vif = dict(zip(names, variance_inflation(np.column_stack(list(ln.values()))), strict=True))
    rows = []
    for weighting in WEIGHTINGS:
        fit = study1._fit(local, _formula(names), "binomial", weighting)
        for name in names:
            x = ln[name]
            iqr = float(np.subtract(*np.quantile(x, [0.75, 0.25])))
            rows.append(
                {
                    "metal": name.removeprefix("ln_"),
                    "weighting": weighting,
                    "n": fit.n,
                    "per": "IQR",
                    **_ratio(fit, name, iqr),
                    "vif": float(vif[name]),
                    **fit_flags(fit),
                }
            )
    rho = pd.DataFrame(ln).rename(columns=lambda c: c.removeprefix("ln_")).corr(method="spearman")
    long = (
        rho.rename_axis("metal_a").reset_index().melt(id_vars="metal_a", var_name="metal_b", value_name="rho")
    )
    return pd.DataFrame(rows), long


def exposure_response_tables(data: study1.StudyData) -> dict[str, pd.DataFrame]:
    """The analysis schema's dose_response, spline_curves, multipollutant and metal_correlations."""
    mutual, correlations = multipollutant(data)
    return {
        "dose_response": dose_response(data),
        "spline_curves": spline_curves(data),
        "multipollutant": mutual,
        "metal_correlations": correlations,
    }
