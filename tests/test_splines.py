"""Restricted cubic splines, the non-linearity test and VIFs against closed forms and planted truths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.special import expit

from analysis.methods.splines import knots, rcs_basis, variance_inflation
from analysis.methods.survey import svyglm, wald_test


def test_the_basis_at_a_point_worked_by_hand():
    """Knots 0, 1, 2, 3 and x = 2.5: s₁ = (2.5³ − 0.5³·3)/3² = 15.25/9, s₂ = (1.5³ − 0.5³·2)/9 = 3.125/9."""
    assert_allclose(
        rcs_basis(np.array([2.5]), np.array([0.0, 1, 2, 3]))[0], [15.25 / 9, 3.125 / 9], rtol=1e-12
    )


def test_the_spline_is_zero_below_and_linear_beyond_the_outer_knots():
    t = np.array([1.0, 2.0, 4.0, 7.0])
    below = rcs_basis(np.linspace(-3, 1, 9), t)
    assert_allclose(below, 0, atol=1e-15)
    above = rcs_basis(np.linspace(7, 20, 14), t)  # equally spaced: second differences vanish
    assert_allclose(np.diff(above, n=2, axis=0), 0, atol=1e-9)
    inside = rcs_basis(np.linspace(2, 7, 14), t)
    assert np.abs(np.diff(inside, n=2, axis=0)).max() > 1e-3  # cubic between the knots


def test_knots_are_harrells_quantiles():
    x = np.arange(101.0)
    assert_allclose(knots(x, 3), [10, 50, 90])
    assert_allclose(knots(x, 4), [5, 35, 65, 95])
    with pytest.raises(ValueError, match="6 knots"):
        knots(x, 6)


def test_vif_of_two_columns_is_one_over_one_minus_r_squared():
    rng = np.random.default_rng(1)
    a = rng.normal(size=500)
    b = 0.6 * a + 0.8 * rng.normal(size=500)
    r = np.corrcoef(a, b)[0, 1]
    assert_allclose(variance_inflation(np.column_stack([a, b])), [1 / (1 - r**2)] * 2, rtol=1e-10)
    assert_allclose(variance_inflation(rng.normal(size=(20000, 3))), 1, atol=0.01)


def _nonlinearity_p(shape: str, seed: int = 4, n: int = 1500) -> float:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    eta = -0.5 + (0.8 * x**2 - 0.8 if shape == "u" else 0.6 * x)
    frame = pd.DataFrame({"x": x, "y": (rng.random(n) < expit(eta)).astype(float)})
    basis = rcs_basis(x, knots(x, 4))
    frame["s1"], frame["s2"] = basis[:, 0], basis[:, 1]
    return wald_test(svyglm("y ~ x + s1 + s2", frame, "binomial"), ["s1", "s2"])


def test_the_non_linearity_test_finds_a_planted_u_and_not_a_planted_line():
    assert _nonlinearity_p("u") < 1e-6
    assert _nonlinearity_p("line") > 0.01
