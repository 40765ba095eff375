"""Design-based GLMs against R's survey package and a hand-worked design."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.methods.survey import Design, SurveyError, glm, svyglm, total_variance

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "svy_data.csv")


@pytest.fixture(scope="module")
def r() -> dict:
    """R 4.2.2, survey 4.1-1 (tests/reference/svyglm_reference.R)."""
    return json.loads((REF / "svyglm_reference.json").read_text())


def _check(fit, ref, vcov=True):
    # coefficients: both are IRLS to convergence (1e-12 here, 1e-8 relative deviance in R)
    assert_allclose(fit.coef, ref["estimate"], rtol=1e-7, atol=1e-9)
    # R's glm stops at a 1e-8 relative deviance change, ours converges fully: SEs agree to ~1e-6
    assert_allclose(fit.se, ref["std_error"], rtol=1e-5)
    assert_allclose(fit.p_values, ref["p_value"], rtol=1e-5)
    assert fit.df_residual == ref["df_residual"]
    if vcov:
        # R's glm stops at a 1e-8 relative deviance change, so its μ (and the sandwich built on
        # it) sits ~1e-7 from the converged fit: element-wise agreement to 1e-4 relative / 1e-7
        assert_allclose(fit.cov, np.array(ref["vcov"]), rtol=1e-4, atol=1e-7)
        assert_allclose(fit.ci(kind="t"), np.array(ref["ci_t"]), rtol=1e-5, atol=1e-6)


def test_quasibinomial_design_matches_r(data, r):
    fit = svyglm("y_bin ~ x1 + x2 + grp", data, "binomial", "weight", "stratum", "psu")
    assert fit.names == ["Intercept", "x1", "x2", "grp[T.b]", "grp[T.c]"]
    _check(fit, r["binomial"])


def test_gaussian_design_matches_r(data, r):
    _check(svyglm("y_cont ~ x1 + x2 + grp", data, "gaussian", "weight", "stratum", "psu"), r["gaussian"])


def test_domain_estimation_matches_r_subset(data, r):
    """R's subset() keeps every PSU and stratum (weights 0 outside): domain estimation."""
    fit = svyglm(
        "y_bin ~ x1 + x2", data, "binomial", "weight", "stratum", "psu", domain=(data.grp == "a").to_numpy()
    )
    _check(fit, r["binomial_domain_grp_a"])
    fit = svyglm(
        "y_cont ~ x1 + grp", data, "gaussian", "weight", "stratum", "psu", domain=(data.x2 == 1).to_numpy()
    )
    _check(fit, r["gaussian_domain_x2_1"])


def test_plain_glm_matches_r(data, r):
    _check(svyglm("y_bin ~ x1 + x2 + grp", data, "binomial"), r["plain_binomial"], vcov=False)
    _check(svyglm("y_cont ~ x1 + x2 + grp", data, "gaussian"), r["plain_gaussian"], vcov=False)


def test_hand_worked_design():
    """A weighted mean as an intercept-only Gaussian model, worked by hand.

    Two strata, two PSUs each, one row per PSU: y = (1, 3 | 2, 6), w = (1, 1 | 1, 1).
    β̂ = Σwy/Σw = 12/4 = 3. Estimating function u_i = w_i (y_i − β̂) = (−2, 0 | −1, 3);
    A = Σw = 4, so influence values u_i/A = (−0.5, 0 | −0.25, 0.75).
    Stratum 1: mean −0.25, deviations (−0.25, 0.25), n/(n−1) Σ d² = 2 · 0.125 = 0.25.
    Stratum 2: mean 0.25, deviations (−0.5, 0.5), 2 · 0.5 = 1.0.
    V = 1.25, SE = √1.25 = 1.118034; df = (4 PSUs − 2 strata) + 1 − 1 = 2.
    """
    frame = pd.DataFrame({"y": [1.0, 3.0, 2.0, 6.0], "w": 1.0, "s": [1, 1, 2, 2], "p": [1, 2, 1, 2]})
    fit = svyglm("y ~ 1", frame, "gaussian", "w", "s", "p")
    assert_allclose(fit.coef, [3.0])
    assert_allclose(fit.se, [np.sqrt(1.25)], rtol=1e-12)
    assert fit.df_residual == 2


