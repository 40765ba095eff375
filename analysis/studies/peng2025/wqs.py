"""Figure 2: weighted quantile sum regression of osteoporosis on the five ln-metals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.studies.peng2025 import tables as study1

WQS_COVARIATES = [
    "hypertension",
    "diabetes",
    "parental_osteoporosis",
    "previous_fracture",
    "marital_status",
    "race_ethnicity",
    "education",
    "age_years",
    "ever_smoked",
    "bmi_group",
]


def study1_wqs(cohort: pd.DataFrame, b: int = 100, seed: int = 2025) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figure 2: WQS of osteoporosis on the five ln-metals, all covariates, both directions.

    gWQS's defaults (q = 4, 60% validation, b = 100, t² averaging, unconstrained); a direction
    in which no bootstrap fit has the chosen sign is refitted with the sign constrained, and
    the table says so.
    """
    from analysis.methods.wqs import WqsError, fit_wqs

    frame = cohort.assign(**{f"ln_{m}": np.log(cohort[col]) for m, (col, _) in study1.METALS.items()})
    mixture = [f"ln_{m}" for m in study1.METALS]
    weights, models = [], []
    for direction in ("positive", "negative"):
        constrained = False
        try:
            fit = fit_wqs(frame, "op", mixture, WQS_COVARIATES, direction=direction, b=b, seed=seed)
        except WqsError:
            constrained = True
            fit = fit_wqs(
                frame, "op", mixture, WQS_COVARIATES, direction=direction, b=b, seed=seed, b_constrained=True
            )
        sign_count = int(
            ((fit.bootstrap.b1 > 0) if direction == "positive" else (fit.bootstrap.b1 < 0)).sum()
        )
        for metal, weight in fit.weights.items():
            weights.append(
                {
                    "direction": direction,
                    "metal": metal.removeprefix("ln_"),
                    "weight": weight,
                    "b_constrained": constrained,
                }
            )
        row = fit.mixture_effect
        models.append(
            {
                "direction": direction,
                "b_constrained": constrained,
                "bootstraps": len(fit.bootstrap),
                "bootstraps_with_sign": sign_count,
                "estimate": row.estimate,
                "std_error": row.std_error,
                "p_value": row.p_value,
                "odds_ratio": row.odds_ratio,
                "or_ci_low": row.or_ci_low,
                "or_ci_high": row.or_ci_high,
                "n_validation": int(fit.validation.sum()),
            }
        )
    return pd.DataFrame(weights), pd.DataFrame(models)


def study1_wqs_repeated_holdout(
    cohort: pd.DataFrame, rh: int = 100, b: int = 100, seed: int = 2025
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Figure 2's WQS with gWQS's repeated holdout (``rh`` splits of ``b`` bootstraps each),
    both directions: the mean weights with their 2.5–97.5 percentile intervals, and the mean
    validated mixture OR with its percentile interval."""
    from analysis.methods.wqs import repeated_holdout

    frame = cohort.assign(**{f"ln_{m}": np.log(cohort[col]) for m, (col, _) in study1.METALS.items()})
    mixture = [f"ln_{m}" for m in study1.METALS]
    weights, models = [], []
    for direction in ("positive", "negative"):
        result = repeated_holdout(
            frame, "op", mixture, WQS_COVARIATES, rh=rh, seed=seed, b=b, direction=direction
        )
        table = result.weights
        table.insert(0, "direction", direction)
        table["metal"] = table.pop("component").str.removeprefix("ln_")
        weights.append(table)
        models.append({"direction": direction, "bootstraps_per_repeat": b, **result.mixture_effect})
    return pd.concat(weights, ignore_index=True), pd.DataFrame(models)
