"""Peng et al. 2025, Tables 1–4: metals and osteoporosis, unweighted and design-based.

Choices where STUDY.md is silent (each stated in the tables' notes):
- BMI enters Models 3 (Table 2) and 2 (Table 3) as the groups of Table 1 (<25, 25–30, ≥30);
  age as years. Reference levels: the first quartile, Non-Hispanic White, married/partner,
  less than 9th grade, BMI 25–30.
- p for trend: the quartile (1–4) entered as one numeric term in the same model.
- Design-based fits are domain estimates on the full NHANES design (every participant of
  both cycles, weight 0 outside the cohort or subgroup), as R's ``subset(design, …)``.
- Table 4 adjusts for what its footnote names — BMI, age, race, marital status, parental
  osteoporosis and previous fractures (not Table 2's Model 3); the subgroup's own variable
  leaves the model (BMI group within BMI groups; age in years stays within age groups).
  p for interaction is a likelihood-ratio test of the quartile × subgroup terms
  (unweighted) and a Wald F test of the same terms on the design covariance referred to
  F(k, residual df), as R's ``regTermTest`` (design-based; survey's Rao–Scott LRT is not
  reproduced).
- Table 1: the metals are shown both as mean (SD) with Student's t-test (what the paper's
  metal columns are, STUDY.md) and as median (IQR) with Mann–Whitney; another continuous
  variable as mean (SD) when its skewness is within ±1 in both groups, otherwise median
  (IQR); categorical variables as n (%) with Pearson's χ² (no continuity correction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from analysis.methods.survey import (
    Design,
    SurveyError,
    design_matrices,
    fit_flags,
    glm,
    wald_test,
    with_empty_psus,
)
from nhanes_bone.core import vocabulary

METALS = {name: (m.column, m.label) for name, m in vocabulary.METALS.items()}
SITES = {
    "total_femur_bmd_g_cm2": "Total femur",
    "femoral_neck_bmd_g_cm2": "Femoral neck",
    "lumbar_spine_bmd_g_cm2": "Total spine",
}
RACE = "C(race_ethnicity, Treatment('Non-Hispanic White'))"
MARITAL = "C(marital_status, Treatment('Married or living with partner'))"
EDUCATION = "C(education, Treatment('Less than 9th grade'))"
BMI = "C(bmi_group, Treatment('25-30'))"
HISTORY = ["hypertension", "diabetes", "parental_osteoporosis", "previous_fracture"]
TABLE2_MODELS = {
    "model_1": [*HISTORY, MARITAL],
    "model_2": [*HISTORY, MARITAL, RACE, EDUCATION, "age_years"],
    "model_3": [*HISTORY, MARITAL, RACE, EDUCATION, "age_years", "ever_smoked", BMI],
}
# Table 4's footnote: "adjusted for body mass index, age, race, marital status, history of
# osteoporosis in parents and history of previous fractures"
TABLE4_COVARIATES = [BMI, "age_years", RACE, MARITAL, "parental_osteoporosis", "previous_fracture"]
TABLE3_MODELS = {
    "model_1": [*HISTORY, "ever_smoked"],
    "model_2": [*HISTORY, "ever_smoked", RACE, EDUCATION, MARITAL, "age_years", BMI],
}
BOOLEAN = [
    "hypertension",
    "diabetes",
    "parental_osteoporosis",
    "previous_fracture",
    "ever_smoked",
    "has_osteoporosis",
]


@dataclass
class StudyData:
    """The cohort, and the full design it is a domain of."""

    cohort: pd.DataFrame
    full: pd.DataFrame  # the cohort + one zero-weight placeholder per PSU without cohort members
    in_cohort: np.ndarray
    _matrices: dict = field(default_factory=dict, repr=False)

    def matrices(self, formula: str, frame: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """y, X and the column names of ``formula`` on the cohort or the full design, built once:
        a subgroup is a row mask on them (patsy costs more than the fit)."""
        key = (formula, frame)
        if key not in self._matrices:
            self._matrices[key] = design_matrices(formula, self.cohort if frame == "cohort" else self.full)
        return self._matrices[key]

    @cached_property
    def design(self) -> Design:
        return Design.from_frame(self.full, "combined_metals_weight", "design_stratum", "design_psu")

    @classmethod
    def build(cls, cohort: pd.DataFrame, design: pd.DataFrame) -> StudyData:
        cohort = cohort.copy()
        for col in BOOLEAN:
            cohort[col] = cohort[col].astype(int)
        cohort["op"] = cohort["has_osteoporosis"]
        full, in_cohort = with_empty_psus(cohort, design, "combined_metals_weight")
        return cls(cohort, full, in_cohort)


def _fit(data: StudyData, formula: str, family: str, weighting: str, domain: np.ndarray | None = None):
    """Unweighted: the GLM on the cohort (or the subgroup's rows of it; a factor level absent
    from the subgroup is then an aliased column, NA). Design: svyglm on the full design."""
    if weighting == "unweighted":
        y, x, names = data.matrices(formula, "cohort")
        return glm(y, x, names, family, domain=None if domain is None else domain[data.in_cohort])
    y, x, names = data.matrices(formula, "full")
    mask = data.in_cohort if domain is None else domain
    return glm(y, x, names, family, data.design, mask)


def _quartile_terms(result, metal: str) -> dict[int, int]:
    return {q: result.names.index(f"C({metal}_quartile)[T.{q}]") for q in (2, 3, 4)}


def _ranges(cohort: pd.DataFrame, metal: str) -> dict[int, str]:
    col = METALS[metal][0]
    out = {}
    for q in (1, 2, 3, 4):
        values = cohort.loc[cohort[f"{metal}_quartile"] == q, col]
        out[q] = f"{values.min():.2f}–{values.max():.2f}" if len(values) else ""
    return out


def regression_table(
    data: StudyData,
    outcome: str,
    models: dict[str, list[str]],
    family: str,
    weighting: str,
    domain: np.ndarray | None = None,
    drop: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per metal × model × quartile (and trend), for one outcome."""
    rows = []
    for metal in METALS:
        ranges = _ranges(data.cohort, metal)
        for model, covariates in models.items():
            covs = [c for c in covariates if c not in drop]
            base = {"weighting": weighting, "outcome": outcome, "metal": metal, "model": model}
            try:
                fit = _fit(
                    data, f"{outcome} ~ C({metal}_quartile) + {' + '.join(covs)}", family, weighting, domain
                )
                trend = _fit(
                    data, f"{outcome} ~ {metal}_quartile + {' + '.join(covs)}", family, weighting, domain
                )
            except (SurveyError, np.linalg.LinAlgError, ValueError) as exc:
                rows.append({**base, "term": "error", "note": str(exc)[:200]})
                continue
            ci = fit.ci(kind="t" if fit.uses_t() else "normal")
            flags = fit_flags(fit)
            rows.append(
                {
                    **base,
                    **flags,
                    "term": "Q1",
                    "quartile": 1,
                    "range": ranges[1],
                    "n": fit.n,
                    "estimate": 0.0,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                }
            )
            for q, i in _quartile_terms(fit, metal).items():
                rows.append(
                    {
                        **base,
                        **flags,
                        "term": f"Q{q}",
                        "quartile": q,
                        "range": ranges[q],
                        "n": fit.n,
                        "estimate": fit.coef[i],
                        "ci_low": ci[i, 0],
                        "ci_high": ci[i, 1],
                        "p_value": fit.p_values[i],
                    }
                )
            j = trend.names.index(f"{metal}_quartile")
            rows.append(
                {
                    **base,
                    **fit_flags(trend),
                    "term": "trend",
                    "n": trend.n,
                    "estimate": trend.coef[j],
                    "p_value": trend.p_values[j],
                }
            )
    table = pd.DataFrame(rows)
    if family == "binomial" and "estimate" in table:
        for col in ("estimate", "ci_low", "ci_high"):
            table[f"or_{col}" if col != "estimate" else "odds_ratio"] = np.exp(table[col])
        table.loc[table.term == "trend", ["odds_ratio"]] = np.exp(
            table.loc[table.term == "trend", "estimate"]
        )
    return table


