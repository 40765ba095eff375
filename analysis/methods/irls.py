"""Iteratively reweighted least squares for the logistic and the linear model with prior
weights — R's ``glm.fit`` for the two families the mixture methods fit thousands of times
(WQS's bootstrap refits, qgcomp's resamples), without statsmodels' import cost (about two
seconds of a command's start-up) or its per-fit overhead."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass
class Glm:
    coef: np.ndarray
    cov: np.ndarray  # scaled covariance (dispersion × (XᵀWX)⁻¹), as R's summary.glm
    converged: bool
    df_residual: int


def expit(eta: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * eta))  # no overflow for large |η|


def fit_glm(
    y: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    family: str,
    start: np.ndarray | None = None,
    covariance: bool = True,
    tol: float = 1e-10,
    max_iterations: int = 100,
) -> Glm:
    """IRLS for the logistic and the linear model with prior weights ``w`` (R's ``weights``)."""
    n_used = int(np.count_nonzero(w > 0))
    p = x.shape[1]
    if family == "gaussian":
        xtw = x.T * w
        xtwx = xtw @ x
        coef = np.linalg.solve(xtwx, xtw @ y)
        if not covariance:
            return Glm(coef, np.empty((0, 0)), True, n_used - p)
        resid = y - x @ coef
        dispersion = float(w @ resid**2) / max(n_used - p, 1)
        return Glm(coef, dispersion * np.linalg.inv(xtwx), True, n_used - p)
    coef = np.zeros(p) if start is None else np.array(start, dtype=float)
    deviance_old = math.inf
    converged = False
    for _ in range(max_iterations):
        eta = x @ coef
        mu = expit(eta)
        var = np.clip(mu * (1 - mu), 1e-12, None)
        z = eta + (y - mu) / var
        ww = w * var
        xtw = x.T * ww
        coef = np.linalg.solve(xtw @ x, xtw @ z)
        mu = expit(x @ coef)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = -2 * float(
                w @ (y * np.log(np.clip(mu, 1e-300, 1)) + (1 - y) * np.log(np.clip(1 - mu, 1e-300, 1)))
            )
        if abs(dev - deviance_old) / (abs(dev) + 0.1) < tol:
            converged = True
            break
        deviance_old = dev
    if not covariance:
        return Glm(coef, np.empty((0, 0)), converged, n_used - p)
    mu = expit(x @ coef)
    xtw = x.T * (w * mu * (1 - mu))
    return Glm(coef, np.linalg.inv(xtw @ x), converged, n_used - p)


def numerical_notes(caught: list[warnings.WarningMessage], prefix: str = "") -> list[str]:
    """Warnings caught around a fit as one line each ("Category: first line"), without repeats:
    what every method records on its result instead of printing or suppressing."""
    notes: list[str] = []
    for w in caught:
        text = f"{prefix}{w.category.__name__}: {(str(w.message).strip().splitlines() or [''])[0]}"
        if text not in notes:
            notes.append(text)
    return notes
