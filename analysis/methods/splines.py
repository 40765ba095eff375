"""Restricted cubic splines (Harrell's ``rcspline.eval``), their knots, and variance inflation
factors: the pieces of a dose–response and a multi-pollutant analysis.

A restricted (natural) cubic spline with k knots is cubic between knots and linear beyond
the outer two; it has k − 1 columns: x itself and k − 2 non-linear terms, so "no departure
from linearity" is the hypothesis that the k − 2 non-linear coefficients are 0.
"""

from __future__ import annotations

import numpy as np

# Harrell, Regression Modeling Strategies (2015), Table 2.3: knot quantiles by number of knots
KNOT_QUANTILES = {
    3: (0.10, 0.50, 0.90),
    4: (0.05, 0.35, 0.65, 0.95),
    5: (0.05, 0.275, 0.50, 0.725, 0.95),
}


def knots(x: np.ndarray, k: int) -> np.ndarray:
    """Harrell's default knots: the quantiles of Table 2.3 (R type-7 quantiles)."""
    if k not in KNOT_QUANTILES:
        raise ValueError(f"knots: {k} knots is not one of {sorted(KNOT_QUANTILES)}")
    return np.quantile(np.asarray(x, dtype=float), KNOT_QUANTILES[k], method="linear")


def rcs_basis(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The k − 2 non-linear columns of the restricted cubic spline with knots ``t`` (x itself is
    the first, linear column, left to the caller), normalised by (t_k − t_1)² as Hmisc's
    ``rcspline.eval(norm = 2)``:

        s_j(x) = [(x − t_j)₊³ − (x − t_{k−1})₊³ (t_k − t_j)/(t_k − t_{k−1})
                  + (x − t_k)₊³ (t_{k−1} − t_j)/(t_k − t_{k−1})] / (t_k − t_1)²
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    k = len(t)
    if k < 3:
        raise ValueError("a restricted cubic spline needs at least 3 knots")

    def cube(v: np.ndarray) -> np.ndarray:
        return np.clip(v, 0, None) ** 3

    tk, tk1 = t[-1], t[-2]
    columns = [
        (cube(x - t[j]) - cube(x - tk1) * (tk - t[j]) / (tk - tk1) + cube(x - tk) * (tk1 - t[j]) / (tk - tk1))
        / (tk - t[0]) ** 2
        for j in range(k - 2)
    ]
    return np.column_stack(columns)


def variance_inflation(x: np.ndarray) -> np.ndarray:
    """VIF of each column of ``x`` (no intercept column): 1 / (1 − R²_j) of column j on the
    others with an intercept — the diagonal of the inverse correlation matrix."""
    corr = np.corrcoef(np.asarray(x, dtype=float), rowvar=False)
    return np.diag(np.linalg.inv(np.atleast_2d(corr)))
