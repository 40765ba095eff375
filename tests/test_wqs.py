"""WQS regression against R: quantile scoring, the optimiser, and replayed gWQS-algorithm runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from analysis.methods.optim_bfgs import vmmin
from analysis.methods.wqs import WqsError, average_weights, fit_wqs, quantile_scores, replay_rows

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