def table2(data: StudyData, weighting: str) -> pd.DataFrame:
    return regression_table(data, "op", TABLE2_MODELS, "binomial", weighting)


def table3(data: StudyData, weighting: str) -> pd.DataFrame:
    return pd.concat(
        [regression_table(data, site, TABLE3_MODELS, "gaussian", weighting) for site in SITES],
        ignore_index=True,
    )


def _interaction(data: StudyData, metal: str, group_col: str, covs: list[str], weighting: str):
    """p for interaction, and the fits it came from: unweighted, the likelihood-ratio test of
    the interaction terms; design-based, their Wald F test on the design's df (R's
    ``regTermTest``). Aliased interaction terms (a cell with no women) leave the test."""
    main = f"op ~ C({metal}_quartile) + C({group_col}) + {' + '.join(covs)}"
    full = f"op ~ C({metal}_quartile) * C({group_col}) + {' + '.join(covs)}"
    fit = _fit(data, full, "binomial", weighting)
    if weighting == "unweighted":
        reduced = _fit(data, main, "binomial", weighting)
        lr = 2 * (fit.loglik - reduced.loglik)
        return float(stats.chi2.sf(lr, fit.rank - reduced.rank)), (fit, reduced)
    return wald_test(fit, [n for n in fit.names if ":" in n]), (fit,)


