"""WQS regression against R: quantile scoring, the optimiser, and replayed gWQS-algorithm runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.methods.optim_bfgs import vmmin
from analysis.methods.tails import normal_quantile, two_sided_p
from analysis.methods.wqs import WqsError, _Objectives, average_weights, fit_wqs, quantile_scores, replay_rows

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def r() -> dict:
    """tests/reference/wqs_reference.R (R 4.2.2): gWQS 3.x's steps in base R, replayed split and bootstraps."""
    return json.loads((REF / "wqs_reference.json").read_text())


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "wqs_data.csv")


def replay(data: pd.DataFrame) -> tuple[np.ndarray, list[np.ndarray]]:
    return replay_rows(data.id, pd.read_csv(REF / "wqs_split.csv"), pd.read_csv(REF / "wqs_bootstrap.csv"))


def test_quantile_scores_match_r_quantile_and_cut(data, r):
    scores, _ = quantile_scores(data[["m1", "m2", "m3", "m4"]], 4)
    assert_allclose(scores, np.array(r["scores"]))


def test_quantile_scores_by_hand():
    """Type-7 quartiles of 1..8 are 2.75, 4.5, 6.25: bins (−∞,2.75] (2.75,4.5] (4.5,6.25] (6.25,∞).
    With ties (1,1,1,1,1,2,3,4) the quantiles are 1, 1, 1, 2.25, 4; unique 1, 2.25, 4, outer
    bounds opened: breaks (−∞, 2.25, ∞), two bins: 0 for values ≤ 2.25, 1 for 3 and 4."""
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6, 7, 8], "b": [1, 1, 1, 1, 1, 2, 3, 4]})
    scores, cuts = quantile_scores(frame, 4)
    assert scores[:, 0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert scores[:, 1].tolist() == [0, 0, 0, 0, 0, 0, 1, 1]
    assert cuts["b"].tolist() == [-np.inf, 2.25, np.inf]
    constant = quantile_scores(pd.DataFrame({"c": [5.0, 5.0, 5.0]}), 4)[0]
    assert constant[:, 0].tolist() == [0, 0, 0]


def test_bfgs_is_r_optim_step_for_step():
    """R: optim(c(-1.2, 1), rosenbrock, method = "BFGS") → 0.999804433231397, 0.999608380623481, 38 gradients."""
    result = vmmin(lambda x: 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2, np.array([-1.2, 1.0]))
    assert_allclose(result.par, [0.999804433231397, 0.999608380623481], rtol=1e-12)
    assert result.grcount == 38 and result.convergence == 0


@pytest.mark.parametrize(
    ("key", "outcome", "family", "direction", "constrained", "signal"),
    [
        ("binomial_positive_free", "y", "binomial", "positive", False, "t2"),
        ("binomial_negative_constrained", "y", "binomial", "negative", True, "t2"),
        ("gaussian_positive_abst", "ycont", "gaussian", "positive", False, "abst"),
    ],
)
def test_replayed_run_matches_r(data, r, key, outcome, family, direction, constrained, signal):
    validation, samples = replay(data)
    ref = r[key]
    fit = fit_wqs(
        data,
        outcome,
        ["m1", "m2", "m3", "m4"],
        ["sex", "age"],
        family=family,
        direction=direction,
        b_constrained=constrained,
        signal=signal,
        validation_rows=validation,
        bootstrap_rows=samples,
        n_jobs=1,
    )
    # each bootstrap: same optimiser, same objective; agreement limited by summation order
    assert_allclose(
        fit.bootstrap[["m1", "m2", "m3", "m4"]].to_numpy(), np.array(ref["boot_weights"]), atol=1e-6
    )
    assert_allclose(fit.bootstrap.b1, ref["boot_b1"], rtol=1e-5, atol=1e-7)
    # the t²-weighted mean amplifies those last digits a little; the promise is 1e-3
    assert_allclose(fit.weights.to_numpy(), ref["weights"], atol=1e-5)
    assert_allclose(fit.final.estimate, ref["final_estimate"], rtol=1e-4, atol=1e-6)
    assert_allclose(fit.final.std_error, ref["final_se"], rtol=1e-5)
    assert np.all(fit.weights >= 0) and fit.weights.sum() == pytest.approx(1.0)


def test_sign_filter_and_each_averaging_rule():
    boot = pd.DataFrame(
        {
            "a": [0.2, 0.6, 0.9],
            "b": [0.8, 0.4, 0.1],
            "b1": [0.5, 1.0, -2.0],
            "stat": [1.0, 3.0, -4.0],
            "convergence": [0, 0, 0],
        }
    )
    # positive: rows 1-2; one: plain mean (0.4, 0.6); abst: weights 1, 3 → (0.5, 0.5); t2: 1, 9 → (0.56, 0.44)
    assert_allclose(average_weights(boot, ["a", "b"], True, "one"), [0.4, 0.6])
    assert_allclose(average_weights(boot, ["a", "b"], True, "abst"), [0.5, 0.5])
    assert_allclose(average_weights(boot, ["a", "b"], True, "t2"), [0.56, 0.44])
    assert_allclose(average_weights(boot, ["a", "b"], False, "t2"), [0.9, 0.1])
    boot.loc[1, "convergence"] = 1  # a fit that did not converge is left out
    assert_allclose(average_weights(boot, ["a", "b"], True, "one"), [0.2, 0.8])


def test_no_fit_with_the_chosen_sign_says_what_to_do():
    boot = pd.DataFrame({"a": [0.5], "b": [0.5], "b1": [0.3], "stat": [2.0], "convergence": [0]})
    with pytest.raises(WqsError, match="no bootstrap fit has a negative .* --b-constrained"):
        average_weights(boot, ["a", "b"], False, "t2")


def test_lockstep_groups_bound_memory_and_change_no_fit(monkeypatch):
    """Bootstrap fits run in lockstep groups of at most LOCKSTEP_ROWS (fit, row) pairs; how the
    fits are grouped changes no fit (each fit's arithmetic is its own)."""
    from analysis.methods import wqs

    rng = np.random.default_rng(8)
    n = 200
    frame = pd.DataFrame(rng.lognormal(size=(n, 3)), columns=["a", "b", "c"]).assign(
        x=rng.normal(size=n), y=(rng.random(n) < 0.4).astype(int)
    )
    together = fit_wqs(frame, "y", ["a", "b", "c"], ["x"], b=12, seed=4, n_jobs=1)
    sizes = []

    class Recorded(wqs._Objectives):
        def __init__(self, family, samples, constrained_sign):
            sizes.append(len(samples))
            super().__init__(family, samples, constrained_sign)

    monkeypatch.setattr(wqs, "_Objectives", Recorded)
    training_rows = int((~together.validation).sum())
    monkeypatch.setattr(wqs, "LOCKSTEP_ROWS", 5 * training_rows)  # groups of five fits
    grouped = fit_wqs(frame, "y", ["a", "b", "c"], ["x"], b=12, seed=4, n_jobs=1)
    assert sizes == [5, 5, 2]
    cols = ["a", "b", "c", "b1", "se"]
    assert_allclose(grouped.bootstrap[cols].to_numpy(), together.bootstrap[cols].to_numpy(), rtol=1e-12)


def test_planted_weights_are_recovered():
    rng = np.random.default_rng(5)
    n = 1500
    mix = pd.DataFrame(rng.lognormal(size=(n, 4)), columns=["a", "b", "c", "d"])
    scores, _ = quantile_scores(mix, 4)
    planted = np.array([0.5, 0.3, 0.2, 0.0])
    eta = -1.5 + 0.9 * scores @ planted + 0.4 * rng.normal(size=n)
    frame = mix.assign(y=(rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int), x=rng.normal(size=n))
    fit = fit_wqs(frame, "y", ["a", "b", "c", "d"], ["x"], b=40, seed=2)
    assert_allclose(fit.weights.to_numpy(), planted, atol=0.12)
    assert fit.mixture_effect.estimate > 0 and fit.mixture_effect.p_value < 0.001


def test_wqs_command_replays_the_r_run(tmp_path, r):
    from typer.testing import CliRunner

    from nhanes_bone.cli import app

    args = [
        "wqs",
        "--data",
        str(REF / "wqs_data.csv"),
        "--id-column",
        "id",
        "--outcome",
        "y",
        "--mixture",
        "m1,m2,m3,m4",
        "--covariates",
        "sex,age",
        "--direction",
        "negative",
        "--b-constrained",
        "--split",
        str(REF / "wqs_split.csv"),
        "--bootstrap",
        str(REF / "wqs_bootstrap.csv"),
        "--jobs",
        "1",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    weights = pd.read_csv(tmp_path / "weights.csv")
    assert_allclose(weights.weight, r["binomial_negative_constrained"]["weights"], atol=1e-5)
    assert {"weights.csv", "bootstrap.csv", "final_model.csv", "summary.json"} <= {
        p.name for p in tmp_path.iterdir()
    }
    unconstrained = CliRunner().invoke(app, [a for a in args if a != "--b-constrained"])
    assert unconstrained.exit_code == 1 and "--b-constrained" in unconstrained.output
    assert "Traceback" not in unconstrained.output


def _mixture_frame(n: int = 400, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mix = pd.DataFrame(rng.lognormal(size=(n, 3)), columns=["a", "b", "c"])
    scores, _ = quantile_scores(mix, 4)
    eta = -1.0 + 0.8 * scores @ np.array([0.6, 0.4, 0.0]) + 0.3 * rng.normal(size=n)
    return mix.assign(
        y=(rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float),
        x=rng.normal(size=n),
        w=rng.uniform(0.5, 3.0, size=n),
    )


def test_weights_and_rows_given_for_the_data_are_realigned_after_incomplete_rows_drop():
    """Before: weights and validation flags indexed like the input were used on the frame
    after dropna(), so a row's weight went to another row. The fit on the incomplete data must
    equal the fit on its complete rows with their own weights, flags and bootstrap rows."""
    frame = _mixture_frame()
    holes = frame.copy()
    holes.loc[[3, 50, 51, 200], "b"] = np.nan
    holes.loc[[7, 120], "x"] = np.nan
    keep = holes[["y", "a", "b", "c", "x"]].notna().all(axis=1).to_numpy()
    rng = np.random.default_rng(4)
    validation = rng.random(len(holes)) < 0.5
    train_complete = np.flatnonzero(~validation[keep])  # positions among the complete rows
    samples_complete = [rng.choice(train_complete, len(train_complete)) for _ in range(4)]
    positions = np.flatnonzero(keep)  # complete-row position → input position
    common = {"family": "binomial", "n_jobs": 1}
    on_holes = fit_wqs(
        holes,
        "y",
        ["a", "b", "c"],
        ["x"],
        weights=holes.w.to_numpy(),
        validation_rows=validation,
        bootstrap_rows=[positions[s] for s in samples_complete],
        **common,
    )
    complete = holes[keep].reset_index(drop=True)
    on_complete = fit_wqs(
        complete,
        "y",
        ["a", "b", "c"],
        ["x"],
        weights=complete.w.to_numpy(),
        validation_rows=validation[keep],
        bootstrap_rows=samples_complete,
        **common,
    )
    assert_allclose(on_holes.weights.to_numpy(), on_complete.weights.to_numpy(), rtol=1e-12)
    assert_allclose(on_holes.final.estimate, on_complete.final.estimate, rtol=1e-12)
    # and the weights do matter: unweighted is another fit
    unweighted = fit_wqs(
        complete,
        "y",
        ["a", "b", "c"],
        ["x"],
        validation_rows=validation[keep],
        bootstrap_rows=samples_complete,
        **common,
    )
    assert not np.allclose(unweighted.final.estimate, on_complete.final.estimate, rtol=1e-6)
    with pytest.raises(WqsError, match="bootstrap sample draws a row with a missing value"):
        fit_wqs(
            holes, "y", ["a", "b", "c"], ["x"], validation_rows=validation, bootstrap_rows=[np.array([3])]
        )
    with pytest.raises(WqsError, match="weights has 3 values for 400 rows"):
        fit_wqs(holes, "y", ["a", "b", "c"], ["x"], weights=np.ones(3))


def test_the_split_is_bernoulli_by_default_and_fixed_on_request():
    """gWQS 3.x: each row is a validation row with probability 0.6, so the count varies from
    seed to seed (Binomial(n, 0.6)); gWQS 1.x/2.x: exactly round(0.6 n)."""
    frame = _mixture_frame(n=200)
    counts = [
        int(fit_wqs(frame, "y", ["a", "b", "c"], ["x"], b=1, seed=s, n_jobs=1).validation.sum())
        for s in range(8)
    ]
    assert len(set(counts)) > 1
    # 8 draws of Binomial(200, 0.6): mean 120, SD of their mean 2.45
    assert abs(np.mean(counts) - 120) < 4 * np.sqrt(200 * 0.6 * 0.4 / 8)
    fixed = [
        int(
            fit_wqs(frame, "y", ["a", "b", "c"], ["x"], b=1, seed=s, n_jobs=1, split="fixed").validation.sum()
        )
        for s in range(3)
    ]
    assert fixed == [120, 120, 120]
    with pytest.raises(WqsError, match="split must be bernoulli or fixed"):
        fit_wqs(frame, "y", ["a", "b", "c"], ["x"], split="stratified")


def test_wqs_command_takes_survey_weights_and_records_the_split(tmp_path):
    from typer.testing import CliRunner

    from nhanes_bone.cli import app

    frame = _mixture_frame(n=300)
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    base = ["wqs", "--data", str(path), "--outcome", "y", "--mixture", "a,b,c", "--covariates", "x"]
    base += ["--b", "5", "--seed", "3", "--jobs", "1"]
    weighted = CliRunner().invoke(app, [*base, "--weights", "w", "--out", str(tmp_path / "w")])
    plain = CliRunner().invoke(app, [*base, "--split-rule", "fixed", "--out", str(tmp_path / "p")])
    assert weighted.exit_code == 0 and plain.exit_code == 0, weighted.output + plain.output
    w = json.loads((tmp_path / "w" / "summary.json").read_text())
    p = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert w["survey_weights"] == "w" and w["split"] == "bernoulli"
    assert p["survey_weights"] is None and p["split"] == "fixed" and p["n_validation"] == 180
    assert w["wqs"]["estimate"] != p["wqs"]["estimate"]
    bad = CliRunner().invoke(app, [*base, "--weights", "nope", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 1 and "--weights 'nope' is not a column" in bad.output


def test_repeated_holdout_averages_the_repeats_and_recovers_the_planted_weights():
    """rh splits: the weights are the means of the repeats' (planted 0.6/0.4/0), the effect the
    mean validated β₁ with its 2.5–97.5 percentiles; each repeat is fit_wqs with its own seed."""
    from analysis.methods.wqs import repeated_holdout

    rng = np.random.default_rng(11)
    n = 1200
    mix = pd.DataFrame(rng.lognormal(size=(n, 3)), columns=["a", "b", "c"])
    scores, _ = quantile_scores(mix, 4)
    eta = -1.0 + 1.0 * scores @ np.array([0.6, 0.4, 0.0])
    frame = mix.assign(y=(rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int), x=rng.normal(size=n))
    result = repeated_holdout(frame, "y", ["a", "b", "c"], ["x"], rh=6, seed=4, b=15, n_jobs=1)
    repeats = result.repeats
    assert len(repeats) == 6 and repeats.seed.nunique() == 6 and repeats.b1.notna().all()
    weights = result.weights.set_index("component")
    assert_allclose(weights.weight, repeats[["a", "b", "c"]].mean(), rtol=1e-12)
    assert_allclose(weights.weight, [0.6, 0.4, 0.0], atol=0.12)
    effect = result.mixture_effect
    assert effect["estimate"] == pytest.approx(repeats.b1.mean())
    assert effect["ci_low"] == pytest.approx(repeats.b1.quantile(0.025)) and effect["ci_low"] > 0
    # a repeat is one fit_wqs on its own seed
    one = fit_wqs(frame, "y", ["a", "b", "c"], ["x"], b=15, seed=int(repeats.seed[0]), n_jobs=1)
    assert one.mixture_effect.estimate == pytest.approx(repeats.b1[0])
    with pytest.raises(WqsError, match="rh >= 2"):
        repeated_holdout(frame, "y", ["a", "b", "c"], rh=1)
    with pytest.raises(WqsError, match="validation share"):
        repeated_holdout(frame, "y", ["a", "b", "c"], rh=3, validation=0)


def test_wqs_command_runs_a_repeated_holdout(tmp_path):
    from typer.testing import CliRunner

    from nhanes_bone.cli import app

    path = tmp_path / "d.csv"
    _mixture_frame(n=300).to_csv(path, index=False)
    args = ["wqs", "--data", str(path), "--outcome", "y", "--mixture", "a,b,c", "--covariates", "x"]
    args += ["--b", "4", "--seed", "3", "--jobs", "1", "--rh", "3", "--out", str(tmp_path / "rh")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "rh" / "summary.json").read_text())
    assert summary["rh"] == 3 and summary["wqs"]["repeats"] == 3 and summary["b"] == 4
    assert len(pd.read_csv(tmp_path / "rh" / "repeats.csv")) == 3
    assert "repeated holdout" in result.output
    replay = CliRunner().invoke(app, [*args, "--split", str(path)])
    assert replay.exit_code == 1 and "--rh draws its own splits" in replay.output


def _r_deviance(family: str, y: np.ndarray, eta: np.ndarray, w: np.ndarray) -> float:
    """R 4.2's binomial()/gaussian() dev.resids summed, row by row in plain floats: linkinv
    clamps exp(η) to [ε, 1/ε] beyond |η| > 30, and y·log(y/μ) is 0 at y = 0."""
    eps = float(np.finfo(float).eps)
    total = 0.0
    for yi, ei, wi in zip(y, eta, w, strict=True):
        if family == "gaussian":
            total += wi * (yi - ei) ** 2
            continue
        tmp = eps if ei < -30 else 1 / eps if ei > 30 else math.exp(ei)
        mu = tmp / (1 + tmp)
        term = (yi * math.log(yi / mu) if yi > 0 else 0.0) + (
            (1 - yi) * math.log((1 - yi) / (1 - mu)) if yi < 1 else 0.0
        )
        total += 2 * wi * term
    return total


@pytest.mark.parametrize(
    "family, outcome, scale, constrained_sign",
    [
        ("binomial", "binary", 1.0, 0.0),
        ("binomial", "binary", 40.0, 0.0),  # η beyond ±30: R's clamps
        ("binomial", "binary", 1.0, -1.0),  # b1_constr, negative direction
        ("binomial", "proportion", 1.0, 0.0),
        ("gaussian", "continuous", 1.0, 0.0),
    ],
)
def test_the_objective_is_rs_deviance_at_every_probe(family, outcome, scale, constrained_sign):
    rng = np.random.default_rng(7)
    n, k, covariates = 60, 4, 3
    cov = np.column_stack([np.ones(n), rng.normal(size=(n, covariates))])
    q = rng.integers(0, 4, size=(n, k)).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    y = {
        "binary": (rng.random(n) < 0.4).astype(float),
        "proportion": rng.integers(0, 5, n) / 4.0,
        "continuous": rng.normal(size=n),
    }[outcome]
    pars = scale * rng.normal(size=(7, 2 + covariates + k))
    objectives = _Objectives(family, [(y, cov, q, w)], constrained_sign)
    expected = []
    for par in pars:
        b1 = par[1] if constrained_sign == 0 else constrained_sign * abs(par[1])
        weights = par[2 + covariates :] ** 2 / np.sum(par[2 + covariates :] ** 2)
        eta = cov @ np.r_[par[0], par[2 : 2 + covariates]] + b1 * (q @ weights)
        expected.append(_r_deviance(family, y, eta, w))
    assert_allclose(objectives.values(np.zeros(len(pars), dtype=int), pars), expected, rtol=1e-12)
    # beside a shorter sample padded with zero-weight rows, and one at a time
    padded = _Objectives(family, [(y[:20], cov[:20], q[:20], w[:20]), (y, cov, q, w)], constrained_sign)
    assert_allclose(padded.values(np.ones(len(pars), dtype=int), pars), expected, rtol=1e-12)
    assert_allclose(
        [objectives.values(np.zeros(1, dtype=int), par[None])[0] for par in pars], expected, rtol=1e-12
    )


def _long_central_differences(family, y, cov, q, w, constrained_sign, par, h=1e-3):
    """R's numeric gradient, (f(θ + h eᵢ) − f(θ − h eᵢ)) / 2h, with every probe's deviance
    summed in extended precision (numpy's longdouble: 64-bit mantissa on x86-64)."""
    L = np.longdouble
    cov, q, w, y = (a.astype(L) for a in (cov, q, w, y))

    def deviance(theta):
        k = cov.shape[1] + 1
        p2 = theta[k:] ** 2
        b1 = theta[1] if constrained_sign == 0 else constrained_sign * abs(theta[1])
        eta = cov @ np.r_[theta[:1], theta[2:k]] + (q @ p2) * (b1 / p2.sum())
        if family == "gaussian":
            return np.sum(w * (y - eta) ** 2)
        return 2 * np.sum(w * (np.log1p(np.exp(eta)) - y * eta))  # −2 log-likelihood, |η| < 30

    theta = par.astype(L)
    grad = []
    for i in range(len(par)):
        step = np.zeros(len(par), dtype=L)
        step[i] = L(h)
        grad.append((deviance(theta + step) - deviance(theta - step)) / (2 * L(h)))
    return np.array(grad, dtype=float)


@pytest.mark.skipif(np.finfo(np.longdouble).eps > 1e-18, reason="needs an extended-precision longdouble")
@pytest.mark.parametrize(
    "family, constrained_sign, covariate_max",
    [
        ("binomial", 0.0, 3.0),
        ("binomial", -1.0, 3.0),  # b1_constr
        ("binomial", 1.0, 3.0),
        ("binomial", 0.0, 45.0),  # its probes move η by up to 0.045: the series at its reach
        ("binomial", 0.0, 200.0),  # a covariate in raw units: beyond the series, probed
        ("gaussian", 0.0, 3.0),
        ("gaussian", 1.0, 200.0),
    ],
)
def test_the_gradient_is_rs_central_differences(family, constrained_sign, covariate_max):
    """Without its probes, the gradient is R's central differences (optim's ndeps = 1e-3) to
    within the probes' own rounding (about ε·|f|/h, 1e-10 here); the reference sums every
    probe's deviance in extended precision. Includes a point with β₁ within h of 0, where
    b1_constr's |β₁| has its kink."""
    rng = np.random.default_rng(11)
    n, k, covariates = 300, 5, 4
    cov = np.column_stack([np.ones(n), rng.normal(size=(n, covariates))])
    cov[:, -1] *= covariate_max / np.abs(cov[:, -1]).max()
    q = rng.integers(0, 4, size=(n, k)).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    y = (rng.random(n) < 0.35).astype(float) if family == "binomial" else rng.normal(size=n)
    pars = 0.5 * rng.normal(size=(6, 2 + covariates + k))
    pars[:, 1 + covariates] /= covariate_max  # the scaled covariate's β: η stays moderate
    pars[0, 1] = 4e-4  # |β₁| < h
    objectives = _Objectives(family, [(y, cov, q, w)], constrained_sign)
    got = objectives.central_differences(np.zeros(len(pars), dtype=int), pars)
    for theta, grad in zip(pars, got, strict=True):
        expected = _long_central_differences(family, y, cov, q, w, constrained_sign, theta)
        assert_allclose(grad, expected, rtol=0, atol=1e-9 * max(1.0, np.abs(expected).max() / 100))


def test_p_values_and_quantiles_without_scipy_are_scipys():
    stats = pytest.importorskip("scipy.stats")
    z = np.array([0.0, 0.5, 1.959964, 3.2, 8.0, 38.0])
    assert_allclose(two_sided_p(z), 2 * stats.norm.sf(z), rtol=1e-13, atol=1e-300)
    assert_allclose(two_sided_p(-z, df=12), 2 * stats.t.sf(z, 12), rtol=1e-12)
    for p in (0.5, 0.9, 0.975, 0.995, 1 - 1e-9):
        assert normal_quantile(p) == pytest.approx(stats.norm.ppf(p), rel=1e-12)
