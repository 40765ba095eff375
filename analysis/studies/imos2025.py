"""Study 2: hemoglobin and BMD by sex (the IMOS design on NHANES), unweighted and design-based.

Models, separately for men and women (hemoglobin in g/dL):
- linear: each site's BMD ~ Hb + age + BMI (``model_1``), + race, smoking, diabetes (``model_2``);
- logistic: low BMD (lowest T < -1) and osteoporosis (lowest T < -2.5) on the same terms;
- mean Hb by osteoporosis status with Student's t-test.
Design-based fits use the combined MEC weight, strata and PSUs, each sex as a domain of
the full design (as study 1).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy import stats

from analysis.methods.survey import Design, SurveyError, design_matrices, fit_flags, glm, with_empty_psus
from nhanes_bone.core.settings import PAPERS_DIR

PAPER = PAPERS_DIR / "imos2025.json"
SITES = {
    "total_femur_bmd_g_cm2": "total_femur",
    "femoral_neck_bmd_g_cm2": "femoral_neck",
    "lumbar_spine_bmd_g_cm2": "lumbar_spine",
}
MODELS = {
    "model_1": ["age_years", "bmi_kg_m2"],
    "model_2": [
        "age_years",
        "bmi_kg_m2",
        "C(race_ethnicity, Treatment('Non-Hispanic White'))",
        "ever_smoked",
        "diabetes",
    ],
}


def prepare(cohort: pd.DataFrame, design: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The cohort as a domain of the full design (``survey.with_empty_psus``)."""
    cohort = cohort.copy()
    for col in ("ever_smoked", "diabetes", "has_low_bmd", "has_osteoporosis"):
        cohort[col] = cohort[col].astype(int)
    full, in_cohort = with_empty_psus(cohort, design, "combined_mec_weight")
    return full, in_cohort


def _fit(full: pd.DataFrame, in_cohort: np.ndarray, formula: str, family: str, sex: str, weighting: str):
    domain = in_cohort & (full["sex"] == sex).to_numpy()
    if weighting == "unweighted":
        y, x, names = design_matrices(formula, full[domain])
        return glm(y, x, names, family)
    y, x, names = design_matrices(formula, full)
    design = Design.from_frame(full, "combined_mec_weight", "design_stratum", "design_psu")
    return glm(y, x, names, family, design, domain)


def regressions(cohort: pd.DataFrame, design: pd.DataFrame) -> pd.DataFrame:
    full, in_cohort = prepare(cohort, design)
    outcomes = [(col, site, "gaussian") for col, site in SITES.items()]
    outcomes += [("has_low_bmd", "low_bmd", "binomial"), ("has_osteoporosis", "osteoporosis", "binomial")]
    rows = []
    for sex in ("male", "female"):
        for weighting in ("unweighted", "design"):
            for column, outcome, family in outcomes:
                for model, covariates in MODELS.items():
                    base = {"sex": sex, "weighting": weighting, "outcome": outcome, "model": model}
                    try:
                        fit = _fit(
                            full,
                            in_cohort,
                            f"{column} ~ hemoglobin_g_dl + {' + '.join(covariates)}",
                            family,
                            sex,
                            weighting,
                        )
                    except (SurveyError, np.linalg.LinAlgError, ValueError) as exc:
                        rows.append({**base, "note": str(exc)[:200]})
                        continue
                    i = fit.names.index("hemoglobin_g_dl")
                    ci = fit.ci(kind="t" if fit.uses_t() else "normal")[i]
                    row = {
                        **base,
                        **fit_flags(fit),
                        "n": fit.n,
                        "estimate": fit.coef[i],
                        "ci_low": ci[0],
                        "ci_high": ci[1],
                        "p_value": fit.p_values[i],
                    }
                    if family == "binomial":
                        row |= {
                            "odds_ratio": np.exp(fit.coef[i]),
                            "or_ci_low": np.exp(ci[0]),
                            "or_ci_high": np.exp(ci[1]),
                        }
                    rows.append(row)
    return pd.DataFrame(rows)


def hemoglobin_by_status(cohort: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for sex in ("male", "female", "both"):
        part = cohort if sex == "both" else cohort[cohort.sex == sex]
        op, non = (
            part.loc[part.has_osteoporosis.astype(bool), "hemoglobin_g_dl"],
            part.loc[~part.has_osteoporosis.astype(bool), "hemoglobin_g_dl"],
        )
        p = stats.ttest_ind(op, non).pvalue if len(op) > 1 and len(non) > 1 else np.nan
        rows.append(
            {
                "sex": sex,
                "n_osteoporosis": len(op),
                "n_without": len(non),
                "mean_hb_osteoporosis": op.mean(),
                "sd_hb_osteoporosis": op.std(),
                "mean_hb_without": non.mean(),
                "sd_hb_without": non.std(),
                "p_value": p,
            }
        )
    return pd.DataFrame(rows)


def comparison(regression: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Each site × sex: the paper's direction and significance beside ours (Model 1, both weightings)."""
    paper = json.loads(PAPER.read_text())
    rows = []
    for ref in paper["linear"]:
        ours = regression[
            (regression.sex == ref["sex"])
            & (regression.outcome == ref["site"])
            & (regression.model == "model_1")
        ]
        for fit in ours.itertuples():
            significant = bool(fit.p_value < alpha)
            agrees = significant == ref["significant"] and (
                not significant or np.sign(fit.estimate) == np.sign(ref["beta"] or 0)
            )
            rows.append(
                {
                    "sex": ref["sex"],
                    "site": ref["site"],
                    "weighting": fit.weighting,
                    "paper_beta": ref["beta"],
                    "paper_p_value": ref["p_value"],
                    "paper_significant": ref["significant"],
                    "beta": fit.estimate,
                    "ci_low": fit.ci_low,
                    "ci_high": fit.ci_high,
                    "p_value": fit.p_value,
                    "significant": significant,
                    "agrees_with_paper": bool(agrees),
                }
            )
    return pd.DataFrame(rows)


def _describe(r) -> str:
    return f"{r.sex} {r.site.replace('_', ' ')} (β = {r.beta:.4f} g/cm² per g/dL, p = {r.p_value:.3f})"


def narrative(compare: pd.DataFrame) -> str:
    """A short written comparison with the IMOS paper, for the report."""
    lines = []
    for weighting in ("unweighted", "design"):
        part = compare[compare.weighting == weighting]
        agree = part[part.agrees_with_paper]
        differ = part[~part.agrees_with_paper]

        lines.append(
            f"{weighting.capitalize()} (Model 1: age and BMI): NHANES agrees with IMOS for "
            + (", ".join(_describe(r) for r in agree.itertuples()) or "no site")
            + "; it differs for "
            + (", ".join(_describe(r) for r in differ.itertuples()) or "no site")
            + "."
        )
    return "\n".join(lines)
