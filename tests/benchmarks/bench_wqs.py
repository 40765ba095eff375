"""WQS wall time: b = 100 on n ≈ 900 with 5 exposures and 8 covariates (binomial), all cores.

Prints figures; asserts nothing. gWQS 3.0.x takes 13-33 s per direction for this on these
machines (the issue's measurement); the target is at least 10x faster.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from analysis.methods.wqs import fit_wqs, quantile_scores


def main() -> None:
    rng = np.random.default_rng(1)
    n = 905
    mix = pd.DataFrame(rng.lognormal(size=(n, 5)), columns=["pb", "cd", "hg", "se", "mn"])
    covs = pd.DataFrame(rng.normal(size=(n, 8)), columns=[f"c{i}" for i in range(8)])
    scores, _ = quantile_scores(mix, 4)
    eta = (
        -1.5
        + 0.8 * scores @ np.array([0.1, 0.6, 0.0, 0.3, 0.0])
        + covs.to_numpy() @ np.linspace(-0.2, 0.2, 8)
    )
    frame = pd.concat([mix, covs], axis=1).assign(y=(rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int))
    for direction in ("positive", "negative"):
        for jobs in (1, os.cpu_count() or 1):
            start = time.perf_counter()
            fit_wqs(
                frame,
                "y",
                list(mix.columns),
                list(covs.columns),
                b=100,
                seed=3,
                direction=direction,
                b_constrained=direction == "negative",
                n_jobs=jobs,
            )
            elapsed = time.perf_counter() - start
            print(
                f"wqs b=100 n={n} 5 exposures 8 covariates, {direction:<8} {jobs} process(es): {elapsed:5.2f} s "
                f"({13 / elapsed:.0f}-{33 / elapsed:.0f}x gWQS's 13-33 s)"
            )


if __name__ == "__main__":
    main()
