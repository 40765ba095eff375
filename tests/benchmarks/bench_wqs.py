"""WQS wall time, as the issue measures it: three `nhanes-bone wqs` runs (b = 100, n = 905, 5
exposures, 8 covariates, binomial), start-up and imports included, against gWQS 3.0.5's
recorded 99.7 s for the same three runs on this kind of machine (R is not installable with
gWQS here, so the anchor is the recorded number, not one measured in this run); and the
in-process fit, one process and all cores.

Prints every figure as a ratio against its anchor and adds them to bench/results.json.
Asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from results import save

from analysis.methods.wqs import fit_wqs, quantile_scores
from analysis.report.benchmarks import goal_text

GWQS_THREE_RUNS_S = 99.7  # gWQS 3.0.5, three runs of b = 100 at n = 905 (issue 19's measurement)


def frame() -> tuple[pd.DataFrame, list[str], list[str]]:
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
    data = pd.concat([mix, covs], axis=1).assign(y=(rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int))
    return data, list(mix.columns), list(covs.columns)


def main() -> None:
    data, mixture, covariates = frame()
    figures: dict = {}
    cli = Path(sys.executable).with_name("nhanes-bone")
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "wqs.csv"
        data.to_csv(csv, index=False)
        start = time.perf_counter()
        for seed in (1, 2, 3):
            subprocess.run(
                [
                    str(cli),
                    "wqs",
                    "--data",
                    str(csv),
                    "--outcome",
                    "y",
                    "--mixture",
                    ",".join(mixture),
                    "--covariates",
                    ",".join(covariates),
                    "--b",
                    "100",
                    "--seed",
                    str(seed),
                    "--out",
                    f"{tmp}/out{seed}",
                ],
                check=True,
                capture_output=True,
            )
        three = time.perf_counter() - start
    figures["wqs_cli_three_runs_s"] = three
    figures["wqs_cli_speedup_vs_gwqs_recorded"] = GWQS_THREE_RUNS_S / three
    print(
        f"wqs: three `nhanes-bone wqs` runs (b=100, n=905), start-up included: {three:.2f} s = "
        f"{GWQS_THREE_RUNS_S / three:.1f}x gWQS's recorded {GWQS_THREE_RUNS_S} s (goal {goal_text('wqs', 'gWQS')})"
    )
    for jobs in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        fit_wqs(data, "y", mixture, covariates, b=100, seed=3, n_jobs=jobs)
        elapsed = time.perf_counter() - start
        figures[f"wqs_in_process_{jobs}_jobs_s"] = elapsed
        print(
            f"wqs in-process b=100, {jobs} process(es): {elapsed:.2f} s "
            f"({GWQS_THREE_RUNS_S / 3 / elapsed:.0f}x gWQS's recorded {GWQS_THREE_RUNS_S / 3:.1f} s per run)"
        )
    save("wqs", {"anchor": "gWQS 3.0.5 recorded, 99.7 s for three runs", **figures})


if __name__ == "__main__":
    main()
