"""Central differences of Σ w·log(1 + exp(z)) without evaluating the probes, by Taylor series.

R's ``optim`` without a gradient takes (f(θ + h eᵢ) − f(θ − h eᵢ)) / 2h for every coordinate
of θ (h = ``ndeps`` = 1e-3). gWQS fits are replayed step for step, so that difference — not
the analytic derivative — is what the optimiser must see; computing it through 2·len(θ)
probes costs an exp and a log1p per row and probe, and was most of a WQS bootstrap's time.

When a probe moves the linear predictor by δ (small), L(z + δ) = Σₘ L⁽ᵐ⁾(z) δᵐ / m!, where
L(z) = log(1 + eᶻ) and every L⁽ᵐ⁾ is a polynomial in μ = 1/(1 + e⁻ᶻ): one exp per row for
all probes. Two shapes of probe cover a WQS parameter vector:

- *linear*: δ = ±h·c for a fixed column c (intercept, covariates): odd terms only, and the
  powers cᵐ are fixed for a bootstrap sample;
- *separable*: δ± = K·t± for a column K and two scalars t± (the mixture coefficient and the
  weights' p_j, whose probes move the index nonlinearly but in this product form).

With |δ| ≤ ``REACH`` and ``TERMS`` terms, what is left out (max |L⁽⁹⁾|/9! = 6.6e-6 times
δ⁹, over 2h) is below 1e-14 of a row's weight: under the rounding noise of R's own
differences, about ε·|f| / h. Columns that reach further are left to the caller to evaluate
exactly.
"""

from __future__ import annotations

from functools import cache
from math import factorial

import numpy as np
from numpy.polynomial import polynomial as P

TERMS = 8
REACH = 0.05


@cache
def _derivative_coefficients() -> np.ndarray:
    """Row m−1 holds the coefficients in μ⁰, μ¹, … of L⁽ᵐ⁾ / m!: L' = μ and
    d/dz p(μ) = p'(μ)·μ(1 − μ)."""
    polys = [np.array([0.0, 1.0])]
    for _ in range(TERMS - 1):
        polys.append(P.polymul(P.polyder(polys[-1]), [0.0, 1.0, -1.0]))
    table = np.zeros((TERMS, TERMS + 1))
    for m, poly in enumerate(polys, start=1):
        table[m - 1, : len(poly)] = poly / factorial(m)
    table.flags.writeable = False
    return table


def _powers(base: np.ndarray, count: int, first: np.ndarray | None = None) -> np.ndarray:
    """base¹ … base^count stacked on a new first axis (after ``first``, when given, as row 0)."""
    offset = 0 if first is None else 1
    out = np.empty((count + offset, *base.shape))
    if first is not None:
        out[0] = first
    out[offset] = base
    for m in range(offset + 1, count + offset):
        np.multiply(out[m - 1], base, out=out[m])
    return out


def scaled_derivatives(mu: np.ndarray, w: np.ndarray) -> np.ndarray:
    """w·L⁽ᵐ⁾(z)/m! for m = 1…TERMS on a new first axis, from ``mu`` = 1/(1 + e⁻ᶻ) (any shape)."""
    powers = _powers(mu, TERMS, first=np.ones_like(mu))  # μ⁰ … μ^TERMS
    table = _derivative_coefficients()
    return (table @ powers.reshape(TERMS + 1, -1)).reshape(TERMS, *mu.shape) * w


def odd_powers(columns: np.ndarray) -> np.ndarray:
    """cᵐ for the odd m ≤ TERMS, one block of rows per m (axis −2 grows TERMS/2 times), for
    ``linear_differences``: fixed per data set, made once."""
    square = columns * columns
    powers = [columns]
    for _ in range(3, TERMS + 1, 2):  # by products, not **: pow is several times slower
        powers.append(powers[-1] * square)
    return np.concatenate(powers, axis=-2)


def linear_differences(derivatives: np.ndarray, powers: np.ndarray, h: float) -> np.ndarray:
    """Σ_r [L(z_r + h c_r) − L(z_r − h c_r)]·w_r / 2h for each column c: over odd m,
    Σ_r D_mr h^(m−1) c_rᵐ. ``derivatives`` is (terms, fits, rows), from ``scaled_derivatives``
    or an exact expansion with fewer terms; ``powers`` (fits, blocks·rows, columns) from
    ``odd_powers``. Returns (fits, columns)."""
    terms, fits, rows = derivatives.shape
    odd = np.arange(0, terms, 2)
    scaled = derivatives[odd] * (h ** odd.astype(float))[:, None, None]  # D_mr·h^(m−1), m = 1, 3, …
    flat = scaled.transpose(1, 0, 2).reshape(fits, 1, len(odd) * rows)
    return np.matmul(flat, powers[:, : len(odd) * rows])[:, 0]


def separable_differences(
    derivatives: np.ndarray, k: np.ndarray, t_plus: np.ndarray, t_minus: np.ndarray
) -> np.ndarray:
    """Σ_r [L(z_r + K_ri t⁺_i) − L(z_r + K_ri t⁻_i)]·w_r for each fit and column i of K:
    ``derivatives`` (terms, fits, rows), ``k`` (fits, rows, columns), ``t_plus`` and ``t_minus``
    (fits, columns). Returns (fits, columns)."""
    terms = derivatives.shape[0]
    sums = np.matmul(derivatives[:, :, None, :], _powers(k, terms))[:, :, 0]  # Σ_r D_mr K_riᵐ
    return np.sum(sums * (_powers(t_plus, terms) - _powers(t_minus, terms)), axis=0)
