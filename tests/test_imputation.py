"""Multiple imputation: Rubin's rules against a hand computation, and chained equations that
fill only what is missing, from observed values, and recover a planted regression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose

from analysis.methods.imputation import ImputationError, chained_imputations, rubin


def test_rubins_rules_by_hand():
    # m = 4 estimates 1.0, 1.2, 0.8, 1.0 (mean 1.0, B = 0.08/3), variances all 0.04
    pooled = rubin(np.array([1.0, 1.2, 0.8, 1.0]), np.full(4, 0.04))
    b = 0.08 / 3
    t = 0.04 + (1 + 1 / 4) * b
    lam = (1 + 1 / 4) * b / t
    assert_allclose([pooled.estimate, pooled.std_error**2, pooled.between, pooled.within], [1.0, t, b, 0.04])
    assert_allclose(pooled.df, 3 / lam**2)  # Rubin 1987 with infinite complete-data df
    # Barnard-Rubin with 100 complete-data df: the harmonic combination of the two dfs
    small = rubin(np.array([1.0, 1.2, 0.8, 1.0]), np.full(4, 0.04), df_complete=100)
    observed = 101 / 103 * 100 * (1 - lam)
    assert_allclose(small.df, (3 / lam**2) * observed / (3 / lam**2 + observed))
    assert small.df < pooled.df


def test_identical_imputations_pool_to_the_single_fit():
    pooled = rubin(np.full(5, 0.3), np.full(5, 0.01), df_complete=50)
    assert pooled.between == 0 and pooled.fraction_missing_information == 0
    assert_allclose([pooled.estimate, pooled.std_error], [0.3, 0.1])
    assert_allclose(pooled.df, 50 * 51 / 53)


def _planted(n: int = 1500, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    group = rng.choice(["a", "b", "c"], size=n)
    flag = rng.random(n) < 0.4
    y = 1.0 + 0.5 * x + 0.8 * flag + rng.normal(scale=0.5, size=n)
    full = pd.DataFrame({"y": y, "x": x, "flag": flag, "group": group})
    holed = full.copy()
    holed.loc[rng.random(n) < 0.3, "x"] = np.nan
    holed["flag"] = holed["flag"].astype("boolean")
    holed.loc[rng.random(n) < 0.2, "flag"] = pd.NA
    holed.loc[rng.random(n) < 0.1, "group"] = None
    return full, holed


def test_chained_imputations_fill_only_the_holes_with_observed_values():
    _, holed = _planted()
    draws = chained_imputations(holed, ["y", "x", "flag", "group"], m=3, seed=1)
    assert len(draws) == 3
    observed_x = set(holed.x.dropna())
    for draw in draws:
        assert draw[["x", "flag", "group"]].notna().all().all()
        kept = holed.x.notna()
        assert_allclose(draw.x[kept], holed.x[kept])  # observed values untouched
        assert set(draw.x[~kept]) <= observed_x  # predictive mean matching: donors' values
        assert set(draw.group) <= {"a", "b", "c"} and set(draw.flag) <= {True, False}
    assert not np.array_equal(draws[0].x, draws[1].x)  # the draws differ
    again = chained_imputations(holed, ["y", "x", "flag", "group"], m=3, seed=1)
    assert_allclose(again[2].x, draws[2].x)  # the seed fixes them


def test_pooled_regression_recovers_the_planted_coefficients():
    """MCAR holes in x (30%) and the binary flag (20%): the pooled OLS of y on x and flag
    recovers the planted 0.5 and 0.8 within 2.5 pooled SEs, as the complete data does."""
    _, holed = _planted()
    draws = chained_imputations(holed, ["y", "x", "flag", "group"], m=20, seed=7)
    fits = [sm.OLS(d.y, sm.add_constant(d[["x"]].assign(flag=d.flag.astype(float)))).fit() for d in draws]
    for term, planted in (("x", 0.5), ("flag", 0.8)):
        pooled = rubin(
            np.array([f.params[term] for f in fits]),
            np.array([f.bse[term] ** 2 for f in fits]),
            fits[0].df_resid,
        )
        assert abs(pooled.estimate - planted) < 2.5 * pooled.std_error, (term, pooled)
        assert pooled.fraction_missing_information > 0


def test_bad_requests_are_refused():
    _, holed = _planted(50)
    with pytest.raises(ImputationError, match="not in the data"):
        chained_imputations(holed, ["y", "nope"])
    with pytest.raises(ImputationError, match="m >= 2"):
        chained_imputations(holed, ["y", "x"], m=1)
    with pytest.raises(ImputationError, match="no observed value"):
        chained_imputations(holed.assign(x=np.nan), ["y", "x"])
    with pytest.raises(ImputationError, match="m >= 2"):
        rubin(np.array([1.0]), np.array([0.1]))