def table4(data: StudyData, weighting: str) -> pd.DataFrame:
    """Table 4's model (its footnote's covariates) within age groups and within BMI groups,
    with p for interaction."""
    frames = []
    for group_col, drop in (("age_group", ()), ("bmi_group", (BMI,))):
        covs = [c for c in TABLE4_COVARIATES if c not in drop]
        for level in sorted(data.cohort[group_col].dropna().unique()):
            domain = (data.full[group_col] == level).to_numpy() & data.in_cohort
            part = regression_table(data, "op", {"table4": covs}, "binomial", weighting, domain)
            part.insert(1, "subgroup", group_col)
            part.insert(2, "level", level)
            frames.append(part)
        inter = []
        for metal in METALS:
            try:
                p, fits = _interaction(data, metal, group_col, covs, weighting)
                flags = fit_flags(*fits)
            except (SurveyError, np.linalg.LinAlgError, ValueError) as exc:
                p, flags = np.nan, {"note": str(exc)[:200]}
            inter.append(
                {
                    **flags,
                    "weighting": weighting,
                    "subgroup": group_col,
                    "level": "interaction",
                    "metal": metal,
                    "term": "interaction",
                    "p_value": p,
                    "outcome": "op",
                    "model": "table4",
                }
            )
        frames.append(pd.DataFrame(inter))
    return pd.concat(frames, ignore_index=True)


CATEGORICAL = {
    "age_group": "Age group (years)",
    "bmi_group": "BMI group (kg/m²)",
    "race_ethnicity": "Race",
    "education": "Education",
    "marital_status": "Marital status",
    "ever_smoked": "History of smoking",
    "hypertension": "History of hypertension",
    "diabetes": "History of diabetes",
    "parental_osteoporosis": "History of osteoporosis in parents",
    "previous_fracture": "History of previous fractures",
}
CONTINUOUS = {
    "age_years": "Age (years)",
    **{col: label for col, label in METALS.values()},
    **{col: f"{label} BMD (g/cm²)" for col, label in SITES.items()},
}


def table1(cohort: pd.DataFrame) -> pd.DataFrame:
    """Characteristics by osteoporosis status (unweighted counts, as the paper's Table 1)."""
    op = cohort["has_osteoporosis"].astype(bool)
    rows = []
    for col, label in CATEGORICAL.items():
        values = cohort[col].astype(int).map({1: "Yes", 0: "No"}) if col in BOOLEAN else cohort[col]
        crosstab = pd.crosstab(values, op)
        p = (
            stats.chi2_contingency(crosstab, correction=False)[1]
            if crosstab.shape[0] > 1 and crosstab.shape[1] > 1
            else np.nan
        )
        for level, counts in crosstab.iterrows():
            non, yes = int(counts.get(False, 0)), int(counts.get(True, 0))
            rows.append(
                {
                    "variable": label,
                    "level": str(level),
                    "statistic": "n (%)",
                    "non_op": f"{non} ({100 * non / max((~op).sum(), 1):.1f})",
                    "op": f"{yes} ({100 * yes / max(op.sum(), 1):.1f})",
                    "non_op_value": non,
                    "op_value": yes,
                    "test": "chi-squared",
                    "p_value": p,
                }
            )
    metal_columns = {col for col, _ in METALS.values()}
    for col, label in CONTINUOUS.items():
        a, b = cohort.loc[~op, col].dropna(), cohort.loc[op, col].dropna()
        normal = len(a) > 2 and len(b) > 2 and abs(stats.skew(a)) <= 1 and abs(stats.skew(b)) <= 1
        if normal or col in metal_columns:
            p = stats.ttest_ind(a, b).pvalue
            shown = (f"{a.mean():.2f} ({a.std():.2f})", f"{b.mean():.2f} ({b.std():.2f})")
            rows.append(
                {
                    "variable": label,
                    "level": "",
                    "statistic": "mean (SD)",
                    "non_op": shown[0],
                    "op": shown[1],
                    "non_op_value": a.mean(),
                    "op_value": b.mean(),
                    "test": "t-test",
                    "p_value": p,
                }
            )
        if not normal or col in metal_columns:
            p = stats.mannwhitneyu(a, b).pvalue if len(a) and len(b) else np.nan
            iqr = lambda s: s.quantile(0.75) - s.quantile(0.25)  # noqa: E731
            shown = (f"{a.median():.2f} ({iqr(a):.2f})", f"{b.median():.2f} ({iqr(b):.2f})")
            rows.append(
                {
                    "variable": label,
                    "level": "",
                    "statistic": "median (IQR)",
                    "non_op": shown[0],
                    "op": shown[1],
                    "non_op_value": a.median(),
                    "op_value": b.median(),
                    "test": "Mann-Whitney",
                    "p_value": p,
                }
            )
    header = {
        "variable": "Participants",
        "level": "",
        "statistic": "n",
        "non_op": str(int((~op).sum())),
        "op": str(int(op.sum())),
        "non_op_value": int((~op).sum()),
        "op_value": int(op.sum()),
        "test": "",
        "p_value": np.nan,
    }
    return pd.DataFrame([header, *rows])
