"""Quantile g-computation against closed forms, an independent GLM (statsmodels) and planted
effects (R's qgcomp is not installable here)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from numpy.testing import assert_allclose
from scipy.special import expit, logit

from analysis.methods.frames import quantile_scores
from analysis.methods.qgcomp import QgcompError, qgcomp

MIX = ["a", "b", "c"]


def simulated(
    n: int = 900, family: str = "gaussian", seed: int = 1, effects=(0.5, 0.3, -0.2)
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mix = pd.DataFrame(rng.lognormal(size=(n, 3)) * [1, 3, 10], columns=MIX)
    scores, _ = quantile_scores(mix, 4)
    age = rng.normal(60, 8, n)
    sex = rng.choice(["f", "m"], n)
    eta = 0.2 + scores @ np.asarray(effects) + 0.02 * (age - 60) + 0.3 * (sex == "m")
    y = (
        eta + rng.normal(0, 1, n)
        if family == "gaussian"
        else (rng.random(n) < expit(eta - 1.2)).astype(float)
    )
    return mix.assign(y=y, age=age, sex=sex, w=rng.uniform(0.5, 2, n))


def independent_glm(frame: pd.DataFrame, family: str, q: int = 4, weights=None):
    """statsmodels on the quantised exposures: the conditional model fitted another way."""
    scores, _ = quantile_scores(frame[MIX], q)
    x = np.column_stack(
        [np.ones(len(frame)), scores, frame.age.to_numpy(), (frame.sex == "m").to_numpy(dtype=float)]
    )
    fam = sm.families.Gaussian() if family == "gaussian" else sm.families.Binomial()
    return sm.GLM(frame.y.to_numpy(), x, family=fam, var_weights=weights).fit(tol=1e-12), x


def test_noboot_psi_is_the_sum_of_the_mixture_coefficients_with_its_delta_se():
    for family in ("gaussian", "binomial"):
        frame = simulated(family=family)
        fit, _ = independent_glm(frame, family)
        ones = np.r_[0, 1, 1, 1, 0, 0]
        result = qgcomp(frame, "y", MIX, ["age", "sex"], family=family)
        assert result.psi == pytest.approx(ones @ fit.params, rel=1e-8)
        assert result.se == pytest.approx(np.sqrt(ones @ fit.cov_params() @ ones), rel=1e-6)
        assert result.ci[0] < result.psi < result.ci[1]
        # the partial effects and the weights within each direction
        beta = fit.params[1:4]
        assert result.positive_psi == pytest.approx(beta[beta > 0].sum(), rel=1e-8)
        assert result.negative_psi == pytest.approx(beta[beta <= 0].sum(), rel=1e-8)
        for _, part in result.weights.groupby("direction"):
            assert part.weight.sum() == pytest.approx(1.0)


def test_a_planted_effect_and_its_weights_are_recovered():
    """ψ = 0.5 + 0.3 − 0.2 = 0.6 per quantile; positive weights 0.5/0.8 and 0.3/0.8, c alone negative."""
    result = qgcomp(simulated(n=4000, seed=2), "y", MIX, ["age", "sex"])
    assert abs(result.psi - 0.6) < 3 * result.se  # this sample's estimate: 0.546 (SE 0.025)
    w = result.weights.set_index("exposure")
    assert list(w.direction) == ["positive", "positive", "negative"]
    assert_allclose(w.loc[["a", "b"], "weight"], [0.625, 0.375], atol=0.06)
    assert w.loc["c", "weight"] == 1.0 and w.loc["c", "coefficient"] == pytest.approx(-0.2, abs=0.06)


def test_gaussian_msm_psi_equals_the_conditional_psi():
    """Linear and additive: setting every exposure to a moves E[Y] by a·Σβ, so the MSM's ψ is
    the conditional ψ exactly, and its bootstrap SE estimates the same SE."""
    frame = simulated(seed=3)
    noboot = qgcomp(frame, "y", MIX, ["age", "sex"])
    boot = qgcomp(frame, "y", MIX, ["age", "sex"], bootstrap=200, seed=1)
    assert boot.psi == pytest.approx(noboot.psi, rel=1e-10)
    assert boot.se == pytest.approx(noboot.se, rel=0.2)  # 200 resamples: SD of an SD ≈ 5%
    assert boot.method == "boot" and boot.bootstrap.shape == (200, 2)


def test_binary_msm_is_the_g_computed_contrast_on_the_or_and_the_rr_scale():
    """With q = 2 the MSM is saturated: ψ = logit(Ȳ₁) − logit(Ȳ₀) on the OR scale and
    log(Ȳ₁/Ȳ₀) on the RR scale, where Ȳ_a is the mean prediction with every exposure set to a
    — computed here from statsmodels' fit."""
    frame = simulated(family="binomial", seed=4)
    fit, x = independent_glm(frame, "binomial", q=2)
    means = []
    for a in (0.0, 1.0):
        xa = x.copy()
        xa[:, 1:4] = a
        means.append(fit.predict(xa).mean())
    odds = qgcomp(frame, "y", MIX, ["age", "sex"], family="binomial", q=2, bootstrap=20, seed=2)
    risk = qgcomp(frame, "y", MIX, ["age", "sex"], family="binomial", q=2, bootstrap=20, seed=2, rr=True)
    assert odds.psi == pytest.approx(logit(means[1]) - logit(means[0]), rel=1e-7)
    assert risk.psi == pytest.approx(np.log(means[1] / means[0]), rel=1e-7)
    assert odds.scale == "log odds ratio" and risk.scale == "log risk ratio"
    # marginal and conditional ORs differ with covariates (non-collapsibility) …
    conditional = qgcomp(frame, "y", MIX, ["age", "sex"], family="binomial", q=2)
    assert odds.psi != pytest.approx(conditional.psi, rel=1e-3)
    # … and agree without: every row then has the same E[Y_a] = expit(β₀ + ψa)
    bare = frame[["y", *MIX]]
    assert qgcomp(bare, "y", MIX, family="binomial", bootstrap=5, seed=1).psi == pytest.approx(
        qgcomp(bare, "y", MIX, family="binomial").psi, rel=1e-7
    )


