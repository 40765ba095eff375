"""Two-sided p-values and normal quantiles for the estimators' commands, without scipy's import.

``scipy.special`` costs about 0.2 s to import — a third of a WQS command's budget — for three
scalar functions. The normal tail is the standard library's ``math.erfc`` (correct to a few
ulp across the range, as scipy's ``ndtr``); the normal quantile is ``statistics.NormalDist``.
Only Student's t (the gaussian family's p-values) still needs scipy, imported when asked.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_SQRT2 = math.sqrt(2.0)
_TWO_SIDED_Z = np.frompyfunc(lambda z: math.erfc(z / _SQRT2), 1, 1)  # 2·P(Z > z), elementwise


def two_sided_p(stat: np.ndarray | float, df: float | None = None) -> np.ndarray:
    """2·P(Z > |stat|) (``df`` None: z tests, as summary.glm for binomial) or 2·P(T_df > |stat|)
    (t tests on ``df`` residual degrees of freedom, as summary.glm for gaussian)."""
    stat = np.abs(np.asarray(stat, dtype=float))
    if df is not None:
        from scipy.special import stdtr

        return 2.0 * stdtr(df, -stat)
    return np.asarray(_TWO_SIDED_Z(stat), dtype=float)


def normal_quantile(p: float) -> float:
    """Φ⁻¹(p), e.g. 1.959964 for p = 0.975 (R's ``qnorm``)."""
    return NormalDist().inv_cdf(p)
