"""Weighted quantile sum (WQS) regression, after R's gWQS 3.x (``gwqs``).

The steps, as gWQS does them:
1. score each mixture component into q quantiles on the full data: R type-7 quantiles at
   0, 1/q, …, 1, duplicates dropped, outer bounds opened to ±∞, right-closed bins, scores
   0…q−1 (``gwqs_rank``);
2. split rows into training and validation: gWQS 3.x draws each row into the validation set
   with probability ``validation`` (``split="bernoulli"``, the default); gWQS 1.x/2.x took
   exactly round(``validation``·n) rows (``split="fixed"``);
3. for each of b bootstrap samples of the training rows, minimise the GLM deviance over
   (β, p) with weights w = p²/Σp² (R's BFGS without gradient; ``b1_constr`` uses |β₁|
   with the chosen sign inside the objective), then refit the GLM with the index
   Σ w_j q_j to get β₁, its SE, statistic and p;
4. average the weights over converged fits whose β₁ has the chosen sign, each weighted by
   signal(statistic): 1 (``one``), |t| (``abst``) or t² (``t2``, gWQS 3.x's default);
5. fit the GLM with the final index on the validation rows.

Initial values are gWQS's: the GLM of the outcome on the covariates (all rows), β₁ = ±1e-4,
p_j = √(1/k). With an explicit split and explicit bootstrap samples the fit depends on
nothing random, which is how a gWQS run is replayed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from analysis.methods import taylor_differences as taylor
from analysis.methods.frames import (  # noqa: F401 (quantile_scores, r_quantile re-exported)
    Columns,
    Table,
    columns_of,
    complete_rows,
    model_matrix,
    n_rows,
    quantile_scores,
    r_quantile,
    take_rows,
    write_csv,
)
from analysis.methods.irls import fit_glm, numerical_notes
from analysis.methods.optim_bfgs import vmmin_many
from analysis.methods.parallel import map_in_slices, parallel_map, workers_for
from analysis.methods.tails import normal_quantile, two_sided_p
from nhanes_bone.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

# gWQS 3.0.5's averaging weights: one, |t|, t² (the default), t³ and exp(|t|) − 1
SIGNALS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "one": lambda t: np.ones_like(t),
    "abst": np.abs,
    "t2": np.square,
    "t3": lambda t: t**3,
    "expt": lambda t: np.exp(np.abs(t)) - 1,
}


class WqsError(InputError):
    """A WQS fit that cannot go on, with what to do about it."""


@dataclass
class GlmSummary:
    coef: np.ndarray
    se: np.ndarray
    stat: np.ndarray
    p: np.ndarray
    names: list[str]
    warnings: list[str]  # the fit's numerical warnings, recorded (not printed)


def _glm(
    y: np.ndarray, x: np.ndarray, names: list[str], family: str, weights: np.ndarray | None = None
) -> GlmSummary:
    """The GLM of one WQS step (R's glm with ``weights``): z tests for the logistic model, t on
    the residual df for the linear one, as summary.glm."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fit_glm(y, x, w, family)
        se = np.sqrt(np.diag(fit.cov))
        stat = fit.coef / se
    p = two_sided_p(stat, fit.df_residual if family == "gaussian" else None)
    notes = numerical_notes(caught)
    if not fit.converged:
        notes.append("the IRLS iterations did not converge")
    return GlmSummary(fit.coef, se, stat, p, names, notes)


EPS = np.finfo(float).eps


def _logit_inverse(eta: np.ndarray) -> np.ndarray:
    """R's ``binomial()$linkinv``: exp(η) clamped to [ε, 1/ε] beyond |η| > 30."""
    if eta.size and np.abs(eta).max() > 30.0:  # the clamps cost three passes: only when they bite
        tmp = np.exp(np.clip(eta, -30.0, 30.0))
        tmp = np.where(eta < -30.0, EPS, np.where(eta > 30.0, 1.0 / EPS, tmp))
    else:
        tmp = np.exp(eta)
    return tmp / (1.0 + tmp)


def _deviance(family: str, y: np.ndarray, eta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Σ w·dev.resids over the last axis (rows), as R's ``binomial()``/``gaussian()`` compute
    them; ``y``, ``eta`` and ``w`` are one row per fit (or one vector for one fit)."""
    if family == "gaussian":
        return np.sum(w * (y - eta) ** 2, axis=-1)
    mu = _logit_inverse(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0) + np.where(
            y < 1, (1 - y) * np.log((1 - y) / (1 - mu)), 0.0
        )
    return 2.0 * np.sum(w * term, axis=-1)


Sample = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # y, X (intercept first), q, prior weights


class _Objectives:
    """Step 3's deviance on many bootstrap samples at once, as a function of
    θ = [intercept, β₁, covariates…, p₁…p_k]: η = Xβ + β₁ Σ w_j q_j with w = p²/Σp²
    (``constrained_sign`` ≠ 0 uses sign·|β₁|, b1_constr).

    A bootstrap fit asks for about 85 values (line-search steps) and 30 gradients, each a few
    hundred rows' worth of arithmetic, so numpy's per-call cost was most of what a fit cost.
    The fits therefore run in lockstep (``vmmin_many``) and every request of a round is
    answered in one call over the samples (axis 0 here; shorter samples are padded with rows
    of weight 0, which add nothing to any deviance).

    A binary outcome (the usual case) is scored as 2 Σ w·log(1 + exp(s·η)) with s = −1 where
    y = 1 and +1 where y = 0 — R's −2 log μ and −2 log(1 − μ) — and s is folded into the rows
    of X and q once, so a value costs one exp and one log1p per row. R's clamps at |η| > 30
    (μ pinned to ε or 1 − ε) change the number there, so a fit that reaches them is scored
    with R's own formula. R's numeric gradient is computed without its probes, from Taylor
    series (``central_differences``).
    """

    def __init__(
        self,
        family: str,
        samples: list[Sample],
        constrained_sign: float,
    ) -> None:
        """``samples``: (y, X with the intercept first, q, prior weights) per bootstrap sample."""
        n = max(len(y) for y, _, _, _ in samples)
        fits, kc, k = len(samples), samples[0][1].shape[1], samples[0][2].shape[1]
        self.y, self.w = np.zeros((fits, n)), np.zeros((fits, n))
        design = np.zeros((fits, n, kc + k))
        for i, (y, cov, q, w) in enumerate(samples):
            rows = len(y)
            self.y[i, :rows], self.w[i, :rows] = y, w
            design[i, :rows, :kc], design[i, :rows, kc:] = cov, q
        self.family, self.kc, self.kx = family, kc, kc + 1
        self.beta_columns = np.r_[0, 2 : self.kx]
        self.separable_columns = np.r_[1, self.kx : self.kx + k]
        self.constrained_sign = constrained_sign
        self.binary = family == "binomial" and bool(np.all((self.y == 0) | (self.y == 1)))
        self.flip = np.where(self.y == 1, -1.0, 1.0) if self.binary else np.ones_like(self.y)
        # s·η = (s·X)β + β₁ (s·q)w exactly: negation commutes with every rounding
        self.design = design * self.flip[:, :, None]
        self.q = self.design[:, :, kc:]
        if self.binary:  # the β columns' powers, and how far a probe of β moves s·η
            self.cov_powers = taylor.odd_powers(self.design[:, :, :kc])
            self.cov_reach = np.abs(self.design[:, :, :kc]).max(axis=(0, 1))
        # |index| and |q_j − index| are at most these: the index is a weighted mean of the scores
        scores = design[:, :, kc:]
        self.index_reach = float(np.abs(scores).max(initial=0.0))
        self.score_span = float(np.ptp(scores)) if scores.size else 0.0

    def _predictor(self, fits: np.ndarray, pars: np.ndarray) -> tuple[np.ndarray, ...]:
        """s·η (fits × rows), with the index (s·q)w, the effective β₁ and Σp² it was made of."""
        kc = self.kc
        p2 = pars[:, self.kx :] ** 2
        total = p2.sum(axis=1)
        b1 = pars[:, 1] if self.constrained_sign == 0.0 else self.constrained_sign * np.abs(pars[:, 1])
        design = self.design[fits]
        index = np.matmul(design[:, :, kc:], (p2 / total[:, None])[:, :, None])[:, :, 0]
        eta = np.matmul(design[:, :, :kc], pars[:, self.beta_columns, None])[:, :, 0] + b1[:, None] * index
        return eta, index, b1, total

    def values(self, fits: np.ndarray, pars: np.ndarray) -> np.ndarray:
        """The deviance of fit ``fits[i]``'s sample at θ = ``pars[i]``, for each i."""
        eta = self._predictor(fits, pars)[0]
        return self._deviances(fits, eta)

    def _deviances(self, fits: np.ndarray, eta: np.ndarray) -> np.ndarray:
        w = self.w[fits]
        if not self.binary:
            return _deviance(self.family, self.y[fits], eta, w)
        out = 2.0 * np.einsum("ir,ir->i", w, np.log1p(np.exp(np.minimum(eta, 30.0))))
        clamped = np.flatnonzero(np.maximum(eta.max(axis=1), -eta.min(axis=1)) > 30.0)
        if clamped.size:  # R's clamps bite: its own formula
            at = fits[clamped]
            out[clamped] = _deviance("binomial", self.y[at], eta[clamped] * self.flip[at], w[clamped])
        return out

    def central_differences(self, fits: np.ndarray, pars: np.ndarray, h: float = 1e-3) -> np.ndarray:
        """R's numeric gradient, (f(θ + h eᵢ) − f(θ − h eᵢ)) / 2h for each i, at each fit's θ,
        as its 2·len(θ) probes would give it, without evaluating them (``taylor_differences``).

        A β probe moves s·η by ±h times its column; a β₁ or p_j probe by a column K times a
        scalar t± — for p_j, w = p²/Σp² gives δ± = β₁ a± (q_j − index)/(Σp² + a±) with
        a± = (p_j ± h)² − p_j². For a Gaussian outcome two terms are exact; for a binary one
        the probes that move s·η by more than ``taylor.REACH`` somewhere, and every probe of a
        fit that R's clamps could reach, are evaluated as they are — as are all probes of a
        binomial outcome that is not 0/1.
        """
        if not (self.binary or self.family == "gaussian"):
            return self._probed(fits, pars, np.ones((len(fits), pars.shape[1]), dtype=bool), h)
        kx = self.kx
        eta, index, b1, total = self._predictor(fits, pars)
        p = pars[:, kx:]
        a_plus, a_minus = (2.0 * h) * p + h * h, (-2.0 * h) * p + h * h
        t_plus, t_minus = np.empty((len(fits), p.shape[1] + 1)), np.empty((len(fits), p.shape[1] + 1))
        if self.constrained_sign == 0.0:
            t_plus[:, 0], t_minus[:, 0] = h, -h
        else:
            t_plus[:, 0] = self.constrained_sign * np.abs(pars[:, 1] + h) - b1
            t_minus[:, 0] = self.constrained_sign * np.abs(pars[:, 1] - h) - b1
        np.divide(a_plus, total[:, None] + a_plus, out=t_plus[:, 1:])
        np.divide(a_minus, total[:, None] + a_minus, out=t_minus[:, 1:])
        k = np.empty((*eta.shape, p.shape[1] + 1))
        k[:, :, 0] = index
        np.subtract(self.q[fits], index[:, :, None], out=k[:, :, 1:])
        k[:, :, 1:] *= b1[:, None, None]
        exact = np.zeros((len(fits), pars.shape[1]), dtype=bool)  # the probes to evaluate as they are
        if self.family == "gaussian":  # (y − η − δ)²: L' = −2(y − η), L''/2 = 1, nothing further
            derivatives = np.stack([-2.0 * self.w[fits] * (self.y[fits] - eta), self.w[fits]])
            cov_powers = self.design[fits, :, : self.kc]  # one odd term: the columns themselves
        else:
            bound = np.empty_like(t_plus)
            bound[:, 0], bound[:, 1:] = self.index_reach, (np.abs(b1) * self.score_span)[:, None]
            k_reach = bound * np.maximum(np.abs(t_plus), np.abs(t_minus))
            cov_reach = self.cov_reach * h
            exact[:, self.beta_columns] = cov_reach > taylor.REACH
            exact[:, self.separable_columns] = k_reach > taylor.REACH
            clamps = (
                np.maximum(eta.max(axis=1), -eta.min(axis=1)) + max(k_reach.max(), cov_reach.max()) > 30.0
            )
            exact[clamps] = True
            e = np.exp(np.minimum(eta, 30.0))
            derivatives = taylor.scaled_derivatives(e / (1.0 + e), 2.0 * self.w[fits])
            cov_powers = self.cov_powers[fits]
        grad = np.empty_like(pars)
        grad[:, self.beta_columns] = taylor.linear_differences(derivatives, cov_powers, h)
        grad[:, self.separable_columns] = taylor.separable_differences(derivatives, k, t_plus, t_minus) / (
            2 * h
        )
        if exact.any():
            grad[exact] = self._probed(fits, pars, exact, h)[exact]
        return grad

    def _probed(self, fits: np.ndarray, pars: np.ndarray, which: np.ndarray, h: float) -> np.ndarray:
        """R's central differences by evaluating the probes, for the (fit, coordinate) pairs
        marked in ``which``, all in one call (other entries are left 0)."""
        fit_of, coordinate = np.nonzero(which)
        probes = np.repeat(pars[fit_of], 2, axis=0)
        probes[0::2][np.arange(len(fit_of)), coordinate] += h
        probes[1::2][np.arange(len(fit_of)), coordinate] -= h
        values = self.values(np.repeat(fits[fit_of], 2), probes)
        grad = np.zeros_like(pars)
        grad[fit_of, coordinate] = (values[0::2] - values[1::2]) / (2 * h)
        return grad


@dataclass
class Problem:
    """Everything a bootstrap fit needs (picklable for worker processes)."""

    y: np.ndarray
    covariates: np.ndarray  # model matrix without the wqs column: intercept first
    scores: np.ndarray
    weights: np.ndarray
    family: str
    positive: bool
    b_constrained: bool
    parameterisation: str  # "squared" (gWQS 3.x) | "constrained" (gWQS 1.x/2.x)
    initial: np.ndarray  # [intercept, wqs, covariates..., p_1..p_k]
    maxit: int = 2000
    reltol: float = 1e-9


def _design(cov: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Model matrix in gWQS's column order: intercept, wqs, the covariates."""
    return np.column_stack([cov[:, :1], index, cov[:, 1:]])


def _samples(problem: Problem, samples: list[np.ndarray]) -> list[Sample]:
    """(y, X, q, prior weights) of each bootstrap sample, rows in draw order."""

    def rows_of(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a[rows], dtype=np.float64)

    return [
        (
            rows_of(problem.y, rows),
            rows_of(problem.covariates, rows),
            rows_of(problem.scores, rows),
            rows_of(problem.weights, rows),
        )
        for rows in samples
    ]


# (fit, row) pairs run in lockstep at once: each costs ~1.3 KB across the objective's arrays (the
# design, the covariates' powers, a gradient's series; b = 100 at n = 362 peaked at 48 MB), so a
# group stays under ~300 MB whatever b and n are; at n ≈ 360 (the paper's training rows) a group
# still holds 550 bootstraps.
LOCKSTEP_ROWS = 200_000


def _squared_weights(problem: Problem, data: list[Sample]) -> list[tuple[np.ndarray, int]]:
    """Step 3 for gWQS 3.x's w = p²/Σp², the samples' BFGS fits in lockstep, a group at a time:
    (weights, convergence) per sample."""
    sign = 1.0 if problem.positive else -1.0
    group = max(1, LOCKSTEP_ROWS // max(len(sample[0]) for sample in data))
    found = []
    for start in range(0, len(data), group):
        objectives = _Objectives(
            problem.family, data[start : start + group], sign if problem.b_constrained else 0.0
        )
        starts = np.tile(problem.initial, (len(objectives.y), 1))
        fits = vmmin_many(
            objectives.values,
            objectives.central_differences,
            starts,
            maxit=problem.maxit,
            reltol=problem.reltol,
        )
        kx = objectives.kx
        found += [(fit.par[kx:] ** 2 / np.sum(fit.par[kx:] ** 2), fit.convergence) for fit in fits]
    return found


def _constrained_weights(problem: Problem, sample: Sample) -> tuple[np.ndarray, int]:
    """Step 3 for gWQS 1.x/2.x: weights in [0, 1] summing to 1, optimised directly (SLSQP)."""
    y, cov, q, wt = sample
    kx, k = cov.shape[1] + 1, q.shape[1]

    def direct(par: np.ndarray) -> float:
        beta, w = par[:kx], par[kx:]
        return float(_deviance(problem.family, y, _design(cov, q @ w) @ beta, wt))

    start = np.r_[problem.initial[:kx], np.full(k, 1.0 / k)]
    bounds: list[tuple[float | None, float | None]] = [(None, None)] * kx + [(0.0, 1.0)] * k
    if problem.b_constrained:
        bounds[1] = (0.0, None) if problem.positive else (None, 0.0)
    from scipy import optimize  # only gWQS 1.x/2.x's parameterisation needs it

    res = optimize.minimize(
        direct,
        start,
        method="SLSQP",
        bounds=bounds,
        constraints=[{"type": "eq", "fun": lambda par: np.sum(par[kx:]) - 1.0}],
        options={"maxiter": problem.maxit, "ftol": 1e-10},
    )
    weights = np.clip(res.x[kx:], 0, None)
    return weights / weights.sum(), 0 if res.success else 1


def _index_fit(problem: Problem, sample: Sample, weights: np.ndarray, convergence: int) -> dict:
    """Step 3's refit: the GLM with the index Σ w_j q_j, for β₁, its SE, statistic and p."""
    y, cov, q, wt = sample
    names = ["(Intercept)", "wqs"] + [f"x{i}" for i in range(1, cov.shape[1])]
    fit = _glm(y, _design(cov, q @ weights), names, problem.family, wt)
    return {
        "weights": weights,
        "b1": fit.coef[1],
        "se": fit.se[1],
        "stat": fit.stat[1],
        "p": fit.p[1],
        "convergence": convergence,
        "warnings": "; ".join(fit.warnings),
    }


def _run_chunk(args: tuple[Problem, list[np.ndarray]]) -> list[dict]:
    """Step 3 for a slice of the bootstrap samples (one worker's share)."""
    problem, samples = args
    data = _samples(problem, samples)
    if problem.parameterisation == "squared":
        found = _squared_weights(problem, data)
    else:
        found = [_constrained_weights(problem, sample) for sample in data]
    return [_index_fit(problem, sample, w, c) for sample, (w, c) in zip(data, found, strict=True)]


@dataclass
class WqsResult:
    """A WQS fit as arrays; ``weights``, ``bootstrap``, ``final`` and ``index`` are the same
    figures as pandas objects, built (and pandas imported) only when asked for."""

    components: list[str]
    weight_values: np.ndarray  # the averaged weights, in ``components``' order
    boot: Columns  # one row per bootstrap fit: boot, the weights, b1, se, stat, p, convergence, warnings
    final_table: Columns  # the validation-set GLM: term, estimate, std_error, statistic, p_value, ci_…
    index_values: np.ndarray  # the WQS index of every complete row
    labels: np.ndarray | pd.Index  # those rows' labels: the DataFrame's index, or row positions
    validation: np.ndarray
    cutpoints: dict[str, np.ndarray]
    direction: str
    family: str
    warnings: list[str] = field(default_factory=list)  # the final model's numerical warnings

    @cached_property
    def weights(self) -> pd.Series:
        import pandas as pd

        return pd.Series(self.weight_values, index=self.components)

    @cached_property
    def bootstrap(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.boot)

    @cached_property
    def final(self) -> pd.DataFrame:
        """The coefficients of the validation-set GLM."""
        import pandas as pd

        return pd.DataFrame(self.final_table)

    @cached_property
    def index(self) -> pd.Series:
        import pandas as pd

        return pd.Series(self.index_values, index=self.labels)

    @property
    def effect(self) -> dict[str, float]:
        """The final model's row of the index (``wqs``): estimate, std_error, statistic, …"""
        row = list(self.final_table["term"]).index("wqs")
        return {k: float(v[row]) for k, v in self.final_table.items() if k != "term"}

    @property
    def mixture_effect(self) -> pd.Series:
        return self.final.set_index("term").loc["wqs"]


def average_weights(boot: Table, components: list[str], positive: bool, signal: str) -> np.ndarray:
    """Step 4: the weights of converged fits with β₁ of the chosen sign, weighted by signal(stat)."""
    b1 = np.asarray(boot["b1"], dtype=float)
    keep = ((b1 > 0) if positive else (b1 < 0)) & (np.asarray(boot["convergence"]) == 0)
    if not keep.any():
        direction = "positive" if positive else "negative"
        raise WqsError(
            f"no bootstrap fit has a {direction} mixture coefficient (b1), so no {direction} weights can be "
            f"averaged; constrain the coefficient's sign with --b-constrained (b1_constr = TRUE in gWQS)"
        )
    s = SIGNALS[signal](np.asarray(boot["stat"], dtype=float)[keep])
    drawn = np.vstack([np.asarray(boot[c], dtype=float)[keep] for c in components])  # component × fit
    return drawn @ s / s.sum()


def replay_rows(
    ids: pd.Series,
    split: pd.DataFrame | None = None,
    bootstrap: pd.DataFrame | None = None,
    names: tuple[str, str] = ("the split", "the bootstrap samples"),
) -> tuple[np.ndarray | None, list[np.ndarray] | None]:
    """Rows of another run: ``split`` has columns id, validation (TRUE/FALSE); ``bootstrap`` has
    boot, draw, id (the id drawn at position ``draw`` of bootstrap ``boot``); ``names`` say
    where they came from, for the errors. Returns the validation mask and, per bootstrap,
    the row positions in draw order."""
    for table, columns, name in (
        (split, ("id", "validation"), names[0]),
        (bootstrap, ("boot", "draw", "id"), names[1]),
    ):
        if table is not None and not set(columns) <= set(table.columns):
            raise WqsError(
                f"{name}: expected columns {', '.join(columns)}, found {', '.join(map(str, table.columns))}"
            )
    validation_rows = bootstrap_rows = None
    if split is not None:
        flags = dict(zip(split["id"], split["validation"].astype(str).str.upper() == "TRUE", strict=True))
        missing = [i for i in ids if i not in flags]
        if missing:
            raise WqsError(f"{names[0]}: no validation flag for id(s) {missing[:5]}")
        validation_rows = ids.map(flags).to_numpy(dtype=bool)
    if bootstrap is not None:
        position = {value: k for k, value in enumerate(ids)}
        unknown = set(bootstrap["id"]) - set(position)
        if unknown:
            raise WqsError(f"{names[1]}: id(s) not in the data: {sorted(unknown)[:5]}")
        ordered = bootstrap.sort_values(["boot", "draw"])
        bootstrap_rows = [g["id"].map(position).to_numpy() for _, g in ordered.groupby("boot")]
    return validation_rows, bootstrap_rows


def _complete_rows(
    data: Columns,
    columns: list[str],
    weights: np.ndarray | None,
    validation_rows: np.ndarray | None,
    bootstrap_rows: list[np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, list[np.ndarray] | None]:
    """The complete rows of ``data``, and the per-row inputs given for ``data`` carried over
    to them: weights and validation flags subset, bootstrap positions renumbered."""
    complete, weights = complete_rows(data, columns, weights, WqsError)
    if validation_rows is not None and len(validation_rows) != len(complete):
        raise WqsError(
            f"validation_rows has {len(validation_rows)} values for {len(complete)} rows of the data"
        )
    if validation_rows is not None:
        validation_rows = np.asarray(validation_rows, dtype=bool)[complete]
    if bootstrap_rows is not None:
        renumber = np.cumsum(complete) - 1
        moved = []
        for rows in bootstrap_rows:
            rows = np.asarray(rows, dtype=int)
            if not complete[rows].all():
                raise WqsError("a bootstrap sample draws a row with a missing value (dropped before fitting)")
            moved.append(renumber[rows])
        bootstrap_rows = moved
    return complete, weights, validation_rows, bootstrap_rows


def fit_wqs(
    data: Table,
    outcome: str,
    mixture: list[str],
    covariates: list[str] | None = None,
    *,
    family: str = "binomial",
    q: int = 4,
    validation: float = 0.6,
    b: int = 100,
    direction: str = "positive",
    signal: str = "t2",
    b_constrained: bool = False,
    parameterisation: str = "squared",
    seed: int | None = None,
    validation_rows: np.ndarray | None = None,
    bootstrap_rows: list[np.ndarray] | None = None,
    weights: np.ndarray | None = None,
    n_jobs: int | None = None,
    split: str = "bernoulli",
) -> WqsResult:
    """Fit WQS. ``validation_rows`` (bool per row) and ``bootstrap_rows`` (row positions, all in
    the training rows, one array per bootstrap, in draw order) replay another run exactly;
    ``weights`` are gWQS's ``weights`` (prior weights of every GLM, e.g. survey weights).
    All three are indexed like ``data``: rows with a missing value in any model column (or
    weight) are dropped first (as gWQS's na.omit) and they are realigned to the rows kept.
    ``data`` is a DataFrame or ``Columns`` (``frames``: a CSV's columns as arrays, no pandas).
    ``split``: ``bernoulli`` (gWQS 3.x) or ``fixed`` (gWQS 1.x/2.x), when no rows are given."""
    covariates = covariates or []
    if split not in ("bernoulli", "fixed"):
        raise WqsError(f"split must be bernoulli or fixed, got {split!r}")
    if family not in ("binomial", "gaussian"):
        raise WqsError(f"family must be binomial or gaussian, got {family!r}")
    if signal not in SIGNALS:
        raise WqsError(f"signal must be one of {sorted(SIGNALS)}, got {signal!r}")
    if direction not in ("positive", "negative"):
        raise WqsError(f"direction must be positive or negative, got {direction!r}")
    missing = [c for c in [outcome, *mixture, *covariates] if c not in data]
    if missing:
        raise WqsError(f"column(s) {', '.join(missing)} not in the data")
    used = list(dict.fromkeys([outcome, *mixture, *covariates]))
    columns = columns_of(data, used)
    labels = getattr(data, "index", None)
    complete, weights, validation_rows, bootstrap_rows = _complete_rows(
        columns, used, weights, validation_rows, bootstrap_rows
    )
    frame = take_rows(columns, complete)
    n = n_rows(frame)
    y = np.asarray(frame[outcome], dtype=float)
    scores, cuts = quantile_scores({m: frame[m] for m in mixture}, q)
    cov, cov_names = model_matrix(frame, covariates)
    wt = np.ones(n) if weights is None else weights
    rng = np.random.default_rng(seed)
    if validation_rows is None:
        validation_rows = np.zeros(n, dtype=bool)
        if validation > 0 and split == "bernoulli":
            validation_rows = rng.random(n) < validation
        elif validation > 0:
            validation_rows[rng.choice(n, round(n * validation), replace=False)] = True
    validation_rows = np.asarray(validation_rows, dtype=bool)
    train = np.flatnonzero(~validation_rows)
    valid = np.flatnonzero(validation_rows) if validation_rows.any() else train
    if bootstrap_rows is None:
        bootstrap_rows = (
            [train] if b == 1 else [train[rng.integers(0, len(train), len(train))] for _ in range(b)]
        )
    elif any(validation_rows[np.asarray(rows, dtype=int)].any() for rows in bootstrap_rows):
        raise WqsError(
            "a bootstrap sample draws a validation row: bootstrap samples come from the training rows"
        )
    # initial values: the GLM on the covariates (the wqs column is 0, so aliased), all rows
    start_fit = _glm(y, cov, cov_names, family, wt)
    positive = direction == "positive"
    k = len(mixture)
    initial = np.r_[
        start_fit.coef[0], 1e-4 if positive else -1e-4, start_fit.coef[1:], np.full(k, np.sqrt(1.0 / k))
    ]
    problem = Problem(y, cov, scores, wt, family, positive, b_constrained, parameterisation, initial)
    samples = [np.asarray(rows, dtype=int) for rows in bootstrap_rows]
    # one slice per worker: a slice's fits run in lockstep, so the fewer slices the fewer numpy calls
    fits = map_in_slices(_run_chunk, problem, samples, workers_for(len(samples), n_jobs), slices_per_worker=1)
    drawn = np.array([f["weights"] for f in fits], dtype=float).reshape(len(fits), k)
    boot: Columns = {"boot": np.arange(1, len(fits) + 1)}
    boot |= {name: drawn[:, j] for j, name in enumerate(mixture)}
    boot |= {key: np.array([f[key] for f in fits]) for key in ("b1", "se", "stat", "p", "convergence")}
    boot["warnings"] = np.array([f["warnings"] for f in fits], dtype=object)
    mean_weights = average_weights(boot, mixture, positive, signal)
    index = scores @ mean_weights
    final = _glm(
        y[valid], _design(cov[valid], index[valid]), ["(Intercept)", "wqs", *cov_names[1:]], family, wt[valid]
    )
    z = normal_quantile(0.975)
    table: Columns = {
        "term": np.array(final.names, dtype=object),
        "estimate": final.coef,
        "std_error": final.se,
        "statistic": final.stat,
        "p_value": final.p,
        "ci_low": final.coef - z * final.se,
        "ci_high": final.coef + z * final.se,
    }
    if family == "binomial":
        table["odds_ratio"] = np.exp(table["estimate"])
        table["or_ci_low"] = np.exp(table["ci_low"])
        table["or_ci_high"] = np.exp(table["ci_high"])
    return WqsResult(
        list(mixture),
        mean_weights,
        boot,
        table,
        index,
        np.flatnonzero(complete) if labels is None else labels[complete],
        validation_rows,
        cuts,
        direction,
        family,
        final.warnings,
    )


def write_result(
    result: WqsResult,
    out: Path,
    *,
    direction: str,
    family: str,
    q: int,
    signal: str,
    b_constrained: bool,
    split: str = "bernoulli",
    weights: str | None = None,
) -> dict:
    """weights.csv, bootstrap.csv, final_model.csv and summary.json in ``out`` (what
    ``nhanes-bone wqs`` writes); returns the summary."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    write_csv(
        {"component": np.array(result.components, dtype=object), "weight": result.weight_values},
        out / "weights.csv",
    )
    write_csv(result.boot, out / "bootstrap.csv")
    write_csv(result.final_table, out / "final_model.csv")
    b1 = result.boot["b1"]
    summary = {
        "direction": direction,
        "family": family,
        "q": q,
        "b": len(b1),
        "signal": signal,
        "b_constrained": b_constrained,
        "split": split,
        "survey_weights": weights,
        "n": len(result.validation),
        "n_validation": int(result.validation.sum()),
        "weights": dict(zip(result.components, result.weight_values.tolist(), strict=True)),
        "wqs": result.effect,
        "warnings": result.warnings,
        "bootstraps_with_warnings": int((result.boot["warnings"] != "").sum()),
        "bootstraps_with_chosen_sign": int(((b1 > 0) if direction == "positive" else (b1 < 0)).sum()),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


@dataclass
class RepeatedHoldout:
    """gWQS's repeated holdout (``rh``; Tanner et al. 2019): the whole fit repeated on ``rh``
    random training/validation splits. The mixture effect is the mean of the validated β₁'s
    with the 2.5th and 97.5th percentiles as its 95% interval; the weights are the means of
    the repeats' weights, with their percentile intervals."""

    repeats: pd.DataFrame  # one row per repeat: b1, se, p, and the weights (NaN where it failed)
    mixture: list[str]
    family: str
    direction: str

    @property
    def completed(self) -> pd.DataFrame:
        return self.repeats[self.repeats.b1.notna()]

    @property
    def weights(self) -> pd.DataFrame:
        import pandas as pd

        done = self.completed[self.mixture]
        return pd.DataFrame(
            {
                "component": self.mixture,
                "weight": done.mean().to_numpy(),
                "ci_low": done.quantile(0.025).to_numpy(),
                "ci_high": done.quantile(0.975).to_numpy(),
            }
        )

    @property
    def mixture_effect(self) -> dict:
        b1 = self.completed.b1
        row = {
            "repeats": int(len(self.repeats)),
            "repeats_completed": int(len(b1)),
            "estimate": float(b1.mean()),
            "ci_low": float(b1.quantile(0.025)),
            "ci_high": float(b1.quantile(0.975)),
            "share_with_p_below_0_05": float((self.completed.p < 0.05).mean()),
        }
        if self.family == "binomial":
            row |= {
                f"or_{k}" if k != "estimate" else "odds_ratio": float(np.exp(row[k]))
                for k in ("estimate", "ci_low", "ci_high")
            }
        return row


def _one_repeat(args: tuple) -> dict:
    data, outcome, mixture, covariates, seed, options = args
    try:
        fit = fit_wqs(data, outcome, mixture, covariates, seed=seed, n_jobs=1, **options)
    except WqsError as exc:
        return {"seed": seed, "b1": np.nan, "se": np.nan, "p": np.nan, "note": str(exc)[:200]}
    effect = fit.mixture_effect
    return {
        "seed": seed,
        "b1": float(effect.estimate),
        "se": float(effect.std_error),
        "p": float(effect.p_value),
        "n_validation": int(fit.validation.sum()),
        **fit.weights.to_dict(),
        "note": "",
    }


def repeated_holdout(
    data: pd.DataFrame,
    outcome: str,
    mixture: list[str],
    covariates: list[str] | None = None,
    *,
    rh: int = 100,
    seed: int | None = None,
    n_jobs: int | None = None,
    **options,
) -> RepeatedHoldout:
    """``fit_wqs`` on ``rh`` splits, each seeded from ``seed`` (numpy's SeedSequence), the
    repeats spread over ``n_jobs`` processes (each repeat's bootstraps in its own process);
    ``options`` are fit_wqs's (b, q, validation, direction, signal, family, …)."""
    import pandas as pd

    if rh < 2:
        raise WqsError(f"repeated holdout needs rh >= 2 repeats, got {rh}")
    if options.get("validation", 0.6) <= 0:
        raise WqsError("repeated holdout needs a validation share above 0 (each repeat holds rows out)")
    for fixed in ("validation_rows", "bootstrap_rows"):
        if options.get(fixed) is not None:
            raise WqsError(f"repeated holdout draws its own splits: {fixed} cannot be given")
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(rh)]
    jobs = [(data, outcome, mixture, covariates, s, options) for s in seeds]
    results = parallel_map(_one_repeat, jobs, workers_for(rh, n_jobs))
    repeats = pd.DataFrame(results)
    for name in mixture:
        if name not in repeats:
            repeats[name] = np.nan
    repeats.insert(0, "repeat", np.arange(1, rh + 1))
    if repeats.b1.isna().all():
        raise WqsError(f"no repeat of the {rh} could be fitted: {repeats.note.iloc[0]}")
    return RepeatedHoldout(
        repeats, list(mixture), options.get("family", "binomial"), options.get("direction", "positive")
    )


def write_repeated_holdout(result: RepeatedHoldout, out: Path, **settings) -> dict:
    """weights.csv (mean weight and percentile interval), repeats.csv and summary.json in
    ``out`` — what ``nhanes-bone wqs --rh N`` writes; ``settings`` go into the summary."""
    import json

    out.mkdir(parents=True, exist_ok=True)
    result.weights.to_csv(out / "weights.csv", index=False)
    result.repeats.to_csv(out / "repeats.csv", index=False)
    summary = {
        **settings,
        "direction": result.direction,
        "family": result.family,
        "weights": dict(zip(result.weights.component, result.weights.weight, strict=True)),
        "wqs": result.mixture_effect,
        "failed_repeats": [note for note in result.repeats.note if note],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