def test_the_bootstrap_is_seeded_and_does_not_depend_on_the_workers():
    frame = simulated(n=300, family="binomial", seed=5)
    one = qgcomp(frame, "y", MIX, ["age"], family="binomial", bootstrap=16, seed=9, jobs=1)
    two = qgcomp(frame, "y", MIX, ["age"], family="binomial", bootstrap=16, seed=9, jobs=2)
    again = qgcomp(frame, "y", MIX, ["age"], family="binomial", bootstrap=16, seed=9, jobs=1)
    other = qgcomp(frame, "y", MIX, ["age"], family="binomial", bootstrap=16, seed=10, jobs=1)
    assert_allclose(one.bootstrap, two.bootstrap, rtol=1e-12)
    assert_allclose(one.bootstrap, again.bootstrap, rtol=0)
    assert not np.allclose(one.bootstrap, other.bootstrap)


def test_prior_weights_are_those_of_a_weighted_glm():
    frame = simulated(seed=6)
    fit, _ = independent_glm(frame, "gaussian", weights=frame.w.to_numpy())
    result = qgcomp(frame, "y", MIX, ["age", "sex"], weights=frame.w.to_numpy())
    assert result.psi == pytest.approx(fit.params[1:4].sum(), rel=1e-8)
    assert result.psi != pytest.approx(qgcomp(frame, "y", MIX, ["age", "sex"]).psi, rel=1e-4)


def test_incomplete_rows_leave_with_their_weights():
    frame = simulated(n=400, seed=7)
    holes = frame.copy()
    holes.loc[[1, 5, 9], "b"] = np.nan
    kept = holes.dropna(subset=["b"])
    a = qgcomp(holes, "y", MIX, ["age"], weights=holes.w.to_numpy())
    b = qgcomp(kept, "y", MIX, ["age"], weights=kept.w.to_numpy())
    assert a.psi == pytest.approx(b.psi, rel=1e-12) and a.n == 397


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"family": "poisson"}, "family must be one of"),
        ({"mixture": ["a", "nope"]}, "nope not in the data"),
        ({"rr": True}, "risk-ratio scale"),
        ({"q": 1}, "q must be at least 2"),
        ({"covariates": ["a"]}, "both in the mixture and the covariates"),
    ],
)
def test_bad_requests_say_what_is_wrong(kwargs, message):
    frame = simulated(n=50)
    args = {"mixture": MIX, **kwargs}
    mixture = args.pop("mixture")
    with pytest.raises(QgcompError, match=message):
        qgcomp(frame, "y", mixture, **args)


def test_qgcomp_command_writes_summary_and_weights(tmp_path):
    from typer.testing import CliRunner

    from nhanes_bone.cli import app

    frame = simulated(n=500, family="binomial", seed=8)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    base = ["qgcomp", "--data", str(path), "--outcome", "y", "--mixture", "a,b,c", "--covariates", "age,sex"]
    base += ["--q", "4", "--family", "binomial"]
    noboot = CliRunner().invoke(app, [*base, "--out", str(tmp_path / "n")])
    boot = CliRunner().invoke(
        app, [*base, "--bootstrap", "40", "--seed", "3", "--weights", "w", "--out", str(tmp_path / "b")]
    )
    assert noboot.exit_code == 0 and boot.exit_code == 0, noboot.output + boot.output
    n = json.loads((tmp_path / "n" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert n["method"] == "noboot" and b["method"] == "boot" and b["bootstrap"]["B"] == 40
    for doc in (n, b):
        assert {"psi", "se", "ci", "p", "or"} <= set(doc)
        assert doc["or"]["estimate"] == pytest.approx(np.exp(doc["psi"]))
    weights = pd.read_csv(tmp_path / "n" / "weights.csv")
    assert list(weights.columns[:3]) == ["exposure", "direction", "weight"]
    assert set(weights.exposure) == set(MIX)
    assert "psi" in noboot.output
