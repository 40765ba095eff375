"""The sensitivity analyses reviewers ask of Peng et al.'s Model 3, each a block of rows of one
table (``sensitivity_analyses``), plus the survey-weighted Table 1 and WQS with repeated
holdout.

Each analysis re-fits Table 2's Model 3 for every metal — Q4 vs Q1 OR, p for trend (quartile as
a number) and the OR per doubling of the metal (ln, continuous) — unweighted and design-based:

- ``main``: the cohort as built (complete cases);
- ``cotinine``: + ln serum cotinine (smoking is cadmium's main source; ever-smoking is a weak
  proxy of the dose);
- ``egfr``: + eGFR (CKD-EPI 2021 from serum creatinine: cadmium is nephrotoxic and kidney
  function affects bone; Jaffe creatinine in 2013–2014, enzymatic in 2017–2020);
- ``untreated``: women on osteoporosis treatment (a bone medicine in RXQ_RX, or OSQ072) left out
  — treatment raises BMD, so a treated woman's T-score understates her disease;
- ``mercury_lod_half``: mercury below its detection limit as LOD/2 instead of NCHS's LOD/√2
  (the quartiles cannot change — a smaller constant at the bottom keeps the order — so it is
  the per-doubling OR that can);
- ``mercury_detected``: the women with mercury below the LOD left out;
- ``imputed``: the covariates multiply imputed (chained equations, m datasets) on every woman
  with all metals and BMD (marts.metals_op_imputation_frame) instead of complete cases, pooled
  by Rubin's rules; the design-based fits' variances are the design's.

Choices: the quartile cut-points stay the cohort's in every subset (so that the rows compare
the same exposure categories; the imputation frame has its own, cut within its rows); a woman
missing the added covariate (cotinine, eGFR) leaves that analysis only; unknown treatment counts
as untreated. Each row says its n and cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.methods.imputation import chained_imputations, rubin
from analysis.methods.parallel import parallel_map, workers_for
from analysis.methods.survey import SurveyError, fit_flags, glm
from analysis.methods.survey_tests import design_t_test, rao_scott, weighted_mean
from analysis.studies.peng2025 import tables as study1

WEIGHTINGS = ("unweighted", "design")
MODEL_3 = study1.TABLE2_MODELS["model_3"]
ANALYSES = {
    "main": "Model 3, complete cases (as Table 2)",
    "cotinine": "+ ln serum cotinine",
    "egfr": "+ eGFR (CKD-EPI 2021)",
    "untreated": "excluding women on osteoporosis treatment",
    "mercury_lod_half": "mercury below the LOD as LOD/2",
    "mercury_detected": "excluding mercury below the LOD",
    "imputed": "covariates multiply imputed (Rubin's rules)",
}
# what the imputation models use: Model 3's covariates (BMI as kg/m², grouped after), the
# outcome and the five ln-metals
IMPUTED = [
    "hypertension",
    "diabetes",
    "parental_osteoporosis",
    "previous_fracture",
    "marital_status",
    "education",
    "ever_smoked",
    "bmi_kg_m2",
]
PREDICTORS = ["age_years", "race_ethnicity", "has_osteoporosis"]


def _exposure(cohort: pd.DataFrame, metal: str, key: str) -> tuple[np.ndarray, list[str]]:
    """The exposure's columns as patsy would name them: Q2–Q4 dummies, the quartile as a
    number (trend), or the ln-metal."""
    if key == "q4":
        quartile = cohort[f"{metal}_quartile"].to_numpy()
        return (
            np.column_stack([(quartile == q).astype(float) for q in (2, 3, 4)]),
            [f"C({metal}_quartile)[T.{q}]" for q in (2, 3, 4)],
        )
    column = f"{metal}_quartile" if key == "trend" else f"ln_blood_{metal}"
    return cohort[column].to_numpy(dtype=float)[:, None], [column]


TERMS = {"q4": "C({metal}_quartile)[T.4]", "trend": "{metal}_quartile", "ln": "ln_blood_{metal}"}


def _coefficients(data: study1.StudyData, metal: str, extra: list[str], weighting: str) -> dict:
    """Q4's coefficient, the trend's and the ln-metal's, with their variances, for one metal:
    Model 3 (+ ``extra``) built by patsy once per dataset, the exposure's columns by hand
    (patsy is most of a fit's cost, and the covariates are the same for every exposure)."""
    frame = "cohort" if weighting == "unweighted" else "full"
    y, covariates, names = data.matrices("op ~ " + " + ".join([*MODEL_3, *extra]), frame)
    rows = data.cohort if frame == "cohort" else data.full
    out: dict = {"fits": []}
    for key, term in TERMS.items():
        columns, exposure_names = _exposure(rows, metal, key)
        x = np.column_stack([covariates[:, :1], columns, covariates[:, 1:]])
        all_names = [names[0], *exposure_names, *names[1:]]
        if weighting == "unweighted":
            fit = glm(y, x, all_names, "binomial")
        else:
            fit = glm(y, x, all_names, "binomial", data.design, data.in_cohort)
        i = all_names.index(term.format(metal=metal))
        low, high = fit.ci(kind="t" if fit.uses_t() else "normal")[i]
        # (estimate, variance, df) for Rubin's rules; (estimate, low, high, p) as the fit gives them
        out[key] = (
            float(fit.coef[i]),
            float(fit.cov[i, i]),
            float(fit.df_residual),
            float(low),
            float(high),
            float(fit.p_values[i]),
        )
        out["fits"].append(fit)
    out["n"] = out["fits"][0].n
    return out


def _row(analysis: str, metal: str, weighting: str, cohort: pd.DataFrame, coefs: dict, ci) -> dict:
    """A table row from the fits' quantities (``coefs``: q4, trend, ln); ``ci`` turns one
    quantity — a single fit's or the m imputations' — into (estimate, low, high, p)."""
    row = {
        "analysis": analysis,
        "description": ANALYSES[analysis],
        "weighting": weighting,
        "metal": metal,
        "n": int(len(cohort)),
        "n_osteoporosis": int(cohort["has_osteoporosis"].astype(bool).sum()),
    }
    for key, scale, prefix in (("q4", 1.0, "q4_or"), ("ln", np.log(2), "or_per_doubling")):
        estimate, low, high, _ = ci(coefs[key])
        row |= {
            prefix: float(np.exp(estimate * scale)),
            f"{prefix}_ci_low": float(np.exp(low * scale)),
            f"{prefix}_ci_high": float(np.exp(high * scale)),
        }
    row["p_trend"] = ci(coefs["trend"])[3]
    return row


def _single_fit_ci(quantity: tuple) -> tuple[float, float, float, float]:
    """One fit's (estimate, low, high, p), as GlmResult.ci and p_values gave them."""
    estimate, _, _, low, high, p = quantity
    return estimate, low, high, p


def _pooled_ci(quantities: list[tuple]) -> tuple[float, float, float, float]:
    estimates = np.array([q[0] for q in quantities])
    variances = np.array([q[1] for q in quantities])
    pooled = rubin(estimates, variances, quantities[0][2])
    low, high = pooled.ci()
    return pooled.estimate, low, high, pooled.p_value


def _variants(data: study1.StudyData) -> dict[str, tuple[pd.DataFrame, list[str]]]:
    """Each single-dataset analysis's cohort and added covariates."""
    cohort = data.cohort
    below = cohort["mercury_below_lod"].fillna(False).astype(bool)
    return {
        "main": (cohort, []),
        "cotinine": (cohort[cohort["ln_serum_cotinine"].notna()], ["ln_serum_cotinine"]),
        "egfr": (cohort[cohort["egfr_ml_min_1_73m2"].notna()], ["egfr_ml_min_1_73m2"]),
        "untreated": (cohort[~cohort["osteoporosis_treatment"].fillna(False).astype(bool)], []),
        "mercury_lod_half": (
            cohort.assign(
                ln_blood_mercury=np.where(
                    below, cohort["ln_blood_mercury"] - 0.5 * np.log(2), cohort["ln_blood_mercury"]
                )
            ),
            [],
        ),
        "mercury_detected": (cohort[~below], []),
    }


def sensitivity_analyses(
    data: study1.StudyData,
    design: pd.DataFrame,
    imputation_frame: pd.DataFrame | None = None,
    m: int = 20,
    seed: int = 2025,
) -> pd.DataFrame:
    """Every analysis × weighting × metal (see the module docstring); ``design`` is every
    participant's stratum and PSU (marts.survey_design) for the subsets' domain estimation."""
    rows = []
    for analysis, (cohort, extra) in _variants(data).items():
        if len(cohort) < MIN_ROWS:
            rows += [
                {
                    "analysis": analysis,
                    "description": ANALYSES[analysis],
                    "weighting": weighting,
                    "metal": metal,
                    "n": len(cohort),
                    "note": _too_few(analysis, len(cohort)),
                }
                for weighting in WEIGHTINGS
                for metal in study1.METALS
            ]
            continue
        local = data if analysis == "main" else study1.StudyData.build(_restored(cohort), design)
        for weighting in WEIGHTINGS:
            for metal in study1.METALS:
                base = {
                    "analysis": analysis,
                    "description": ANALYSES[analysis],
                    "weighting": weighting,
                    "metal": metal,
                }
                try:
                    coefs = _coefficients(local, metal, extra, weighting)
                except (SurveyError, np.linalg.LinAlgError, ValueError) as exc:
                    rows.append({**base, "note": str(exc)[:200]})
                    continue
                rows.append(
                    {
                        **_row(analysis, metal, weighting, cohort, coefs, _single_fit_ci),
                        **fit_flags(*coefs["fits"]),
                    }
                )
    if imputation_frame is not None and len(imputation_frame) >= 20:
        rows += _imputed(imputation_frame, design, m, seed)
    return pd.DataFrame(rows)


MIN_ROWS = 20
NEEDS = {
    "cotinine": "serum cotinine (COT_H, P_COT)",
    "egfr": "serum creatinine (BIOPRO_H, P_BIOPRO)",
}


def _too_few(analysis: str, n: int) -> str:
    """Why an analysis has no estimates: too few women, and the files it needs when that is why."""
    needs = f"; it needs {NEEDS[analysis]}: are those files in the data folder?" if analysis in NEEDS else ""
    return f"not fitted: {n} women (fewer than {MIN_ROWS}){needs}"


def _restored(cohort: pd.DataFrame) -> pd.DataFrame:
    """A subset of StudyData.cohort back in the marts' form (StudyData.build recodes it)."""
    return cohort.drop(columns=["op"]).reset_index(drop=True)


def _imputed(
    frame: pd.DataFrame, design: pd.DataFrame, m: int, seed: int, n_jobs: int | None = None
) -> list[dict]:
    """``m`` imputations of the covariates on the imputation frame, Model 3 on each (the
    datasets spread over ``n_jobs`` processes), pooled by Rubin's rules."""
    frame = frame.reset_index(drop=True)
    columns = [*IMPUTED, *PREDICTORS, *(f"ln_blood_{metal}" for metal in study1.METALS)]
    completed = chained_imputations(frame, columns, m=m, seed=seed)
    per_draw = parallel_map(_fit_imputed, [(draw, design) for draw in completed], workers_for(m, n_jobs))
    rows = []
    missing = int((~frame["has_complete_covariates"].astype(bool)).sum())
    for weighting in WEIGHTINGS:
        for metal in study1.METALS:
            fits = [draw[(weighting, metal)] for draw in per_draw]
            coefs = {key: [f[key] for f in fits] for key in ("q4", "trend", "ln")}
            row = _row("imputed", metal, weighting, frame, coefs, _pooled_ci)
            rows.append(
                {
                    **row,
                    **fit_flags(*(fit for f in fits for fit in f["fits"])),
                    "note": f"m = {m}; {missing} of {len(frame)} women had a covariate imputed",
                }
            )
    return rows


def _fit_imputed(job: tuple[pd.DataFrame, pd.DataFrame]) -> dict:
    """Model 3 for every weighting and metal on one completed dataset, the imputed BMI grouped
    at the breaks of the observed groups (the build's bmi_group_breaks: '<25', '>=30')."""
    draw, design = job
    labels = draw["bmi_group"].dropna().unique()
    low = float(next(str(v)[1:] for v in labels if str(v).startswith("<")))
    high = float(next(str(v)[2:] for v in labels if str(v).startswith(">=")))
    bmi = draw["bmi_kg_m2"]
    middle = f"{low:g}-{high:g}"
    draw["bmi_group"] = np.where(bmi < low, f"<{low:g}", np.where(bmi < high, middle, f">={high:g}"))
    data = study1.StudyData.build(draw, design)
    return {
        (weighting, metal): _coefficients(data, metal, [], weighting)
        for weighting in WEIGHTINGS
        for metal in study1.METALS
    }


def table1_weighted(data: study1.StudyData) -> pd.DataFrame:
    """Table 1 with the survey weights: weighted % of each level (and weighted mean of each
    continuous variable, with its SE) in women without and with osteoporosis; p by the
    Rao–Scott F test (``svychisq``) and the design-based t test (``svyttest``) on the full
    design, the cohort a domain of it."""
    full, design, cohort_mask = data.full, data.design, data.in_cohort
    op = full["has_osteoporosis"].to_numpy(dtype=float)
    groups = {"non_op": cohort_mask & (op == 0), "op": cohort_mask & (op == 1)}
    rows = [
        {
            "variable": "Participants",
            "level": "",
            "statistic": "n (weighted %)",
            **{
                g: f"{int(mask.sum())} ({100 * design.weights[mask].sum() / design.weights[cohort_mask].sum():.1f})"
                for g, mask in groups.items()
            },
            "test": "",
            "p_value": np.nan,
        }
    ]
    for col, label in study1.CATEGORICAL.items():
        values = full[col].astype(str).to_numpy()
        p = _safe(rao_scott, values, op, design, cohort_mask)
        for level in sorted(np.unique(values[cohort_mask])):
            shown = {}
            for g, mask in groups.items():
                pct, se = weighted_mean((values == level).astype(float), design, mask)
                shown[g], shown[f"{g}_value"] = f"{100 * pct:.1f} ({100 * se:.1f})", 100 * pct
            rows.append(
                {
                    "variable": label,
                    "level": _level(col, level),
                    "statistic": "weighted % (SE)",
                    **shown,
                    "test": "Rao-Scott F",
                    "p_value": p,
                }
            )
    for col, label in study1.CONTINUOUS.items():
        values = full[col].to_numpy(dtype=float)
        p = _safe(design_t_test, values, op, design, cohort_mask)
        shown = {}
        for g, mask in groups.items():
            mean, se = weighted_mean(values, design, mask)
            shown[g], shown[f"{g}_value"] = f"{mean:.2f} ({se:.2f})", mean
        rows.append(
            {
                "variable": label,
                "level": "",
                "statistic": "weighted mean (SE)",
                **shown,
                "test": "design-based t",
                "p_value": p,
            }
        )
    return pd.DataFrame(rows)


def _level(col: str, level: str) -> str:
    return {"1": "Yes", "0": "No"}.get(level, level) if col in study1.BOOLEAN else level


def _safe(test, *args) -> float:
    """The test's p value, NaN when the design cannot give one (a lonely PSU, a singular table)."""
    try:
        return float(test(*args).p_value)
    except (SurveyError, np.linalg.LinAlgError):
        return np.nan


def lod_shares(cohort: pd.DataFrame) -> pd.DataFrame:
    """Per metal: how many of the cohort (and of each osteoporosis group) had a value below the
    detection limit — NCHS's LOD/√2 stands in for those values."""
    op = cohort["has_osteoporosis"].astype(bool)
    rows = []
    for metal, (_, label) in study1.METALS.items():
        below = cohort[f"{metal}_below_lod"].fillna(False).astype(bool)
        rows.append(
            {
                "metal": metal,
                "label": label,
                "n_below_lod": int(below.sum()),
                "percent_below_lod": 100 * float(below.mean()),
                "non_op_below_lod": int((below & ~op).sum()),
                "op_below_lod": int((below & op).sum()),
                "percent_non_op": 100 * float(below[~op].mean()) if (~op).any() else np.nan,
                "percent_op": 100 * float(below[op].mean()) if op.any() else np.nan,
            }
        )
    return pd.DataFrame(rows)
