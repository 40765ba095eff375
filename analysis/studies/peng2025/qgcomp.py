"""Quantile g-computation of osteoporosis on the five metals, beside WQS and BKMR (not in
Peng et al.; Keil et al. 2020's third standard mixture method, unconstrained in direction).

The same covariates as the WQS models, quartiles of each metal (qgcomp's q = 4; the logs
WQS takes change no quartile), both qgcomp.glm.noboot (the conditional OR per quartile of
every metal at once, with each metal's weight within its direction) and qgcomp.glm.boot's
marginal structural model on the OR scale with 200 seeded bootstrap resamples.
"""

from __future__ import annotations

import pandas as pd

from analysis.methods.qgcomp import qgcomp
from analysis.studies.peng2025 import tables as study1
from analysis.studies.peng2025.wqs import WQS_COVARIATES


def study1_qgcomp(cohort: pd.DataFrame, bootstrap: int = 200, seed: int = 2025) -> dict[str, pd.DataFrame]:
    """The analysis schema's qgcomp_model (one row per method) and qgcomp_weights tables."""
    mixture = list(study1.METALS)
    frame = cohort.assign(**{metal: cohort[col] for metal, (col, _) in study1.METALS.items()})
    fits = {
        "noboot": qgcomp(frame, "op", mixture, WQS_COVARIATES, family="binomial"),
        "boot": qgcomp(
            frame, "op", mixture, WQS_COVARIATES, family="binomial", bootstrap=bootstrap, seed=seed
        ),
    }
    models = []
    for name, fit in fits.items():
        ratio = fit.ratio or {}
        models.append(
            {
                "method": name,
                "estimand": "conditional OR per quartile of every metal"
                if name == "noboot"
                else "marginal (MSM) OR per quartile of every metal",
                "psi": fit.psi,
                "std_error": fit.se,
                "ci_low": fit.ci[0],
                "ci_high": fit.ci[1],
                "p_value": fit.p_value,
                "odds_ratio": ratio.get("estimate"),
                "or_ci_low": ratio.get("ci_low"),
                "or_ci_high": ratio.get("ci_high"),
                "positive_psi": fit.positive_psi,
                "negative_psi": fit.negative_psi,
                "bootstraps": 0 if fit.bootstrap is None else len(fit.bootstrap),
                "n": fit.n,
                "warnings": "; ".join(fit.warnings),
            }
        )
    weights = fits["noboot"].weights.rename(columns={"exposure": "metal"})
    return {"qgcomp_model": pd.DataFrame(models), "qgcomp_weights": weights}