def test_total_variance_sums_psus_within_strata():
    scores = np.array([[1.0], [2.0], [4.0], [10.0], [0.0]])
    design = Design(np.ones(5), np.array(["a", "a", "a", "b", "b"]), np.array(["a1", "a1", "a2", "b1", "b2"]))
    # stratum a: PSU totals 3, 4 → deviations ∓0.5 → 2·0.5 = 1; stratum b: 10, 0 → ±5 → 2·50 = 100
    assert_allclose(total_variance(scores, design), [[101.0]])


def test_lonely_psu_and_partial_design_are_refused():
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0], "w": 1.0, "s": [1, 1, 2], "p": [1, 2, 1]})
    with pytest.raises(SurveyError, match="single PSU"):
        svyglm("y ~ 1", frame, "gaussian", "w", "s", "p")
    with pytest.raises(SurveyError, match="all of --weights"):
        svyglm("y ~ 1", frame, "gaussian", weights="w")
    with pytest.raises(SurveyError, match="not in the data"):
        svyglm("y ~ 1", frame, "gaussian", "weight", "s", "p")


def test_glm_rejects_unknown_family():
    with pytest.raises(SurveyError, match="family"):
        glm(np.ones(3), np.ones((3, 1)), ["Intercept"], "poisson")


def test_svyglm_command_writes_the_r_numbers(tmp_path, r):
    from typer.testing import CliRunner

    from nhanes_bone.cli import app

    out = tmp_path / "result.json"
    args = [
        "svyglm",
        "--data",
        str(REF / "svy_data.csv"),
        "--formula",
        "y_bin ~ x1 + x2 + grp",
        "--weights",
        "weight",
        "--strata",
        "stratum",
        "--psu",
        "psu",
        "--family",
        "binomial",
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["family"] == "quasibinomial" and doc["df_residual"] == 6
    coefs = pd.DataFrame(doc["coefficients"])
    assert_allclose(coefs.estimate, r["binomial"]["estimate"], rtol=1e-7)
    assert_allclose(coefs.std_error, r["binomial"]["std_error"], rtol=1e-6)
    assert {"ci_low_t", "ci_high_t", "ci_low_normal", "ci_high_normal", "statistic", "p_value"} <= set(
        coefs.columns
    )
    assert np.array(doc["vcov"]["matrix"]).shape == (5, 5)


def test_missing_values_are_left_out_as_r_does(data, r):
    """svyglm's na.omit: rows with a missing x1 leave the fit, their PSUs stay in the design."""
    with_missing = data.copy()
    with_missing.loc[with_missing.index[4::7], "x1"] = np.nan  # R: seq(5, n, by = 7)
    fit = svyglm("y_bin ~ x1 + x2 + grp", with_missing, "binomial", "weight", "stratum", "psu")
    _check(fit, r["binomial_with_missing_x1"])


def test_svyglm_keeps_every_complete_row_of_the_formulas_own_variables(tmp_path):
    """Issue 16's case: `y ~ x1` with an unrelated column `x` (a substring of the term x1) and a
    column `b` named like the string 'b' inside the formula, both missing in 30% of rows; the
    fit uses all 600 rows (before: about 420)."""
    from typer.testing import CliRunner

    from nhanes_bone.cli import app

    rng = np.random.default_rng(16)
    n = 600
    frame = pd.DataFrame({"y": rng.normal(size=n), "x1": rng.normal(size=n), "g": rng.choice(["a", "b"], n)})
    frame["x"] = np.where(rng.random(n) < 0.3, np.nan, 1.0)
    frame["b"] = np.where(rng.random(n) < 0.3, np.nan, 1.0)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    assert svyglm("y ~ x1", frame).n == n
    assert svyglm("y ~ x1 + C(g, Treatment('b'))", frame).n == n
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        app, ["svyglm", "--data", str(path), "--formula", "y ~ x1", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["n"] == n
    # a formula variable that is missing still drops its rows
    frame.loc[:99, "x1"] = np.nan
    assert svyglm("y ~ x1", frame).n == n - 100
