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


def test_a_domain_that_leaves_psus_empty_matches_r(data, r):
    """x1 > 2.2 leaves 3 of the 18 PSUs without a member, x1 > 2.4 a whole stratum: the empty
    PSUs keep their place (zero totals) in the variance, as R's subset() keeps them."""
    domain = (data.x1 > 2.2).to_numpy()
    members = data[domain].groupby(["stratum", "psu"]).ngroups
    assert members < data.groupby(["stratum", "psu"]).ngroups  # the case is the one named
    _check(
        svyglm("y_bin ~ x2 + grp", data, "binomial", "weight", "stratum", "psu", domain=domain),
        r["binomial_domain_empty_psus"],
    )
    domain = (data.x1 > 2.4).to_numpy()
    assert data[domain].stratum.nunique() < data.stratum.nunique()
    _check(
        svyglm("y_cont ~ x1 + x2", data, "gaussian", "weight", "stratum", "psu", domain=domain),
        r["gaussian_domain_empty_stratum"],
    )


def _r_name(term: str) -> str:
    """R's coefficient names in patsy's spelling: (Intercept) → Intercept, grpb → grp[T.b]."""
    if term == "(Intercept)":
        return "Intercept"
    return ":".join(f"grp[T.{t[3:]}]" if t.startswith("grp") else t for t in term.split(":"))


def _check_aliased(fit, ref, aliased):
    """R: NA in coef() for an aliased column; a factor level absent from the domain has no column
    at all (glm's model.frame drops unused levels). Here both are NA and named in ``aliased``."""
    assert fit.aliased == [aliased]
    r_coef = dict(zip(map(_r_name, ref["coef_terms"]), ref["coef"], strict=True))
    for name, value in zip(fit.names, fit.coef, strict=True):
        if r_coef.get(name) in (None, "NA"):
            assert np.isnan(value), name
        else:
            assert_allclose(value, r_coef[name], rtol=1e-7, atol=1e-9)
    kept = [fit.names.index(_r_name(t)) for t in ref["terms"]]
    assert_allclose(fit.se[kept], ref["std_error"], rtol=1e-5)
    assert np.isnan(fit.se[fit.names.index(aliased)])
    assert fit.df_residual == ref["df_residual"]
    assert any("aliased" in problem and aliased in problem for problem in fit.problems())


def test_a_factor_level_absent_from_a_domain_is_aliased_and_na_as_in_r(data, r):
    """Before: XᵀWX was singular and the design-based row became an error."""
    gaussian = svyglm(
        "y_cont ~ x1 + grp", data, "gaussian", "weight", "stratum", "psu", domain=(data.grp != "c").to_numpy()
    )
    _check_aliased(gaussian, r["gaussian_aliased_in_domain"], "grp[T.c]")
    binomial = svyglm(
        "y_bin ~ x1 + grp + x2",
        data,
        "binomial",
        "weight",
        "stratum",
        "psu",
        domain=(data.grp != "b").to_numpy(),
    )
    _check_aliased(binomial, r["binomial_aliased_in_domain"], "grp[T.b]")


def test_a_column_that_is_a_multiple_of_another_is_aliased_as_in_r(data, r):
    frame = data.assign(x1_twice=2 * data.x1)
    _check_aliased(
        svyglm("y_cont ~ x1 + x1_twice + x2", frame, "gaussian"), r["plain_gaussian_aliased"], "x1_twice"
    )


def test_regterm_test_of_an_interaction_matches_r(data, r):
    from analysis.methods.survey import wald_test

    ref = r["regterm_interaction"]
    fit = svyglm("y_bin ~ x1 * grp + x2", data, "binomial", "weight", "stratum", "psu")
    order = [fit.names.index(_r_name(t)) for t in ref["terms"]]
    assert_allclose(fit.coef[order], ref["estimate"], rtol=1e-7, atol=1e-9)
    assert ref["df"] == 2 and ref["ddf"] == fit.df_residual
    assert_allclose(wald_test(fit, ["x1:grp[T.b]", "x1:grp[T.c]"]), ref["p"], rtol=1e-4)


def _separated(n: int = 200, quasi: bool = False, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    frame = pd.DataFrame({"x1": x1, "x2": rng.normal(size=n), "y": (x1 > 0).astype(float)})
    if quasi:  # ties at the boundary with both outcomes: quasi-complete
        frame.loc[:9, "x1"] = 0.0
        frame.loc[:4, "y"] = 1.0
        frame.loc[5:9, "y"] = 0.0
    return frame


def test_perfect_separation_is_detected_and_reported(tmp_path):
    """y = (x1 > 0): statsmodels returns β ≈ 65 with SE ≈ 3·10⁶ and converged=True; the fit
    now says complete separation on x1 (and the command warns)."""
    from typer.testing import CliRunner

    from nhanes_bone.cli import app

    frame = _separated()
    fit = svyglm("y ~ x1 + x2", frame, "binomial")
    assert fit.separation == "complete" and "x1" in fit.separated_terms
    assert not fit.trustworthy
    assert any("separation" in problem for problem in fit.problems())
    quasi = svyglm("y ~ x1 + x2", _separated(quasi=True), "binomial")
    assert quasi.separation == "quasi-complete" and "x1" in quasi.separated_terms
    # a design-based fit of the same data is separated too
    frame["w"], frame["s"], frame["p"] = 1.0, np.repeat([1, 2], 100), np.tile([1, 2, 3, 4], 50)
    assert svyglm("y ~ x1 + x2", frame, "binomial", "w", "s", "p").separation == "complete"

    path, out = tmp_path / "sep.csv", tmp_path / "sep.json"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(
        app,
        [
            "svyglm",
            "--data",
            str(path),
            "--formula",
            "y ~ x1 + x2",
            "--family",
            "binomial",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "complete separation" in result.output
    doc = json.loads(out.read_text())
    assert doc["separation"] == "complete" and "x1" in doc["separated_terms"]
    assert isinstance(doc["converged"], bool) and any("separation" in w for w in doc["warnings"])


def test_overlapping_data_are_not_called_separated(data):
    for formula in ("y_bin ~ x1 + x2 + grp", "y_bin ~ x1 * grp + x2"):
        fit = svyglm(formula, data, "binomial", "weight", "stratum", "psu")
        assert fit.separation == "none" and fit.trustworthy and fit.problems() == []


def test_a_fit_that_does_not_converge_says_so(data):
    """IRLS stopped after 2 iterations (R: glm.control(maxit = 2)) has not converged."""
    fit = svyglm("y_bin ~ x1 + x2 + grp", data, "binomial", max_iterations=2)
    assert not fit.converged and not fit.trustworthy
    assert "the IRLS iterations did not converge" in fit.problems()
    assert svyglm("y_bin ~ x1 + x2 + grp", data, "binomial").converged


def test_numerical_warnings_are_recorded_on_the_fit_not_printed(recwarn):
    fit = svyglm("y ~ x1", _separated(n=60, seed=5), "binomial")
    assert fit.separation == "complete"
    assert any("PerfectSeparationWarning" in w for w in fit.warnings)
    assert not [w for w in recwarn if "separation" in str(w.message).lower()]
