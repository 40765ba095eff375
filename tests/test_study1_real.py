"""Study 1 on the genuine files: Table 2 recomputed from the mart by other code."""

from __future__ import annotations

import numpy as np
import statsmodels.formula.api as smf
from helpers import query

from analysis.pipeline import load
from analysis.studies.peng2025 import tables as study1


def test_table2_equals_an_independent_fit_on_the_mart(real_warehouse):
    """Model 1, cadmium, unweighted: statsmodels' formula logit on marts.metals_op_cohort (its own
    dummies and reference levels) gives the ORs, CIs and p of study1.regression_table."""
    cohort, design, synthetic = load(real_warehouse)
    assert not synthetic
    data = study1.StudyData.build(cohort, design)
    ours = study1.regression_table(
        data, "op", {"model_1": study1.TABLE2_MODELS["model_1"]}, "binomial", "unweighted"
    )
    ours = ours[ours.metal == "cadmium"].set_index("term")
    mart = query(real_warehouse, "select * from marts.metals_op_cohort")
    for col in ("hypertension", "diabetes", "parental_osteoporosis", "previous_fracture", "has_osteoporosis"):
        mart[col] = mart[col].astype(int)
    fit = smf.logit(
        "has_osteoporosis ~ C(cadmium_quartile) + hypertension + diabetes + parental_osteoporosis"
        " + previous_fracture + C(marital_status, Treatment('Married or living with partner'))",
        mart,
    ).fit(disp=0)
    for q in (2, 3, 4):
        name = f"C(cadmium_quartile)[T.{q}]"
        row = ours.loc[f"Q{q}"]
        np.testing.assert_allclose(row.odds_ratio, np.exp(fit.params[name]), rtol=1e-6)
        np.testing.assert_allclose(row.p_value, fit.pvalues[name], rtol=1e-5)
        low, high = np.exp(fit.conf_int().loc[name])
        np.testing.assert_allclose([row.or_ci_low, row.or_ci_high], [low, high], rtol=1e-6)
    assert ours.loc["Q4", "n"] == len(mart)
